/**
 * Reading .evtx files: the file header, then each 64 KiB chunk and its records, each record's BinXML
 * into evtx_dump's JSON layout. A corrupt or truncated chunk or record is reported (naming the file,
 * the chunk and the file offset) and skipped; the other records still come out.
 */
import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import {
  CHUNK_HEADER_SIZE,
  CHUNK_SIZE,
  FILE_HEADER_SIZE,
  hasEvtxMagic,
  readChunkHeader,
  readFileHeader,
} from "./header.ts";
import { ChunkContext, TokenReader } from "./tokens.ts";
import { compileTemplate, toJson } from "./to-json.ts";

export type EvtxRecord = Record<string, unknown>;

export type EvtxEntry =
  /** A record: its position in the file (1-based), event record id, and evtx_dump JSON. */
  | { index: number; recordId: number; offset: number; record: EvtxRecord; error?: undefined }
  /** A problem: the message names the file, the chunk and the file offset. */
  | { index: number; offset: number; error: string; record?: undefined };

const RECORD_MAGIC = 0x00002a2a;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A record's BinXML (from `start` to `end` in the chunk) as evtx_dump JSON. */
export function recordJson(ctx: ChunkContext, start: number, end: number): EvtxRecord {
  return toJson(new TokenReader(ctx, start, end, false).fragment()) as EvtxRecord;
}

/** Finds the next plausible record header after `from` (magic, size that fits, size copy at its end). */
function resync(dv: DataView, from: number, end: number): number {
  for (let p = (from + 8) & ~7; p + 24 <= end; p += 8) {
    if (dv.getUint32(p, true) !== RECORD_MAGIC) continue;
    const size = dv.getUint32(p + 4, true);
    if (size >= 28 && p + size <= dv.byteLength && dv.getUint32(p + size - 4, true) === size) return p;
  }
  return -1;
}

class Counter {
  index = 0;
}

/** The records (and problems) of one chunk read from `fileOffset`. */
function* chunkEntries(
  chunk: Uint8Array,
  ci: number,
  fileOffset: number,
  file: string,
  counter: Counter,
): Generator<EvtxEntry> {
  const where = (off: number) =>
    `${file}: chunk ${ci} (file offset ${hex(fileOffset)}), offset ${hex(fileOffset + off)}`;
  let header;
  try {
    header = readChunkHeader(chunk);
  } catch (e) {
    yield { index: ++counter.index, offset: fileOffset, error: `${where(0)}: ${(e as Error).message}; chunk skipped` };
    return;
  }
  if (header === "empty") return;
  for (const p of header.problems) yield { index: ++counter.index, offset: fileOffset, error: `${where(0)}: ${p}` };
  const ctx = new ChunkContext(chunk, compileTemplate);
  const dv = ctx.dv;
  const end = Math.min(
    header.freeSpaceOffset >= CHUNK_HEADER_SIZE ? header.freeSpaceOffset : chunk.length,
    chunk.length,
  );
  let p = CHUNK_HEADER_SIZE;
  while (p + 24 <= end) {
    const magic = dv.getUint32(p, true);
    const size = dv.getUint32(p + 4, true);
    let problem: string | null = null;
    if (magic !== RECORD_MAGIC) problem = `bad record magic ${hex(magic)}`;
    else if (size < 28 || p + size > chunk.length) problem = `record size ${size} does not fit in the chunk`;
    else if (dv.getUint32(p + size - 4, true) !== size)
      problem = `record size ${size} does not match its copy at the record's end`;
    if (problem !== null) {
      const next = resync(dv, p, end);
      yield {
        index: ++counter.index,
        offset: fileOffset + p,
        error: `${where(p)}: ${problem}; ${next < 0 ? "rest of the chunk skipped" : `skipped to the next record at ${hex(fileOffset + next)}`}`,
      };
      if (next < 0) return;
      p = next;
      continue;
    }
    const recordId = dv.getUint32(p + 8, true) + dv.getUint32(p + 12, true) * 4294967296;
    const index = ++counter.index;
    try {
      const record = recordJson(ctx, p + 24, p + size - 4);
      yield { index, recordId, offset: fileOffset + p, record };
    } catch (e) {
      yield { index, offset: fileOffset + p, error: `${where(p)}, record ${recordId}: ${(e as Error).message}` };
    }
    p += size;
  }
}

function* fileHeaderEntries(head: Uint8Array, file: string, counter: Counter): Generator<EvtxEntry> {
  if (!hasEvtxMagic(head)) throw new Error(`${file}: not an .evtx file (no "ElfFile" magic at offset 0)`);
  try {
    const h = readFileHeader(head);
    if (h.problem) yield { index: ++counter.index, offset: 0, error: `${file}: ${h.problem}` };
  } catch (e) {
    yield { index: ++counter.index, offset: 0, error: `${file}: ${(e as Error).message}` };
  }
  if (head.length < FILE_HEADER_SIZE)
    yield {
      index: ++counter.index,
      offset: 0,
      error: `${file}: truncated file header (${head.length} of ${FILE_HEADER_SIZE} bytes), no chunks`,
    };
}

/** Every record and problem of an .evtx file held in memory. Throws only when the magic is missing. */
export function* evtxEntries(bytes: Uint8Array, file = "<evtx>"): Generator<EvtxEntry> {
  const counter = new Counter();
  yield* fileHeaderEntries(bytes.subarray(0, FILE_HEADER_SIZE), file, counter);
  for (let ci = 0, off = FILE_HEADER_SIZE; off < bytes.length; ci++, off += CHUNK_SIZE) {
    yield* chunkEntries(bytes.subarray(off, Math.min(off + CHUNK_SIZE, bytes.length)), ci, off, file, counter);
  }
}

/** Like `evtxEntries`, reading the file one chunk at a time (files larger than memory are fine). */
export function* evtxFileEntries(path: string): Generator<EvtxEntry> {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    // One buffer for every chunk: a chunk's records are decoded (strings copied out) before the next read.
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    const read = (off: number, n: number): Uint8Array => {
      const want = Math.max(0, Math.min(n, size - off, buffer.length));
      let got = 0;
      while (got < want) {
        const r = readSync(fd, buffer, got, want - got, off + got);
        if (r <= 0) break;
        got += r;
      }
      return buffer.subarray(0, got);
    };
    const counter = new Counter();
    yield* fileHeaderEntries(read(0, FILE_HEADER_SIZE), path, counter);
    for (let ci = 0, off = FILE_HEADER_SIZE; off < size; ci++, off += CHUNK_SIZE) {
      yield* chunkEntries(read(off, CHUNK_SIZE), ci, off, path, counter);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The records of an .evtx file in evtx_dump's JSON layout. Problems (corrupt chunk or record) go to
 * `onProblem` (default: ignored after being counted by the caller's own means) and the reading goes on.
 */
export function* readEvtxFile(path: string, onProblem?: (message: string) => void): Generator<EvtxRecord> {
  for (const e of evtxFileEntries(path)) {
    if (e.error !== undefined) onProblem?.(e.error);
    else yield e.record;
  }
}
