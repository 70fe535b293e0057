/**
 * BinXML value types into the JSON values evtx_dump writes: numbers for integers, floats as text, booleans,
 * `0x…` strings for hex integers, upper-case GUIDs without braces, `S-1-…` SIDs, upper-case hex for
 * binary, arrays for the array types (type | 0x80). Strings lose trailing NULs only. A 64-bit integer
 * beyond 2^53 (which a JS number cannot hold) is its exact digits as a string. Times are RFC 3339
 * UTC with six fraction digits (the 100 ns digit is dropped), as in the exports beside the regression files.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const T_NULL = 0x00;
export const T_STRING = 0x01;
export const T_ANSI = 0x02;
export const T_BINXML = 0x21;
export const T_ARRAY = 0x80;

const latin1Decoder = new TextDecoder("latin1");

/** Bytes as Latin-1 text (Bun's Buffer has Node's `latin1Slice`: one byte per character, no mapping). */
function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}

let narrow = Buffer.allocUnsafe(1024);

/**
 * `n` UTF-16LE code units at `off`. Text below U+0100 (nearly all of it) is narrowed to one byte per
 * character and read as Latin-1, which gives the same string in JavaScriptCore's 8-bit form: as cheap
 * to make as Buffer's UTF-16 decoding, and about twice as cheap to JSON.stringify and match later.
 * Other text is Buffer's own UTF-16 decoding (far cheaper than a TextDecoder per string).
 */
export function utf16(b: Buffer, off: number, n: number): string {
  if (n <= 0) return "";
  if (n > narrow.length) narrow = Buffer.allocUnsafe(Math.max(n, 2 * narrow.length));
  const nb = narrow;
  let high = 0;
  for (let i = 0, j = off; i < n; i++, j += 2) {
    nb[i] = b[j]!;
    high |= b[j + 1]!;
  }
  return high === 0 ? latin1(nb, 0, n) : b.toString("utf16le", off, off + 2 * n);
}

function stripNuls(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 0) e--;
  return e === s.length ? s : s.slice(0, e);
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).toUpperCase().padStart(2, "0"));

function hexUpper(b: Buffer, off: number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += HEX[b[off + i]!];
  return s;
}

/** A 64-bit integer: a number when a JS number holds it exactly, else its exact digits as text. */
function u64(dv: DataView, off: number): number | string {
  const v = dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 4294967296;
  return Number.isSafeInteger(v) ? v : dv.getBigUint64(off, true).toString();
}

function i64(dv: DataView, off: number): number | string {
  const v = dv.getUint32(off, true) + dv.getInt32(off + 4, true) * 4294967296;
  return Number.isSafeInteger(v) ? v : dv.getBigInt64(off, true).toString();
}

function hex64(dv: DataView, off: number): string {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi === 0) return `0x${lo.toString(16)}`;
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")}`;
}

export function guid(b: Buffer, _dv: DataView, off: number): string {
  return (
    HEX[b[off + 3]!]! +
    HEX[b[off + 2]!] +
    HEX[b[off + 1]!] +
    HEX[b[off]!] +
    "-" +
    HEX[b[off + 5]!] +
    HEX[b[off + 4]!] +
    "-" +
    HEX[b[off + 7]!] +
    HEX[b[off + 6]!] +
    "-" +
    HEX[b[off + 8]!] +
    HEX[b[off + 9]!] +
    "-" +
    hexUpper(b, off + 10, 6)
  );
}

/** A SID and its length in bytes. */
export function sid(b: Buffer, dv: DataView, off: number, limit: number): [string, number] {
  if (off + 8 > limit) throw new Error("truncated SID");
  const rev = b[off]!;
  const count = b[off + 1]!;
  const len = 8 + 4 * count;
  if (off + len > limit) throw new Error("truncated SID");
  let auth = 0;
  for (let i = 0; i < 6; i++) auth = auth * 256 + b[off + 2 + i]!;
  let s = `S-${rev}-${auth}`;
  for (let i = 0; i < count; i++) s += `-${dv.getUint32(off + 8 + 4 * i, true)}`;
  return [s, len];
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Seconds since 1970 plus nanoseconds, as evtx_dump prints a time: always six fraction digits, `Z`. */
function rfc3339(unixSeconds: number, nanos: number): string {
  const d = new Date(unixSeconds * 1000);
  const y = d.getUTCFullYear();
  const ys = y >= 0 && y <= 9999 ? String(y).padStart(4, "0") : y < 0 ? `-${String(-y).padStart(4, "0")}` : `+${y}`;
  const s = `${ys}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `${s}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
}

/** FILETIME (100 ns ticks since 1601) without losing the ticks above 2^53. */
export function filetime(dv: DataView, off: number): string {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  // ticks = hi * 2^32 + lo, and 2^32 = 429 * 10^7 + 4967296.
  const rest = hi * 4967296 + lo;
  const secs = hi * 429 + Math.floor(rest / 1e7);
  const ticks = rest % 1e7;
  return rfc3339(secs - 11644473600, ticks * 100);
}

/** SYSTEMTIME (eight 16-bit fields); null when it is not a valid date (e.g. all zero). */
export function systemtime(dv: DataView, off: number): string | null {
  const y = dv.getUint16(off, true);
  const mo = dv.getUint16(off + 2, true);
  const d = dv.getUint16(off + 6, true);
  const h = dv.getUint16(off + 8, true);
  const mi = dv.getUint16(off + 10, true);
  const s = dv.getUint16(off + 12, true);
  const ms = dv.getUint16(off + 14, true);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || ms > 999) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(t).getUTCDate() !== d) return null;
  return rfc3339(Math.floor(t / 1000), ms * 1_000_000);
}

/** The shortest decimal that reads back as the same 32-bit float (0.1f → 0.1, not 0.10000000149011612). */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

/** A float as evtx writes it: a string, `.0` on whole numbers, exponent form from 1e16 on (`1e+16`). */
function floatText(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const s = Math.abs(x) >= 1e16 ? x.toExponential() : String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Size in bytes of one element of a fixed-size type, 0 when the type has no fixed size. */
function fixedSize(t: number, size: number): number {
  switch (t) {
    case 0x03:
    case 0x04:
      return 1;
    case 0x05:
    case 0x06:
      return 2;
    case 0x07:
    case 0x08:
    case 0x0b:
    case 0x0d:
    case 0x14:
      return 4;
    case 0x09:
    case 0x0a:
    case 0x0c:
    case 0x11:
    case 0x15:
      return 8;
    case 0x0f:
    case 0x12:
      return 16;
    case 0x10:
      return size === 4 ? 4 : 8;
    default:
      return 0;
  }
}

/** One value of fixed-size type `t` at `off` (the caller checked the bounds). */
function fixed(b: Buffer, dv: DataView, off: number, t: number, n: number): Json {
  switch (t) {
    case 0x03:
      return dv.getInt8(off);
    case 0x04:
      return b[off]!;
    case 0x05:
      return dv.getInt16(off, true);
    case 0x06:
      return dv.getUint16(off, true);
    case 0x07:
      return dv.getInt32(off, true);
    case 0x08:
      return dv.getUint32(off, true);
    case 0x09:
      return i64(dv, off);
    case 0x0a:
      return u64(dv, off);
    case 0x0b:
      return floatText(shortestFloat32(dv.getFloat32(off, true)));
    case 0x0c:
      return floatText(dv.getFloat64(off, true));
    case 0x0d:
      return dv.getInt32(off, true) !== 0;
    case 0x0f:
      return guid(b, dv, off);
    case 0x10:
      return n === 4 ? `0x${dv.getUint32(off, true).toString(16)}` : hex64(dv, off);
    case 0x11:
      return filetime(dv, off);
    case 0x12:
      return systemtime(dv, off);
    case 0x14:
      return `0x${dv.getUint32(off, true).toString(16)}`;
    case 0x15:
      return hex64(dv, off);
    default:
      throw new Error(`value type 0x${t.toString(16)} has no fixed size`);
  }
}

function splitNul(s: string): string[] {
  const parts = s.split("\0");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/**
 * A value of type `t` stored in `size` bytes at `off` (a substitution value). BinXML (0x21) is not
 * handled here: the template reader parses it as tokens.
 */
export function readSized(b: Buffer, dv: DataView, off: number, size: number, t: number): Json {
  if (off + size > b.length) throw new Error(`value of type 0x${t.toString(16)} (${size} bytes) runs past the chunk`);
  switch (t) {
    case T_NULL:
      return null;
    case T_STRING:
      return stripNuls(utf16(b, off, size >>> 1));
    case T_ANSI:
      return stripNuls(latin1Decoder.decode(b.subarray(off, off + size)));
    case 0x0e:
      return hexUpper(b, off, size);
    case 0x13:
      return size === 0 ? null : sid(b, dv, off, off + size)[0];
    case 0x20: // EvtHandle
    case 0x23: // EvtXml
      return null;
  }
  if (t & T_ARRAY) {
    const base = t & 0x7f;
    if (base === T_STRING) return splitNul(utf16(b, off, size >>> 1));
    if (base === T_ANSI) return splitNul(latin1Decoder.decode(b.subarray(off, off + size)));
    const out: Json[] = [];
    if (base === 0x13) {
      for (let p = off, end = off + size; p < end; ) {
        const [s, len] = sid(b, dv, p, end);
        out.push(s);
        p += len;
      }
      return out;
    }
    const w = fixedSize(base, 8);
    if (w === 0) throw new Error(`unsupported array value type 0x${t.toString(16)}`);
    for (let p = off; p + w <= off + size; p += w) out.push(fixed(b, dv, p, base, w));
    return out;
  }
  if (size === 0) return null;
  const w = fixedSize(t, size);
  if (w === 0) throw new Error(`unknown value type 0x${t.toString(16)}`);
  if (size < w) throw new Error(`value of type 0x${t.toString(16)} needs ${w} bytes, has ${size}`);
  return fixed(b, dv, off, t, size);
}

/**
 * A value token's value (type `t` at `off`, its size implied by the type): returns the value and the
 * offset after it.
 */
export function readInline(b: Buffer, dv: DataView, off: number, t: number): [Json, number] {
  if (t === T_STRING) {
    const n = dv.getUint16(off, true);
    if (off + 2 + 2 * n > b.length) throw new Error("string value runs past the chunk");
    return [utf16(b, off + 2, n), off + 2 + 2 * n];
  }
  if (t === 0x13) {
    const [s, len] = sid(b, dv, off, b.length);
    return [s, off + len];
  }
  const w = fixedSize(t, 8);
  if (w === 0) {
    // Sized types in a value token carry a 16-bit byte count first.
    const n = dv.getUint16(off, true);
    return [readSized(b, dv, off + 2, n, t), off + 2 + n];
  }
  if (off + w > b.length) throw new Error("value runs past the chunk");
  return [fixed(b, dv, off, t, w), off + w];
}

/** The text of a JSON value, as evtx's `as_cow_str` gives it (for concatenation and Data names). */
export function textOf(v: Json): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(textOf).join(",");
  return String(v);
}

/*
 * The text values of one template instance, written one byte per character into a shared scratch
 * buffer and made into strings with ONE Latin-1 decoding, each value then a substring of it: a
 * native call per value costs more than the formatting itself. Strings whose characters are all
 * below U+0100, GUIDs, FILETIMEs, hex integers and SIDs go this way, formatted as the functions above
 * format them; anything else (wider characters, odd sizes, times outside years 1601–9999) is left to
 * `readSized`. Nested template instances (BinXML values read while an outer one is being read) take
 * the scratch space after the outer one's and give it back (`textMark` / `textRelease`).
 */
let scratch = Buffer.allocUnsafe(1 << 17);

/**
 * A chunk's bytes as little-endian 16- and 32-bit units (`putText`'s aligned strings), when the
 * platform allows and the chunk starts at a multiple of 4.
 */
export function units(b: Uint8Array): [Uint16Array, Int32Array] | null {
  if (!LITTLE_ENDIAN || (b.byteOffset & 3) !== 0) return null;
  return [
    new Uint16Array(b.buffer, b.byteOffset, b.byteLength >>> 1),
    new Int32Array(b.buffer, b.byteOffset, b.byteLength >>> 2),
  ];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let top = 0;

const HEX_LOWER = new Uint8Array(16);
const HEX_UPPER = new Uint8Array(16);
for (let i = 0; i < 16; i++) {
  HEX_LOWER[i] = "0123456789abcdef".charCodeAt(i);
  HEX_UPPER[i] = "0123456789ABCDEF".charCodeAt(i);
}

function room(n: number): void {
  if (top + n <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(2 * scratch.length, top + n));
  bigger.set(scratch.subarray(0, top));
  scratch = bigger;
}

/** The scratch position before an instance's values; give it back with `textRelease`. */
export function textMark(): number {
  return top;
}

export function textRelease(mark: number): void {
  top = mark;
}

/** The text written since `mark`, as one string (each value a substring of it). */
export function textSince(mark: number): string {
  return latin1(scratch, mark, top);
}

/** The scratch position (a value's text runs from the position before it to the one after it). */
export function textTop(): number {
  return top;
}

function putByteHex(v: number, digits: Uint8Array): void {
  scratch[top++] = digits[v >>> 4]!;
  scratch[top++] = digits[v & 15]!;
}

/** `v` (unsigned 32-bit) in lower-case hex without leading zeros (`Number.toString(16)`). */
function putHex(v: number, pad: number): void {
  let n = 1;
  while (n < 8 && v >>> (4 * n) !== 0) n++;
  if (n < pad) n = pad;
  for (let i = n - 1; i >= 0; i--) scratch[top++] = HEX_LOWER[(v >>> (4 * i)) & 15]!;
}

/** A non-negative integer below 2^53 in decimal. */
function putDecimal(v: number): void {
  let n = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
  for (let i = top + n - 1; i >= top; i--) {
    const q = Math.floor(v / 10);
    scratch[i] = 48 + (v - q * 10);
    v = q;
  }
  top += n;
}

function put2(v: number): void {
  scratch[top++] = 48 + Math.floor(v / 10);
  scratch[top++] = 48 + (v % 10);
}

/** White space at a text's ends (as String.prototype.trim sees it), for characters below U+0100. */
function spaceByte(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0;
}

/**
 * Writes the text of a value of type `t` in `size` bytes at `off`: returns 1 when written (and it has
 * no white space at either end), 2 when written with white space at an end, 0 (nothing written) when
 * the value is not one the scratch text covers.
 */
export function putText(
  b: Buffer,
  dv: DataView,
  off: number,
  size: number,
  t: number,
  u16: Uint16Array | null,
  u32: Int32Array | null,
): 0 | 1 | 2 {
  switch (t) {
    case T_STRING: {
      const n = size >>> 1;
      room(n);
      let p = top;
      if (u32 !== null && (off & 1) === 0) {
        // Aligned: two characters per 32-bit load (one 16-bit load at an odd character position).
        let or = 0;
        let j = off;
        const e = off + 2 * n;
        if ((j & 2) !== 0 && j < e) {
          const c = u16![j >>> 1]!;
          scratch[p++] = c;
          or = c;
          j += 2;
        }
        for (; j + 4 <= e; j += 4) {
          const w = u32[j >>> 2]!;
          scratch[p++] = w;
          scratch[p++] = w >>> 16;
          or |= w;
        }
        if (j < e) {
          const c = u16![j >>> 1]!;
          scratch[p++] = c;
          or |= c;
        }
        if ((or & 0xff00ff00) !== 0) return 0;
      } else {
        let high = 0;
        for (let j = off, e = off + 2 * n; j < e; j += 2) {
          scratch[p++] = b[j]!;
          high |= b[j + 1]!;
        }
        if (high !== 0) return 0;
      }
      while (p > top && scratch[p - 1] === 0) p--; // trailing NULs, as stripNuls
      const spaced = p > top && (spaceByte(scratch[top]!) || spaceByte(scratch[p - 1]!));
      top = p;
      return spaced ? 2 : 1;
    }
    case 0x0f: {
      if (size !== 16) return 0;
      room(36);
      putByteHex(b[off + 3]!, HEX_UPPER);
      putByteHex(b[off + 2]!, HEX_UPPER);
      putByteHex(b[off + 1]!, HEX_UPPER);
      putByteHex(b[off]!, HEX_UPPER);
      scratch[top++] = 45;
      putByteHex(b[off + 5]!, HEX_UPPER);
      putByteHex(b[off + 4]!, HEX_UPPER);
      scratch[top++] = 45;
      putByteHex(b[off + 7]!, HEX_UPPER);
      putByteHex(b[off + 6]!, HEX_UPPER);
      scratch[top++] = 45;
      putByteHex(b[off + 8]!, HEX_UPPER);
      putByteHex(b[off + 9]!, HEX_UPPER);
      scratch[top++] = 45;
      for (let i = 10; i < 16; i++) putByteHex(b[off + i]!, HEX_UPPER);
      return 1;
    }
    case 0x14:
      if (size !== 4) return 0;
      room(10);
      scratch[top++] = 48;
      scratch[top++] = 120;
      putHex(dv.getUint32(off, true), 1);
      return 1;
    case 0x10:
    case 0x15: {
      if (size === 4 && t === 0x10) {
        room(10);
        scratch[top++] = 48;
        scratch[top++] = 120;
        putHex(dv.getUint32(off, true), 1);
        return 1;
      }
      if (size !== 8) return 0;
      const lo = dv.getUint32(off, true);
      const hi = dv.getUint32(off + 4, true);
      room(18);
      scratch[top++] = 48;
      scratch[top++] = 120;
      if (hi === 0) putHex(lo, 1);
      else {
        putHex(hi, 1);
        putHex(lo, 8);
      }
      return 1;
    }
    case 0x11: {
      if (size !== 8) return 0;
      // As `filetime`: ticks = hi * 2^32 + lo, and 2^32 = 429 * 10^7 + 4967296.
      const lo = dv.getUint32(off, true);
      const hi = dv.getUint32(off + 4, true);
      const rest = hi * 4967296 + lo;
      const secs = hi * 429 + Math.floor(rest / 1e7);
      const ticks = rest % 1e7;
      const unix = secs - 11644473600;
      if (unix < -11644473600 || unix > 253402300799) return 0; // years 1601–9999 only
      const days = Math.floor(unix / 86400);
      let sod = unix - days * 86400;
      // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian as Date).
      const z = days + 719468;
      const era = Math.floor(z / 146097);
      const doe = z - era * 146097;
      const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
      const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
      const mp = Math.floor((5 * doy + 2) / 153);
      const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
      const m = mp < 10 ? mp + 3 : mp - 9;
      const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
      const micros = Math.floor((ticks * 100) / 1000);
      room(27);
      put2(Math.floor(y / 100));
      put2(y % 100);
      scratch[top++] = 45;
      put2(m);
      scratch[top++] = 45;
      put2(d);
      scratch[top++] = 84;
      const hh = Math.floor(sod / 3600);
      sod -= hh * 3600;
      const mm = Math.floor(sod / 60);
      put2(hh);
      scratch[top++] = 58;
      put2(mm);
      scratch[top++] = 58;
      put2(sod - mm * 60);
      scratch[top++] = 46;
      put2(Math.floor(micros / 10000));
      put2(Math.floor(micros / 100) % 100);
      put2(micros % 100);
      scratch[top++] = 90;
      return 1;
    }
    case 0x13: {
      if (size < 8) return 0;
      const count = b[off + 1]!;
      if (8 + 4 * count > size) return 0;
      room(2 + 4 + 16 + 11 * count);
      scratch[top++] = 83; // S-rev-auth
      scratch[top++] = 45;
      putDecimal(b[off]!);
      scratch[top++] = 45;
      let auth = 0;
      for (let i = 0; i < 6; i++) auth = auth * 256 + b[off + 2 + i]!;
      putDecimal(auth);
      for (let i = 0; i < count; i++) {
        scratch[top++] = 45;
        putDecimal(dv.getUint32(off + 8 + 4 * i, true));
      }
      return 1;
    }
    default:
      return 0;
  }
}
