/**
 * Reading event files for `ingest` and `pipeline simulate`: NDJSON (one JSON object a line), a JSON
 * array, or JSON values written one after another (evtx_dump writes pretty-printed objects back to
 * back, as in ../shared/sigma/regression). Each document keeps the line it starts on, so that errors
 * name the place; a line that does not parse is one failed document, the others still load.
 * Binary .evtx files (found by their "ElfFile" magic) are read natively by src/events/evtx/: there
 * `line` is the record's position in the file and errors name the chunk and offset.
 */
import { UsageError } from "../util/errors.ts";
import { evtxToWinlogbeat, isEvtxEvent } from "./evtx-json.ts";
import { LosslessNumber, losslessPaths, parseJson } from "./json-numbers.ts";
import { openEvents } from "./stream.ts";
import { DEFAULT_LIMITS, limitProblem, type MappingLimits } from "./limits.ts";

/** `auto` converts documents that look like raw evtx (`Event.System`) and keeps the others as they are. */
export type DocsFormat = "ndjson" | "evtx-json" | "auto";

export interface DocEntry {
  /** 1-based line where the document starts. */
  line: number;
  /** The document to index, when it parsed (and converted). */
  doc?: Record<string, unknown>;
  /** Why it could not be read. */
  error?: string;
  /**
   * What was kept differently from the file: numbers a JavaScript number cannot hold exactly
   * (beyond ±2^53, 1e400, …) are sent as strings with their exact text; each is named here.
   */
  warnings?: string[];
}

export function parseFormat(v: string | undefined): DocsFormat {
  if (v === undefined || v === "auto") return "auto";
  if (v === "ndjson" || v === "evtx-json") return v;
  throw new UsageError(`--format ${v}: expected ndjson or evtx-json`);
}

/** Splits text into top-level JSON texts with their start lines, by bracket depth outside strings. */
export function* splitJsonValues(
  text: string,
  startIndex = 0,
  startLine = 1,
  arrayElements = false,
): Generator<{ text: string; line: number; start: number; end: number; endLine: number }> {
  let line = startLine;
  let i = startIndex;
  const n = text.length;
  while (i < n) {
    // Skip whitespace (and, inside an array, the commas between elements).
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (!(c === 32 || c === 9 || c === 13 || (arrayElements && c === 44))) break;
      i++;
    }
    if (i >= n) return;
    if (arrayElements && text[i] === "]") return;
    const start = i;
    const startLineOfValue = line;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i]!;
      if (c === "\n") line++;
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
        if (depth < 0) {
          // A stray closer: end this (broken) value here.
          i++;
          break;
        }
      } else if (depth === 0 && c === "\n") {
        // A top-level scalar (or junk) ends at the end of its line.
        i++;
        break;
      } else if (depth === 0 && arrayElements && c === ",") {
        break;
      }
    }
    yield { text: text.slice(start, i), line: startLineOfValue, start, end: i, endLine: line };
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) if (text.charCodeAt(k) === 10) n++;
  return n;
}

function convert(value: unknown, format: DocsFormat): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof LosslessNumber)
    throw new Error("not a JSON object");
  if (format === "evtx-json") return evtxToWinlogbeat(value);
  if (format === "auto" && isEvtxEvent(value)) return evtxToWinlogbeat(value);
  return value as Record<string, unknown>;
}

/**
 * A parsed value into an entry: converted, with a warning for every number kept as a string (the
 * local reader, src/local/events.ts, goes through it too, so scan reads what ingest sends). A
 * document that breaks the mapping `limits` (limits.ts: nested too deep, too many fields) is an
 * error entry: checked before anything walks it recursively, and before it is ever sent.
 */
export function entryOf(
  line: number,
  parsed: unknown,
  format: DocsFormat,
  limits: MappingLimits = DEFAULT_LIMITS,
): DocEntry {
  const before = limitProblem(parsed, limits);
  if (before) return { line, error: before };
  const doc = convert(parsed, format);
  if (doc !== parsed) {
    const after = limitProblem(doc, limits);
    if (after) return { line, error: after };
  }
  const kept = losslessPaths(doc);
  if (kept.length === 0) return { line, doc };
  return {
    line,
    doc,
    warnings: kept.map(
      (k) => `${k.path}: the number ${k.text} does not fit a JSON number exactly; sent as the string "${k.text}"`,
    ),
  };
}

/**
 * Parses a whole text into documents: the one function every reader of event files goes through
 * (`ingest`, `pipeline simulate`, the tests), so another input format hooks in here.
 */
export function parseDocs(text: string, format: DocsFormat, limits: MappingLimits = DEFAULT_LIMITS): DocEntry[] {
  const out: DocEntry[] = [];
  const body = text.replace(/^\uFEFF/, "");
  const firstNonWs = body.search(/\S/);
  if (firstNonWs < 0) return out;
  const lineAt = (idx: number) => {
    let l = 1;
    for (let k = 0; k < idx; k++) if (body.charCodeAt(k) === 10) l++;
    return l;
  };
  const one = (raw: string, line: number) => {
    try {
      out.push(entryOf(line, parseJson(raw), format, limits));
    } catch (e) {
      out.push({ line, error: (e as Error).message.split("\n")[0]! });
    }
  };
  // NDJSON when the first non-empty line is a complete JSON object: then every line is one document,
  // so that a broken line costs only itself.
  const firstLineEnd = body.indexOf("\n", firstNonWs);
  const firstLine = body.slice(firstNonWs, firstLineEnd < 0 ? undefined : firstLineEnd).trim();
  let firstIsWhole = false;
  try {
    const v = JSON.parse(firstLine);
    firstIsWhole = typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    firstIsWhole = false;
  }
  if (firstIsWhole) {
    const lines = body.split("\n");
    for (let k = 0; k < lines.length; k++) {
      const l = lines[k]!.trim();
      if (l === "") continue;
      one(l, k + 1);
    }
    return out;
  }
  if (body[firstNonWs] === "[") {
    // A JSON array of documents: its elements, each with its own line.
    for (const v of splitJsonValues(body, firstNonWs + 1, lineAt(firstNonWs + 1), true)) one(v.text, v.line);
    return out;
  }
  // Values back to back (evtx_dump): a broken one may leave its braces unbalanced and swallow the
  // rest, so after a value that does not parse we resume at the next line opening a top-level object
  // (`{` in column 0, where pretty-printed output starts each value).
  let pos = 0;
  let line = 1;
  for (;;) {
    const it = splitJsonValues(body, pos, line).next();
    if (it.done) break;
    const v = it.value;
    let parsed: unknown;
    try {
      parsed = parseJson(v.text);
    } catch (e) {
      const resync = body.indexOf("\n{", v.start + 1);
      out.push({ line: v.line, error: (e as Error).message.split("\n")[0]! });
      if (resync >= 0 && resync < v.end) {
        line = v.line + countNewlines(body, v.start, resync + 1);
        pos = resync + 1;
      } else {
        pos = v.end;
        line = v.endLine;
      }
      continue;
    }
    try {
      out.push(entryOf(v.line, parsed, format, limits));
    } catch (e) {
      out.push({ line: v.line, error: (e as Error).message.split("\n")[0]! });
    }
    pos = v.end;
    line = v.endLine;
  }
  return out;
}

/** Every document of a file at once (`pipeline simulate`); `ingest` and `scan` stream (stream.ts). */
export function readDocsFile(path: string, format: DocsFormat): DocEntry[] {
  return [...openEvents(path, format).entries];
}
