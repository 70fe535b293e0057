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
import { openEvents, parsed, type RawText } from "../events/stream.ts";
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
export function local(file: string, e: DocEntry): LocalEvent {
  if (e.doc && e.warnings?.length) return { file, line: e.line, doc: asSent(e.doc), warnings: e.warnings };
  return e.doc ? { file, line: e.line, doc: e.doc } : { file, line: e.line, error: e.error ?? "unreadable" };
}

/** Every event of `paths` (files, folders, globs), in order. */
export function* readEvents(paths: string[], format: DocsFormat = "auto"): Generator<LocalEvent> {
  const { files, missing } = expandInputs(paths);
  if (missing.length) throw new InputError(missing[0]!, "no such file, folder or matching glob");
  for (const file of files) for (const e of openEvents(file, format).entries) yield local(file, e);
}

/**
 * The events of `paths` as `readEvents` reads them, in batches of one file, NDJSON lines and JSON
 * array elements left as their text (`RawText`): `scan --workers` parses them in its workers
 * (`eventOf`), the main thread only splits the input. A batch ends at `events` units or `bytes` of text.
 */
export function* readEventBatches(
  paths: string[],
  format: DocsFormat,
  size: { events: number; bytes: number },
): Generator<EventBatch> {
  const { files, missing } = expandInputs(paths);
  if (missing.length) throw new InputError(missing[0]!, "no such file, folder or matching glob");
  for (const file of files) {
    let units: (LocalEvent | RawText)[] = [];
    let bytes = 0;
    for (const u of openEvents(file, format, undefined, { raw: true }).entries) {
      // An entry read here (evtx, JSON values) is made local here: its exact numbers are classes.
      if ("text" in u) {
        units.push(u);
        bytes += u.text.length;
      } else units.push(local(file, u));
      if (units.length >= size.events || bytes >= size.bytes) {
        yield { file, format, units };
        units = [];
        bytes = 0;
      }
    }
    if (units.length) yield { file, format, units };
  }
}

export interface EventBatch {
  file: string;
  format: DocsFormat;
  units: (LocalEvent | RawText)[];
}

/** A unit of a batch as the local event `readEvents` would have yielded. */
export function eventOf(batch: EventBatch, u: LocalEvent | RawText): LocalEvent {
  return "text" in u ? local(batch.file, parsed(u.text, u.line, batch.format)) : u;
}
