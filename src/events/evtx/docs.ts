/**
 * An .evtx file as the document entries `ingest`, `pipeline simulate` and `scan` read
 * (src/events/docs-file.ts): one entry per record, `line` being the record's position in the file
 * (1-based), and one failed entry per corrupt chunk or record, its message naming the chunk and the
 * file offset (`evtxDocEntry`: the same for one entry, for readers that stream the file). `convert` turns a record (evtx_dump layout) into the document to index.
 */
import { evtxEntries, type EvtxEntry, type EvtxRecord } from "./reader.ts";

export interface EvtxDocEntry {
  line: number;
  doc?: Record<string, unknown>;
  error?: string;
}

export function evtxDocEntries(
  bytes: Uint8Array,
  file: string,
  convert: (record: EvtxRecord) => Record<string, unknown>,
): EvtxDocEntry[] {
  const out: EvtxDocEntry[] = [];
  for (const e of evtxEntries(bytes, file)) out.push(evtxDocEntry(e, file, convert));
  return out;
}

/** One record or problem (from `evtxEntries` or the streaming `evtxFileEntries`) as a document entry. */
export function evtxDocEntry(
  e: EvtxEntry,
  file: string,
  convert: (record: EvtxRecord) => Record<string, unknown>,
): EvtxDocEntry {
  if (e.error !== undefined) {
    // The caller prints the file name itself.
    const prefix = `${file}: `;
    return { line: e.index, error: e.error.startsWith(prefix) ? e.error.slice(prefix.length) : e.error };
  }
  try {
    return { line: e.index, doc: convert(e.record) };
  } catch (err) {
    return {
      line: e.index,
      error: `record ${e.recordId} at offset 0x${e.offset.toString(16)}: ${(err as Error).message}`,
    };
  }
}
