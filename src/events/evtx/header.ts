/**
 * The fixed parts of an .evtx file: the 4 KiB file header and the 64 KiB chunks with their 512-byte
 * headers (common-string and template offset tables). Offsets and sizes per the format as Windows
 * writes it (libevtx's documentation); checksums are CRC-32 and are checked here because it is cheap.
 */
import { crc32 } from "./crc32.ts";

export const FILE_MAGIC = "ElfFile\0";
export const CHUNK_MAGIC = "ElfChnk\0";
export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
export const CHUNK_HEADER_SIZE = 512;

/** True when the bytes start with the .evtx magic `ElfFile\0`. */
export function hasEvtxMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== FILE_MAGIC.charCodeAt(i)) return false;
  return true;
}

export interface FileHeader {
  firstChunk: bigint;
  lastChunk: bigint;
  nextRecordId: bigint;
  headerSize: number;
  minorVersion: number;
  majorVersion: number;
  headerBlockSize: number;
  chunkCount: number;
  flags: number;
  /** Null when the stored checksum matches, else what is wrong. */
  problem: string | null;
}

function magicAt(bytes: Uint8Array, off: number, magic: string): boolean {
  if (off + 8 > bytes.length) return false;
  for (let i = 0; i < 8; i++) if (bytes[off + i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function readFileHeader(bytes: Uint8Array): FileHeader {
  if (!hasEvtxMagic(bytes)) throw new Error('not an .evtx file (no "ElfFile" magic at offset 0)');
  if (bytes.length < 128) throw new Error(`truncated file header (${bytes.length} of 128 bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h: FileHeader = {
    firstChunk: dv.getBigUint64(8, true),
    lastChunk: dv.getBigUint64(16, true),
    nextRecordId: dv.getBigUint64(24, true),
    headerSize: dv.getUint32(32, true),
    minorVersion: dv.getUint16(36, true),
    majorVersion: dv.getUint16(38, true),
    headerBlockSize: dv.getUint16(40, true),
    chunkCount: dv.getUint16(42, true),
    flags: dv.getUint32(120, true),
    problem: null,
  };
  const stored = dv.getUint32(124, true);
  const actual = crc32(bytes.subarray(0, 120));
  if (stored !== actual)
    h.problem = `file header checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)})`;
  return h;
}

export interface ChunkHeader {
  firstRecordNumber: bigint;
  lastRecordNumber: bigint;
  firstRecordId: bigint;
  lastRecordId: bigint;
  lastRecordOffset: number;
  freeSpaceOffset: number;
  /** Problems found (bad checksums); the chunk is still read. */
  problems: string[];
}

/** `empty` for a block never written (all zero magic), else the header or a thrown Error. */
export function readChunkHeader(chunk: Uint8Array): ChunkHeader | "empty" {
  if (chunk.length < CHUNK_HEADER_SIZE)
    throw new Error(`truncated chunk header (${chunk.length} of ${CHUNK_HEADER_SIZE} bytes)`);
  if (!magicAt(chunk, 0, CHUNK_MAGIC)) {
    let zero = true;
    for (let i = 0; i < 8; i++) if (chunk[i] !== 0) zero = false;
    if (zero) return "empty";
    throw new Error('bad chunk magic (expected "ElfChnk")');
  }
  const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const h: ChunkHeader = {
    firstRecordNumber: dv.getBigUint64(8, true),
    lastRecordNumber: dv.getBigUint64(16, true),
    firstRecordId: dv.getBigUint64(24, true),
    lastRecordId: dv.getBigUint64(32, true),
    lastRecordOffset: dv.getUint32(44, true),
    freeSpaceOffset: dv.getUint32(48, true),
    problems: [],
  };
  const storedHeader = dv.getUint32(124, true);
  const hdr = new Uint8Array(120 + 384);
  hdr.set(chunk.subarray(0, 120), 0);
  hdr.set(chunk.subarray(128, 512), 120);
  const actualHeader = crc32(hdr);
  if (storedHeader !== actualHeader)
    h.problems.push(
      `chunk header checksum mismatch (stored 0x${storedHeader.toString(16)}, computed 0x${actualHeader.toString(16)})`,
    );
  const free = h.freeSpaceOffset;
  if (free < CHUNK_HEADER_SIZE || free > CHUNK_SIZE) {
    h.problems.push(`free space offset 0x${free.toString(16)} out of range`);
  } else if (free <= chunk.length) {
    const storedData = dv.getUint32(52, true);
    const actualData = crc32(chunk.subarray(CHUNK_HEADER_SIZE, free));
    if (storedData !== actualData)
      h.problems.push(
        `records checksum mismatch (stored 0x${storedData.toString(16)}, computed 0x${actualData.toString(16)})`,
      );
  } else {
    h.problems.push(
      `chunk truncated: records end at 0x${free.toString(16)} but only 0x${chunk.length.toString(16)} bytes remain`,
    );
  }
  return h;
}
