/** Native .evtx reading (no native addon): see reader.ts for the entry points. */
export { evtxEntries, evtxFileEntries, readEvtxFile, type EvtxEntry, type EvtxRecord } from "./reader.ts";
export { hasEvtxMagic } from "./header.ts";
