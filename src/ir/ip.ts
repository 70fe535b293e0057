/**
 * IPv4 / IPv6 addresses and networks, as Elasticsearch's ip field reads them: validation (the Sigma
 * `cidr` modifier and typed-field predicates), the 16-byte form (IPv4 as ::ffff:a.b.c.d), and the
 * canonical text ip doc values print. `parseIp` and `ipText` are the JavaScript twins of the Painless
 * matcher's `oxIp` / `oxIpText` (src/emit/painless/source.ts): same accepted inputs, same bytes.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function validIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return false;
  let groups = s.split(":");
  let v4 = 0;
  if (s.includes(".")) {
    if (!IPV4.test(groups[groups.length - 1]!)) return false;
    groups = groups.slice(0, -1);
    v4 = 2;
  }
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return false;
  const hex = groups.filter((g) => g !== "");
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  if (dbl >= 0) return hex.length + v4 < 8;
  return hex.length + v4 === 8 && groups.every((g) => g !== "");
}

/** Validates an IPv4 or IPv6 network; a bare address is a /32 or /128. */
export function normalizeCidr(s: string): string | undefined {
  const [addr, len, extra] = s.trim().split("/");
  if (addr === undefined || extra !== undefined) return undefined;
  const v4 = IPV4.test(addr);
  if (!v4 && !validIPv6(addr)) return undefined;
  const max = v4 ? 32 : 128;
  if (len === undefined) return `${addr}/${max}`;
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return `${addr}/${Number(len)}`;
}

/** A valid IPv4 or IPv6 address (no prefix length); the Sigma front end's validator. */
export function isIp(s: string): boolean {
  return !s.includes("/") && normalizeCidr(s) !== undefined;
}

/** A valid IPv4 or IPv6 network (a bare address counts). */
export function isCidr(s: string): boolean {
  return normalizeCidr(s) !== undefined;
}

/** IPv4/IPv6 text into 16 bytes (IPv4 as ::ffff:a.b.c.d). Input already validated by isIp. */
export function ipBytes(s: string): number[] {
  if (!s.includes(":")) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...s.split(".").map(Number)];
  let text = s;
  let tail: number[] = [];
  const last = text.lastIndexOf(":");
  if (text.indexOf(".", last) >= 0) {
    tail = text
      .slice(last + 1)
      .split(".")
      .map(Number);
    text = text.slice(0, last + 1) + "0:0";
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":").filter((x) => x !== "") : [];
  const r = rest !== undefined && rest !== "" ? rest.split(":") : [];
  const words = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill("0"), ...r];
  const out: number[] = [];
  for (const w of words) {
    const v = parseInt(w, 16);
    out.push(v >> 8, v & 255);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/** A `cidr` predicate's network as [16 bytes, prefix bits over the 16 bytes] (IPv4 prefixes + 96). */
export function cidrNetwork(cidr: string): { bytes: number[]; bits: number } {
  const [ip, bitsText] = cidr.split("/");
  const v4 = !ip!.includes(":");
  return { bytes: ipBytes(ip!), bits: bitsText === undefined ? 128 : Number(bitsText) + (v4 ? 96 : 0) };
}

/** Whether address `r` (16 bytes) lies in the network `net` / `bits`. */
export function inNetwork(r: ArrayLike<number>, net: ArrayLike<number>, bits: number): boolean {
  let k = 0;
  while (bits >= 8) {
    if (r[k] !== net[k]) return false;
    k++;
    bits -= 8;
  }
  if (bits === 0) return true;
  const mask = (255 << (8 - bits)) & 255;
  return (r[k]! & mask) === (net[k]! & mask);
}

// --- The Painless matcher's parser (oxOct, oxV4, oxHex, oxIp), step for step. ---

function dec(s: string, a: number, b: number): number {
  if (b <= a || b - a > 3) return -1;
  if (b - a > 1 && s.charCodeAt(a) === 48) return -1;
  let v = 0;
  for (let i = a; i < b; ++i) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v > 255 ? -1 : v;
}

function v4(s: string, from: number, out: number[], off: number): boolean {
  let a = from;
  for (let k = 0; k < 4; ++k) {
    const e = k < 3 ? s.indexOf(".", a) : s.length;
    if (e < 0) return false;
    const v = dec(s, a, e);
    if (v < 0) return false;
    out[off + k] = v;
    a = e + 1;
  }
  return true;
}

function hex(s: string, a: number, b: number): number {
  if (b <= a || b - a > 4) return -1;
  let v = 0;
  for (let i = a; i < b; ++i) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** An address as the ip field reads it, into 16 bytes; null when it is not an address. */
export function parseIp(s: string): number[] | null {
  const r = new Array<number>(16).fill(0);
  if (s.indexOf(":") < 0) {
    if (!v4(s, 0, r, 12)) return null;
    r[10] = 255;
    r[11] = 255;
    return r;
  }
  let t = s;
  const tail = [0, 0, 0, 0];
  const ld = t.lastIndexOf(":");
  if (t.indexOf(".", ld) >= 0) {
    if (!v4(t, ld + 1, tail, 0)) return null;
    t = t.slice(0, ld + 1) + "0:0";
  }
  const dc = t.indexOf("::");
  if (dc >= 0 && t.indexOf("::", dc + 1) >= 0) return null;
  const hs: number[] = [];
  let gap = -1;
  let i = 0;
  const n = t.length;
  if (dc === 0) {
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let e = t.indexOf(":", i);
    if (e < 0) e = n;
    const v = hex(t, i, e);
    if (v < 0) return null;
    hs.push(v);
    if (e === n) break;
    if (e + 1 < n && t.charCodeAt(e + 1) === 58) {
      gap = hs.length;
      i = e + 2;
      if (i === n) break;
    } else {
      i = e + 1;
      if (i === n) return null;
    }
  }
  const have = hs.length;
  if (gap < 0 && have !== 8) return null;
  if (gap >= 0 && have > 7) return null;
  const w = new Array<number>(8).fill(0);
  if (gap < 0) for (let k = 0; k < 8; ++k) w[k] = hs[k]!;
  else {
    for (let k = 0; k < gap; ++k) w[k] = hs[k]!;
    const rest = have - gap;
    for (let k = 0; k < rest; ++k) w[8 - rest + k] = hs[gap + k]!;
  }
  for (let k = 0; k < 8; ++k) {
    r[2 * k] = w[k]! >> 8;
    r[2 * k + 1] = w[k]! & 255;
  }
  if (ld >= 0 && s.indexOf(".", ld) >= 0) for (let k = 0; k < 4; ++k) r[12 + k] = tail[k]!;
  return r;
}

/** The canonical text of an address, as ip doc values print it (dotted IPv4 for IPv4-mapped, else RFC 5952). */
export function ipText(r: number[]): string {
  let mapped = r[10] === 255 && r[11] === 255;
  for (let k = 0; k < 10 && mapped; ++k) if (r[k] !== 0) mapped = false;
  if (mapped) return `${r[12]}.${r[13]}.${r[14]}.${r[15]}`;
  const w: number[] = [];
  for (let k = 0; k < 8; ++k) w.push(r[2 * k]! * 256 + r[2 * k + 1]!);
  let bs = -1;
  let bl = 0;
  let cs = -1;
  let cl = 0;
  for (let k = 0; k < 8; ++k) {
    if (w[k] === 0) {
      if (cs < 0) {
        cs = k;
        cl = 0;
      }
      cl++;
      if (cl > bl) {
        bl = cl;
        bs = cs;
      }
    } else cs = -1;
  }
  if (bl < 2) bs = -1;
  let b = "";
  for (let k = 0; k < 8; ++k) {
    if (k === bs) {
      b += "::";
      k += bl - 1;
      continue;
    }
    if (b.length > 0 && !(bs >= 0 && k === bs + bl)) b += ":";
    b += w[k]!.toString(16);
  }
  return b;
}
