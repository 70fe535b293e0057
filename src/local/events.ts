/**
 * Events for a local run (`scan`, `test`), one at a time, exactly as `ingest` sends them: NDJSON files
 * are streamed line by line (a million events never sit in memory at once) and native .evtx files
 * record by record (src/events/evtx/); other layouts (a JSON array, evtx_dump's objects back to back)
 * go through the ingest reader (src/events/docs-file.ts). Every document goes through ingest's parser
 * and conversion (`parseJson` + `entryOf`: raw evtx JSON to the Winlogbeat shape, a number a JavaScript
 * number cannot hold kept as its exact text, as the string ingest sends; `asSent`). A document that
 * does not parse is reported with its file and line, and the others go on.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { entryOf, readDocsFile, type DocEntry, type DocsFormat } from "../events/docs-file.ts";
import { evtxToWinlogbeat } from "../events/evtx-json.ts";
import { asSent, parseJson } from "../events/json-numbers.ts";
import { evtxDocEntry, evtxFileEntries, hasEvtxMagic } from "../events/evtx/index.ts";
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

const CHUNK = 4 << 20;

function open(file: string): number {
  try {
    if (statSync(file).isDirectory()) throw new InputError(file, "is a folder, not an events file");
    return openSync(file, "r");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(file, (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message);
  }
}

/** Lines of a file with their 1-based numbers, read in chunks. */
function* lines(file: string): Generator<{ text: string; line: number }> {
  const fd = open(file);
  const decoder = new TextDecoder("utf-8");
  const buf = Buffer.allocUnsafe(CHUNK);
  let rest = "";
  let line = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      const text = rest + (n > 0 ? decoder.decode(buf.subarray(0, n), { stream: true }) : decoder.decode());
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        yield { text: text.slice(start, nl), line: ++line };
        start = nl + 1;
      }
      rest = text.slice(start);
      if (n <= 0) break;
    }
    if (rest !== "") yield { text: rest, line: ++line };
  } finally {
    closeSync(fd);
  }
}

/** Whether the file starts with the .evtx magic ("ElfFile"). */
function isEvtx(file: string): boolean {
  const fd = open(file);
  try {
    const head = Buffer.alloc(8);
    return readSync(fd, head, 0, 8, 0) === 8 && hasEvtxMagic(head);
  } finally {
    closeSync(fd);
  }
}

/** An ingest entry as a local event: big numbers become the strings ingest sends. */
function local(file: string, e: DocEntry): LocalEvent {
  if (e.doc && e.warnings?.length) return { file, line: e.line, doc: asSent(e.doc), warnings: e.warnings };
  return e.doc ? { file, line: e.line, doc: e.doc } : { file, line: e.line, error: e.error ?? "unreadable" };
}

/** Whether the file's first non-empty line is a whole JSON object (then it is NDJSON). */
function isNdjson(file: string): boolean {
  for (const { text } of lines(file)) {
    const t = text.replace(/^\uFEFF/, "").trim();
    if (t === "") continue;
    try {
      const v = JSON.parse(t);
      return typeof v === "object" && v !== null && !Array.isArray(v);
    } catch {
      return false;
    }
  }
  return true;
}

/** Every event of `files`, in order. */
export function* readEvents(files: string[], format: DocsFormat = "auto"): Generator<LocalEvent> {
  for (const file of files) {
    if (isEvtx(file)) {
      // Record by record: a multi-gigabyte .evtx never sits in memory whole (docs-file reads it whole).
      for (const e of evtxFileEntries(file))
        yield local(
          file,
          evtxDocEntry(e, file, (raw) => evtxToWinlogbeat(raw)),
        );
      continue;
    }
    if (!isNdjson(file)) {
      for (const e of readDocsFile(file, format)) yield local(file, e);
      continue;
    }
    for (const { text, line } of lines(file)) {
      const t = line === 1 ? text.replace(/^\uFEFF/, "").trim() : text.trim();
      if (t === "") continue;
      let e: DocEntry;
      try {
        e = entryOf(line, parseJson(t), format);
      } catch (err) {
        e = { line, error: (err as Error).message.split("\n")[0]! };
      }
      yield local(file, e);
    }
  }
}
