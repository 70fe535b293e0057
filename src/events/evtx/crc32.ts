/** CRC-32 (IEEE), as .evtx headers and chunks use it: Bun's native one when running on Bun, else a table. */

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native: ((d: Uint8Array) => number) | undefined =
  typeof Bun !== "undefined" && typeof Bun.hash?.crc32 === "function" ? (d) => Bun.hash.crc32(d) >>> 0 : undefined;

export function crc32(data: Uint8Array): number {
  return native ? native(data) : tableCrc32(data);
}

/** The table version, exported so that a test can check both agree. */
export { tableCrc32 };
