/**
 * Native .evtx reading (no native addon). `readEvtxFile(path)` yields each record in evtx_dump's JSON
 * layout; `evtxEntries` / `evtxFileEntries` also yield the problems (corrupt chunk or record) in
 * order; `evtxDocEntries` is the hook src/events/docs-file.ts uses; `hasEvtxMagic` detects the format.
 */
export { evtxEntries, evtxFileEntries, readEvtxFile, type EvtxEntry, type EvtxRecord } from "./reader.ts";
export { evtxDocEntries, evtxDocEntry, type EvtxDocEntry } from "./docs.ts";
export { hasEvtxMagic } from "./header.ts";
