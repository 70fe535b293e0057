/**
 * Event files read as a stream, one document at a time, so that memory stays bounded whatever the
 * input size (issue 22.6): `ingest` and `scan` (through src/local/events.ts) both read here.
 *
 * - NDJSON (the first non-empty line is a whole JSON object): line by line, in 4 MiB chunks;
 * - a JSON array: element by element (`ArraySplitter`, which tracks brackets and strings across
 *   chunks);
 * - a native .evtx file: record by record (src/events/evtx/); from stdin it is read whole first (the
 *   reader needs to seek);
 * - JSON values back to back (evtx_dump's pretty-printed objects): read whole and split by
 *   docs-file.ts, whose resynchronisation after a broken value needs the text around it.
 *
 * Every document goes through `entryOf` (docs-file.ts): conversion of raw evtx JSON, exact numbers,
 * and the mapping limits (limits.ts) checked before anything walks it recursively. Lines are 1-based;
 * a broken document is one error entry and the others go on. `-` is stdin.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { InputError } from "../util/errors.ts";
import { entryOf, parseDocs, type DocEntry, type DocsFormat } from "./docs-file.ts";
import { evtxToWinlogbeat } from "./evtx-json.ts";
import { evtxDocEntries, evtxDocEntry, evtxFileEntries, hasEvtxMagic } from "./evtx/index.ts";
import { parseJson } from "./json-numbers.ts";
import { DEFAULT_LIMITS, limitProblem, type MappingLimits } from "./limits.ts";

/** How a file was read, for summaries. */
export type FileFormat = "evtx" | "ndjson" | "json-array" | "json-values" | "empty";

const CHUNK = 4 << 20;

/** A file (or stdin) read in chunks, with the first bytes available before reading on. */
class Source {
  readonly fd: number;
  private readonly peeked: Buffer[] = [];
  private eof = false;
  constructor(readonly file: string) {
    if (file === "-") {
      this.fd = 0;
      return;
    }
    try {
      if (statSync(file).isDirectory()) throw new InputError(file, "is a folder, not an events file");
      this.fd = openSync(file, "r");
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(
        file,
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message,
      );
    }
  }
  private readChunk(): Buffer | undefined {
    if (this.eof) return undefined;
    const buf = Buffer.allocUnsafe(CHUNK);
    let n: number;
    for (;;) {
      try {
        n = readSync(this.fd, buf, 0, CHUNK, null);
        break;
      } catch (e) {
        // A non-blocking stdin with nothing yet: wait a little and read again.
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
          Bun.sleepSync(5);
          continue;
        }
        throw new InputError(this.file, (e as Error).message);
      }
    }
    if (n <= 0) {
      this.eof = true;
      return undefined;
    }
    return n === CHUNK ? buf : buf.subarray(0, n);
  }
  /** The first bytes (at least `min` unless the input is shorter), kept for `chunks()`. */
  head(min: number): Buffer {
    let have = this.peeked.reduce((a, b) => a + b.length, 0);
    while (have < min) {
      const c = this.readChunk();
      if (!c) break;
      this.peeked.push(c);
      have += c.length;
    }
    return Buffer.concat(this.peeked);
  }
  *chunks(): Generator<Buffer> {
    while (this.peeked.length) yield this.peeked.shift()!;
    for (let c = this.readChunk(); c; c = this.readChunk()) yield c;
  }
  close(): void {
    if (this.fd !== 0) closeSync(this.fd);
  }
}

/** Text of a source, decoded chunk by chunk (a UTF-8 sequence cut between chunks is kept whole). */
function* texts(src: Source): Generator<string> {
  const decoder = new TextDecoder("utf-8");
  let first = true;
  for (const c of src.chunks()) {
    let t = decoder.decode(c, { stream: true });
    if (first) t = t.replace(/^\uFEFF/, "");
    first = false;
    if (t) yield t;
  }
  const last = decoder.decode();
  if (last) yield last;
}

/** Lines with their 1-based numbers. */
function* linesOf(chunks: Iterable<string>): Generator<{ text: string; line: number }> {
  let rest = "";
  let line = 0;
  for (const text0 of chunks) {
    const text = rest + text0;
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      yield { text: text.slice(start, nl), line: ++line };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== "") yield { text: rest, line: ++line };
}

function firstLine(head: string): { text: string; complete: boolean } | undefined {
  const t = head.replace(/^\uFEFF/, "");
  let start = 0;
  for (;;) {
    const nl = t.indexOf("\n", start);
    const line = t.slice(start, nl < 0 ? undefined : nl);
    if (line.trim() !== "") return { text: line.trim(), complete: nl >= 0 };
    if (nl < 0) return undefined;
    start = nl + 1;
  }
}

/** Splits a streamed JSON array into its elements' texts with their start lines. */
export class ArraySplitter {
  private line = 1;
  private depth = 0;
  private inStr = false;
  private esc = false;
  private inValue = false;
  private opened = false;
  private closed = false;
  private pieces: string[] = [];
  private valueLine = 0;

  *feed(text: string): Generator<{ text: string; line: number }> {
    let seg = this.inValue ? 0 : -1;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.line++;
      if (this.inValue) {
        if (this.inStr) {
          if (this.esc) this.esc = false;
          else if (c === 92) this.esc = true;
          else if (c === 34) this.inStr = false;
          continue;
        }
        if (c === 34) this.inStr = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          if (this.depth === 0) {
            // The array's `]` right after a scalar element.
            yield this.take(text, seg, i);
            seg = -1;
            this.closed = true;
          } else if (--this.depth === 0) {
            yield this.take(text, seg, i + 1);
            seg = -1;
          }
        } else if (c === 44 && this.depth === 0) {
          yield this.take(text, seg, i);
          seg = -1;
        }
        continue;
      }
      if (c === 32 || c === 9 || c === 10 || c === 13 || this.closed) continue;
      if (!this.opened) {
        this.opened = c === 91;
        if (!this.opened) this.closed = true; // not an array: nothing to split
        continue;
      }
      if (c === 44) continue;
      if (c === 93) {
        this.closed = true;
        continue;
      }
      this.inValue = true;
      this.valueLine = this.line;
      seg = i;
      if (c === 34) this.inStr = true;
      else if (c === 123 || c === 91) this.depth = 1;
    }
    if (this.inValue && seg >= 0) this.pieces.push(text.slice(seg));
  }

  /** What is left at the end of the input (an element cut short), as one more element. */
  *end(): Generator<{ text: string; line: number }> {
    if (this.inValue && this.pieces.length) {
      const text = this.pieces.join("");
      this.pieces = [];
      this.inValue = false;
      if (text.trim()) yield { text, line: this.valueLine };
    }
  }

  private take(text: string, seg: number, end: number): { text: string; line: number } {
    this.pieces.push(text.slice(Math.max(seg, 0), end));
    const out = { text: this.pieces.join(""), line: this.valueLine };
    this.pieces = [];
    this.inValue = false;
    this.inStr = false;
    this.esc = false;
    this.depth = 0;
    return out;
  }
}

/**
 * One document's text, not parsed yet: what `openEvents(…, { raw: true })` yields for NDJSON and JSON
 * arrays, so that `scan --workers` parses in its worker threads (src/local/parallel-scan.ts);
 * `parsed` makes it the entry the default mode yields.
 */
export interface RawText {
  line: number;
  text: string;
  doc?: undefined;
  error?: undefined;
}

/** A document's text as its entry: parsed, converted, checked (the same for every reader). */
export function parsed(
  text: string,
  line: number,
  format: DocsFormat,
  limits: MappingLimits = DEFAULT_LIMITS,
): DocEntry {
  try {
    return entryOf(line, parseJson(text), format, limits);
  } catch (e) {
    return { line, error: (e as Error).message.split("\n")[0]! };
  }
}

export interface OpenedFile<E = DocEntry> {
  format: FileFormat;
  entries: Generator<E>;
}

/**
 * Opens an events file (or `-`) and says how it will be read; `entries` yields its documents one at a
 * time and closes the file at the end (or when the consumer stops early). With `raw`, NDJSON lines and
 * JSON array elements come as their text (`RawText`, for `parsed` later); other formats as entries.
 */
export function openEvents(file: string, format: DocsFormat, limits?: MappingLimits): OpenedFile;
export function openEvents(
  file: string,
  format: DocsFormat,
  limits: MappingLimits | undefined,
  opts: { raw: true },
): OpenedFile<DocEntry | RawText>;
export function openEvents(
  file: string,
  format: DocsFormat,
  limits: MappingLimits = DEFAULT_LIMITS,
  opts: { raw?: boolean } = {},
): OpenedFile<DocEntry | RawText> {
  const unit = opts.raw
    ? (text: string, line: number): DocEntry | RawText => ({ line, text })
    : (text: string, line: number): DocEntry | RawText => parsed(text, line, format, limits);
  const src = new Source(file);
  let head: Buffer;
  try {
    head = src.head(8);
  } catch (e) {
    src.close();
    throw e;
  }
  if (hasEvtxMagic(head)) {
    const convert = (raw: Record<string, unknown>) => evtxToWinlogbeat(raw);
    const checked = (e: DocEntry): DocEntry => {
      if (!e.doc) return e;
      const problem = limitProblem(e.doc, limits);
      return problem ? { line: e.line, error: problem } : e;
    };
    if (file !== "-") {
      src.close();
      return {
        format: "evtx",
        entries: (function* () {
          for (const e of evtxFileEntries(file)) yield checked(evtxDocEntry(e, file, convert));
        })(),
      };
    }
    return {
      format: "evtx",
      entries: (function* () {
        const bytes = Buffer.concat([...src.chunks()]);
        for (const e of evtxDocEntries(bytes, file, convert)) yield checked(e);
      })(),
    };
  }
  // Enough of the start to see its first non-empty line whole (or 64 MiB of it).
  let text = "";
  let first: ReturnType<typeof firstLine>;
  for (let want = CHUNK; ; want *= 2) {
    text = src.head(want).toString("utf8");
    first = firstLine(text);
    if (first?.complete || text.length < want || want >= 64 << 20) break;
  }
  if (!first) {
    src.close();
    return { format: "empty", entries: (function* () {})() };
  }
  let ndjson = false;
  try {
    const v = JSON.parse(first.text);
    ndjson = typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    ndjson = false;
  }
  const run = function* (body: () => Generator<DocEntry | RawText>) {
    try {
      yield* body();
    } finally {
      src.close();
    }
  };
  if (ndjson)
    return {
      format: "ndjson",
      entries: run(function* () {
        for (const { text: l, line } of linesOf(texts(src))) {
          const t = l.trim();
          if (t !== "") yield unit(t, line);
        }
      }),
    };
  if (first.text.startsWith("["))
    return {
      format: "json-array",
      entries: run(function* () {
        const split = new ArraySplitter();
        for (const t of texts(src)) for (const v of split.feed(t)) yield unit(v.text, v.line);
        for (const v of split.end()) yield unit(v.text, v.line);
      }),
    };
  return {
    format: "json-values",
    entries: run(function* () {
      yield* parseDocs([...texts(src)].join(""), format, limits);
    }),
  };
}
