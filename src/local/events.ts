/**
 * Events for a local run (`scan`, `test`), one at a time: NDJSON files are streamed line by line (a
 * million events never sit in memory at once); other layouts (a JSON array, evtx_dump's objects back
 * to back) go through the ingest reader (src/cluster/docs-file.ts), which also converts raw evtx JSON
 * to the Winlogbeat shape. A document that does not parse is reported with its file and line, and
 * the others go on.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { readDocsFile, type DocsFormat } from "../cluster/docs-file.ts";
import { evtxToWinlogbeat, isEvtxEvent } from "../cluster/evtx.ts";
import { InputError } from "../util/errors.ts";

export interface LocalEvent {
  file: string;
  /** 1-based line where the event starts. */
  line: number;
  doc?: Record<string, unknown>;
  error?: string;
}

const CHUNK = 4 << 20;

function convert(value: unknown, format: DocsFormat): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
  if (format === "evtx-json" || (format === "auto" && isEvtxEvent(value))) return evtxToWinlogbeat(value);
  return value as Record<string, unknown>;
}

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
    if (!isNdjson(file)) {
      for (const e of readDocsFile(file, format)) yield { file, ...e };
      continue;
    }
    for (const { text, line } of lines(file)) {
      const t = line === 1 ? text.replace(/^\uFEFF/, "").trim() : text.trim();
      if (t === "") continue;
      try {
        yield { file, line, doc: convert(JSON.parse(t), format) };
      } catch (e) {
        yield { file, line, error: (e as Error).message.split("\n")[0]! };
      }
    }
  }
}
