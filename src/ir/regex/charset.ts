/**
 * Sets of Unicode code points as sorted, disjoint, inclusive ranges `[lo0, hi0, lo1, hi1, ...]`.
 * Every character-consuming construct of a regex (literal, class, `.`, `\d`...) becomes one of these,
 * so both emitters (Lucene regexp and the NFA) see the same, already case-closed sets.
 */
export type CharSet = number[];

export const MAX_CP = 0x10ffff;
export const ALL: CharSet = [0, MAX_CP];
export const NOT_NEWLINE: CharSet = [0, 9, 11, MAX_CP];
export const DIGIT: CharSet = [0x30, 0x39];
/** `\w` as JavaScript (without the `u` flag) and PCRE (without UCP) define it: ASCII only. */
export const WORD: CharSet = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
/** `\s` as JavaScript defines it (WhiteSpace + LineTerminator). */
export const SPACE: CharSet = normalize([
  9, 13, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000,
  0x3000, 0xfeff, 0xfeff,
]);

export function single(cp: number): CharSet {
  return [cp, cp];
}

/** Sorts and merges arbitrary (possibly overlapping) ranges. */
export function normalize(ranges: number[]): CharSet {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

export function union(...sets: CharSet[]): CharSet {
  return normalize(sets.flat());
}

export function complement(set: CharSet): CharSet {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i]! > next) out.push(next, set[i]! - 1);
    next = set[i + 1]! + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

export function intersect(a: CharSet, b: CharSet): CharSet {
  return complement(union(complement(a), complement(b)));
}

export function has(set: CharSet, cp: number): boolean {
  let lo = 0;
  let hi = set.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < set[2 * mid]!) hi = mid - 1;
    else if (cp > set[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

export function size(set: CharSet): number {
  let n = 0;
  for (let i = 0; i < set.length; i += 2) n += set[i + 1]! - set[i]! + 1;
  return n;
}

export function equal(a: CharSet, b: CharSet): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Case folding, defined exactly as JavaScript's RegExp `i` flag without `u` (ECMA-262 Canonicalize):
 * a character's canonical form is its upper case when that is one UTF-16 unit and does not turn a
 * non-ASCII character into an ASCII one; two characters match each other when their canonical forms
 * are equal. Only BMP characters fold (astral characters match only themselves, as in JS without `u`).
 * The emitters never fold at run time: sets are closed under this relation at compile time.
 */
function canonicalize(cp: number): number {
  const u = String.fromCharCode(cp).toUpperCase();
  if (u.length !== 1) return cp;
  const cu = u.charCodeAt(0);
  if (cp >= 128 && cu < 128) return cp;
  return cu;
}

let foldClasses: number[][] | undefined;
/** Per BMP character, 1 + the index of its class in foldClasses, or 0 when it folds with no other. */
let classOf: Int32Array | undefined;
/** Equivalence classes with more than one member, each sorted. Computed once (65,536 characters). */
function caseClasses(): number[][] {
  if (foldClasses) return foldClasses;
  // Each character's canonical form, how many share it, then the shared ones' classes in the order
  // their first character comes (typed arrays: no list for the 60,000 characters that fold alone).
  const canon = new Int32Array(0x10000).fill(-1);
  const count = new Int32Array(0x10000);
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    count[(canon[cp] = canonicalize(cp))]!++;
  }
  const listOf = new Int32Array(0x10000).fill(-1);
  foldClasses = [];
  for (let cp = 0; cp <= 0xffff; cp++) {
    const c = canon[cp]!;
    if (c < 0 || count[c]! < 2) continue;
    if (listOf[c]! < 0) listOf[c] = foldClasses.push([]) - 1;
    foldClasses[listOf[c]!]!.push(cp);
  }
  classOf = new Int32Array(0x10000);
  foldClasses.forEach((cls, i) => {
    for (const c of cls) classOf![c] = i + 1;
  });
  return foldClasses;
}

/** The set plus every character that case-folds to a member of it. */
export function caseClose(set: CharSet): CharSet {
  const classes = caseClasses();
  const extra: number[] = [];
  if (size(set) > 4096) {
    for (const cls of classes) {
      if (cls.some((c) => has(set, c))) for (const c of cls) if (!has(set, c)) extra.push(c, c);
    }
  } else {
    // A small set: each member's own class (the same classes as scanning them all).
    const seen = new Set<number>();
    for (let i = 0; i < set.length; i += 2)
      for (let cp = set[i]!; cp <= Math.min(set[i + 1]!, 0xffff); cp++) {
        const k = classOf![cp]!;
        if (k === 0 || seen.has(k)) continue;
        seen.add(k);
        for (const c of classes[k - 1]!) if (!has(set, c)) extra.push(c, c);
      }
  }
  return extra.length ? union(set, extra) : set;
}
