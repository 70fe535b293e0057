/**
 * Events for a local run (`scan`, `test`), one at a time, exactly as `ingest` sends them: files,
 * folders and globs (src/events/input-files.ts) read as streams (src/events/stream.ts: NDJSON line by
 * line, a JSON array element by element, .evtx record by record), so that memory stays bounded. Every
 * document goes through ingest's parser and conversion (raw evtx JSON to the Winlogbeat shape, a
 * number a JavaScript number cannot hold kept as its exact text, as the string ingest sends;
 * `asSent`), and is checked against what an index with default settings accepts (a document nested
 * deeper than index.mapping.depth.limit is reported, not scanned: ingest would not send it). A
 * document that does not parse is reported with its file and line, and the others go on.
 */
import type { DocEntry, DocsFormat } from "../events/docs-file.ts";
import { expandInputs } from "../events/input-files.ts";
import { asSent } from "../events/json-numbers.ts";
import { openEvents } from "../events/stream.ts";
import { InputError } from "../util/errors.ts";

export interface LocalEvent {
  file: string;
  /** 1-based line where the event starts. */
  line: number;
  doc?: Record<string, unknown>;
  error?: string;
  /** What was read differently from the file (numbers kept as their exact text), as ingest warns. */
  warnings?: string[];
}

/** An ingest entry as a local event: big numbers become the strings ingest sends. */
function local(file: string, e: DocEntry): LocalEvent {
  if (e.doc && e.warnings?.length) return { file, line: e.line, doc: asSent(e.doc), warnings: e.warnings };
  return e.doc ? { file, line: e.line, doc: e.doc } : { file, line: e.line, error: e.error ?? "unreadable" };
}

/** Every event of `paths` (files, folders, globs), in order. */
export function* readEvents(paths: string[], format: DocsFormat = "auto"): Generator<LocalEvent> {
  const { files, missing } = expandInputs(paths);
  if (missing.length) throw new InputError(missing[0]!, "no such file, folder or matching glob");
  for (const file of files) for (const e of openEvents(file, format).entries) yield local(file, e);
}
