/**
 * Builds .evtx files from real ones, for the parser's tests and scripts/bench-evtx: each source chunk
 * is kept as it is (its first records define templates and names inline) and then filled up with
 * copies of its records that refer to those definitions instead of repeating them, as Windows writes
 * later records of a chunk. Record ids, offsets and every checksum are rewritten, so the result is a
 * well-formed file of full 64 KiB chunks.
 */
import { crc32 } from "../../src/events/evtx/crc32.ts";
import { CHUNK_HEADER_SIZE, CHUNK_SIZE, FILE_HEADER_SIZE } from "../../src/events/evtx/header.ts";

export interface SourceChunk {
  /** The chunk's bytes (64 KiB). */
  chunk: Uint8Array;
  /** Offsets of its records in the chunk. */
  records: number[];
  /** End of its records (free space offset). */
  free: number;
}

/** The chunks of a real file that hold records. */
export function sourceChunks(file: Uint8Array): SourceChunk[] {
  const out: SourceChunk[] = [];
  for (let off = FILE_HEADER_SIZE; off + CHUNK_SIZE <= file.length; off += CHUNK_SIZE) {
    const chunk = file.subarray(off, off + CHUNK_SIZE);
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (new TextDecoder().decode(chunk.subarray(0, 7)) !== "ElfChnk") continue;
    const free = dv.getUint32(48, true);
    const records: number[] = [];
    for (let p = CHUNK_HEADER_SIZE; p + 24 <= free; ) {
      const size = dv.getUint32(p + 4, true);
      if (dv.getUint32(p, true) !== 0x2a2a || size < 28) break;
      records.push(p);
      p += size;
    }
    if (records.length > 0) out.push({ chunk, records, free });
  }
  return out;
}

/** A copy of `b[start..end)` (Buffer's own slice would share memory). */
function copy(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

/** Bytes joined. */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A fragment (`start`..`end` of the chunk) whose template instances refer to their definitions
 * instead of holding them inline, nested BinXML substitution values included.
 */
function compactFragment(chunk: Uint8Array, dv: DataView, start: number, end: number): Uint8Array {
  if (chunk[start] !== 0x0f || chunk[start + 4] !== 0x0c) return copy(chunk, start, end);
  const ti = start + 4;
  const defOff = dv.getUint32(ti + 6, true);
  let p = ti + 10;
  if (defOff === p) p += 24 + dv.getUint32(p + 20, true);
  const count = dv.getUint32(p, true);
  const descriptors = copy(chunk, p, p + 4 + 4 * count);
  const ddv = new DataView(descriptors.buffer, descriptors.byteOffset, descriptors.byteLength);
  let v = p + 4 + 4 * count;
  const values: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const size = dv.getUint16(p + 4 + 4 * i, true);
    const type = chunk[p + 4 + 4 * i + 2];
    const value = type === 0x21 && size > 0 ? compactFragment(chunk, dv, v, v + size) : copy(chunk, v, v + size);
    ddv.setUint16(4 + 4 * i, value.length, true);
    values.push(value);
    v += size;
  }
  return concat([copy(chunk, start, ti + 10), descriptors, ...values, copy(chunk, v, end)]);
}

/**
 * A record that refers to its templates instead of defining them inline: the record at `off` of the
 * chunk with every inline definition cut out (its own and those in nested BinXML values).
 */
export function compactRecord(chunk: Uint8Array, off: number): Uint8Array {
  const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const size = dv.getUint32(off + 4, true);
  const body = compactFragment(chunk, dv, off + 24, off + size - 4);
  const out = concat([copy(chunk, off, off + 24), body, new Uint8Array(4)]);
  const odv = new DataView(out.buffer);
  odv.setUint32(4, out.length, true);
  odv.setUint32(out.length - 4, out.length, true);
  return out;
}

/** A full chunk: the source's records as they are, then compact copies until `limit` bytes. */
export function fillChunk(
  src: SourceChunk,
  firstId: number,
  limit = CHUNK_SIZE,
): { chunk: Uint8Array; records: number } {
  const out = new Uint8Array(CHUNK_SIZE);
  out.set(src.chunk.subarray(0, src.free), 0);
  const dv = new DataView(out.buffer);
  const copies = src.records.map((r) => compactRecord(src.chunk, r));
  let p = src.free;
  let lastOffset = src.records[src.records.length - 1]!;
  let n = src.records.length;
  for (let k = 0; ; k++) {
    const c = copies[k % copies.length]!;
    if (p + c.length > limit) break;
    out.set(c, p);
    lastOffset = p;
    p += c.length;
    n++;
  }
  // Record numbers and ids: consecutive from firstId.
  for (let q = CHUNK_HEADER_SIZE, id = firstId; q < p; id++) {
    dv.setBigUint64(q + 8, BigInt(id), true);
    q += dv.getUint32(q + 4, true);
  }
  dv.setBigUint64(8, BigInt(firstId), true);
  dv.setBigUint64(16, BigInt(firstId + n - 1), true);
  dv.setBigUint64(24, BigInt(firstId), true);
  dv.setBigUint64(32, BigInt(firstId + n - 1), true);
  dv.setUint32(44, lastOffset, true);
  dv.setUint32(48, p, true);
  dv.setUint32(52, crc32(out.subarray(CHUNK_HEADER_SIZE, p)), true);
  const hdr = new Uint8Array(504);
  hdr.set(out.subarray(0, 120), 0);
  hdr.set(out.subarray(128, 512), 120);
  dv.setUint32(124, crc32(hdr), true);
  return { chunk: out, records: n };
}

/** A whole file of the given chunks, with a valid file header. */
export function evtxFile(chunks: Uint8Array[], nextRecordId: number): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_SIZE + chunks.length * CHUNK_SIZE);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode("ElfFile\0"), 0);
  dv.setBigUint64(8, 0n, true);
  dv.setBigUint64(16, BigInt(Math.max(0, chunks.length - 1)), true);
  dv.setBigUint64(24, BigInt(nextRecordId), true);
  dv.setUint32(32, 128, true);
  dv.setUint16(36, 1, true);
  dv.setUint16(38, 3, true);
  dv.setUint16(40, FILE_HEADER_SIZE, true);
  dv.setUint16(42, Math.min(chunks.length, 0xffff), true);
  dv.setUint32(124, crc32(out.subarray(0, 120)), true);
  chunks.forEach((c, i) => out.set(c, FILE_HEADER_SIZE + i * CHUNK_SIZE));
  return out;
}

/** A file of full chunks built from real files, `rounds` times over. */
export function fullChunksFile(sources: Uint8Array[], rounds = 1): { bytes: Uint8Array; records: number } {
  const chunks: Uint8Array[] = [];
  let id = 1;
  for (let r = 0; r < rounds; r++) {
    for (const s of sources) {
      for (const sc of sourceChunks(s)) {
        const { chunk, records } = fillChunk(sc, id);
        chunks.push(chunk);
        id += records;
      }
    }
  }
  return { bytes: evtxFile(chunks, id), records: id - 1 };
}
