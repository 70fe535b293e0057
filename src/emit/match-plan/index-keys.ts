/**
 * Index keys: the necessary conditions the matcher files rules under (params dk/dm/dg/dp/gf, see
 * encode.ts), the grams of literals and their hash, and the cost model that picks a rule's cheapest
 * key set. The JavaScript scan matcher (src/emit/js/matcher.ts) files its rules under the same keys.
 */
import type { Field, Node, Predicate, Rule } from "../../ir/types.ts";
import { wildcardShape } from "../../ir/build.ts";
import { foldAscii, isStringField } from "../../ir/semantics.ts";
import { MODE } from "../painless/layout.ts";

// A rule is a candidate for an event only when the event holds one of its keys.
//
// Modes: 0 the folded value equals the key, 1 the folded base name after the last `\` equals it,
// 2 the integer value of a long field equals it, 3 the folded value CONTAINS the key, a GRAM of
// GRAM_LENGTH characters taken from a literal the value must contain (contains, prefix, suffix,
// wildcard segments), or of SHORT_GRAM_LENGTH (or 1) for a shorter literal (an emoji is two UTF-16
// units, some symbols one).
// Each gram length is its own dimension. Keys are necessary conditions only (the matcher still
// evaluates the rule), so folding a case-sensitive literal keeps a superset.

export interface Key {
  field: Field;
  mode: (typeof MODE)[keyof typeof MODE];
  key: string;
}

/** Gram lengths are 4, 2 and 1: the matcher's gram hash (matcher.painless, oxDim) is unrolled for these. */
export const GRAM_LENGTH = 4;
export const SHORT_GRAM_LENGTH = 2;
/**
 * Values longer than this are not scanned gram by gram: every rule of the field's gram index becomes
 * a candidate instead (a superset, and the script stays far from Painless' loop limit).
 */
export const GRAM_SCAN_LIMIT = 4096;

/**
 * What a key costs: roughly how often an event holds it, in percent of the events of its logsource.
 * A rule's key set costs the sum of its keys; the cheapest set wins, and a rule whose every choice
 * costs more than its logsource guard is keyed by the guard. The guard fields' costs are a fact of
 * the mapping profile (Profile.guardCosts: channel and provider carry every event of a source, an
 * event id most of one); any other whole value or base name is rare (VALUE_COST); a gram costs more
 * the more literals of the rule set share it (a proxy for how common its text is: `.exe`, `\win`).
 */
const VALUE_COST = 0.05;

/** Per index field name, the cost of a key on it (fields not named cost VALUE_COST); see Profile.guardCosts. */
export type GuardCosts = Readonly<Record<string, number>>;

/** No field priced as a guard: every whole-value key costs VALUE_COST. */
const NO_GUARD_COSTS: GuardCosts = {};

/**
 * Per gram, how many distinct literals of the rule set contain it (see gramCost), keyed by gramId.
 * A rule set has about a million grams: numbers hash far faster than the gram strings.
 */
export type GramCounts = Map<number | string, number>;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * Calls `fn(i, n)` for each of a literal's grams `lit.slice(i, i + n)`: of GRAM_LENGTH, or of
 * SHORT_GRAM_LENGTH (or 1) when it is shorter than that or has no whole GRAM_LENGTH gram (an emoji
 * sequence can have none that does not split a pair). Never half a surrogate pair at either end:
 * such a key is no text (and breaks JSON writers).
 */
function forEachGram(lit: string, fn: (i: number, n: number) => void): void {
  for (const n of [GRAM_LENGTH, SHORT_GRAM_LENGTH, 1]) {
    if (n > lit.length) continue;
    let any = false;
    for (let i = 0; i + n <= lit.length; i++) {
      if (isLowSurrogate(lit.charCodeAt(i)) || isHighSurrogate(lit.charCodeAt(i + n - 1))) continue;
      any = true;
      fn(i, n);
    }
    if (any) return;
  }
}

const B = 8192; // 13 bits a character: four of them and the length tag stay below 2^53
const SHORT = B * B * B * B;

/** The gram `lit.slice(i, i + n)` as a number (characters below U+2000, lengths 4, 2, 1), else as the string. */
function gramId(lit: string, i: number, n: number): number | string {
  let id = 0;
  for (let k = 0; k < n; k++) {
    const c = lit.charCodeAt(i + k);
    if (c >= B) return lit.slice(i, i + n);
    id = id * B + c;
  }
  return n === GRAM_LENGTH ? id : SHORT * (n === SHORT_GRAM_LENGTH ? 1 : 2) + id;
}

/** The literal runs a string predicate requires in the value (folded), or null when it has none. */
function requiredLiterals(p: Predicate): string[] | null {
  if (!("field" in p) || !isStringField(p.field)) return null;
  switch (p.kind) {
    case "contains":
    case "prefix":
    case "suffix":
      return [foldAscii(p.value)];
    case "wildcard":
      return p.parts.flatMap((x) => ("lit" in x ? [foldAscii(x.lit)] : []));
    default:
      return null;
  }
}

/** Counts, for the gram cost model, the literals of every rule in the set. */
export function countGrams(rules: Rule[]): GramCounts {
  const literals = new Set<string>();
  const visit = (n: Node): void => {
    if (n.kind === "and" || n.kind === "or") n.children.forEach(visit);
    else if (n.kind === "not") visit(n.child);
    else if (n.kind !== "const") for (const l of requiredLiterals(n) ?? []) literals.add(l);
  };
  for (const r of rules) visit(r.condition);
  const counts: GramCounts = new Map();
  const countedFor = new Map<number | string, number>(); // gram -> the literal that counted it last
  let li = 0;
  for (const l of literals) {
    li++;
    forEachGram(l, (i, n) => {
      const g = gramId(l, i, n);
      if (countedFor.get(g) === li) return; // once per literal
      countedFor.set(g, li);
      counts.set(g, (counts.get(g) ?? 0) + 1);
    });
  }
  return counts;
}

/** gramCost per rule set, per gram: keys ask for the same grams many times. */
const gramCosts = new WeakMap<GramCounts, Map<number | string, number>>();

/** The cost of the gram `lit.slice(i, i + n)` (the whole of `lit` when i and n are left out). */
function gramCost(counts: GramCounts, lit: string, i = 0, n = lit.length): number {
  let memo = gramCosts.get(counts);
  if (!memo) gramCosts.set(counts, (memo = new Map()));
  const id = gramId(lit, i, n);
  let c = memo.get(id);
  if (c === undefined) memo.set(id, (c = priceGram(counts.get(id), lit.slice(i, i + n))));
  return c;
}

function priceGram(count: number | undefined, gram: string): number {
  // A gram of one literal only is as rare as a whole value; each other literal sharing it adds.
  // Non-ASCII text (emoji, look-alike letters) is rare in Windows events, whatever the rule set
  // shares (variation selectors, skin-tone modifiers). Short ASCII grams are common text, whatever
  // the rules say: a 2-gram at least 1, a single character as common as the guard.
  const shared = Math.max(0, (count ?? 1) - 1);
  if (/[^\x00-\x7f]/.test(gram)) return Math.min(100, 0.01 * (1 + shared));
  const c = Math.min(100, VALUE_COST + 0.2 * shared);
  return gram.length >= GRAM_LENGTH ? c : Math.max(c, gram.length === 1 ? 100 : 1);
}

function keyOfPredicate(p: Predicate, grams: GramCounts): Key[] | null {
  const f = "field" in p ? p.field : undefined;
  if (!f) return null;
  const stringField = isStringField(f);
  let kind: string = p.kind;
  let value: string | undefined = "value" in p && typeof p.value === "string" ? p.value : undefined;
  if (p.kind === "wildcard") {
    const s = wildcardShape(p.parts);
    if (s.kind !== "wildcard") {
      kind = s.kind;
      value = s.value;
    }
  }
  if (p.kind === "number") {
    if (p.op !== "eq") return null;
    if (f.type === "long" && Number.isSafeInteger(p.value))
      return [{ field: f, mode: MODE.LONG, key: String(p.value) }];
    if (f.type !== "double" && stringField) return [{ field: f, mode: MODE.VALUE, key: foldAscii(String(p.value)) }];
    return null;
  }
  if (!stringField) return null;
  if (kind === "equals" && value !== undefined) return [{ field: f, mode: MODE.VALUE, key: foldAscii(value) }];
  if (
    kind === "suffix" &&
    value !== undefined &&
    value.length > 1 &&
    value[0] === "\\" &&
    !value.slice(1).includes("\\")
  )
    return [{ field: f, mode: MODE.BASENAME, key: foldAscii(value.slice(1)) }];
  // The rarest gram of the literals the value must contain.
  let best: string | undefined;
  let bestCost = Infinity;
  for (const lit of requiredLiterals(p) ?? [])
    forEachGram(lit, (i, n) => {
      const c = gramCost(grams, lit, i, n);
      if (c < bestCost) [best, bestCost] = [lit.slice(i, i + n), c];
    });
  return best === undefined ? null : [{ field: f, mode: MODE.GRAM, key: best }];
}

function cost(keys: Key[], grams: GramCounts, guards: GuardCosts): number {
  let c = 0;
  for (const k of keys) c += k.mode === MODE.GRAM ? gramCost(grams, k.key) : (guards[k.field.name] ?? VALUE_COST);
  return c;
}

/**
 * The cheapest set of keys one of which every event matching `n` must hold; null when none is known.
 * `grams` (countGrams of the rule set) prices gram keys; without it every gram costs the minimum.
 * `guards` (the profile's guardCosts) prices the logsource guard fields; without it none is dearer
 * than any other value.
 */
export function indexKeys(n: Node, grams: GramCounts = new Map(), guards: GuardCosts = NO_GUARD_COSTS): Key[] | null {
  switch (n.kind) {
    case "const":
      return n.value ? null : [];
    case "not":
      return null;
    case "or": {
      const all: Key[] = [];
      for (const c of n.children) {
        const k = indexKeys(c, grams, guards);
        if (k === null) return null;
        all.push(...k);
      }
      return all;
    }
    case "and": {
      let best: Key[] | null = null;
      let bestCost = Infinity;
      for (const c of n.children) {
        const k = indexKeys(c, grams, guards);
        if (k === null) continue;
        const ck = cost(k, grams, guards);
        if (ck < bestCost) [best, bestCost] = [k, ck];
      }
      return best;
    }
    default:
      return keyOfPredicate(n, grams);
  }
}

/** Java's `31 * h + c` over the gram's UTF-16 units (int overflow), low 16 bits: the matcher's hash. */
export function gramHash(gram: string): number {
  let h = 0;
  for (let i = 0; i < gram.length; i++) h = (Math.imul(h, 31) + gram.charCodeAt(i)) | 0;
  return h & 0xffff;
}

/** The bit filter of `gf`: bit gramHash(g) set for every key g; characters 0–255 only (valid JSON text). */
export function gramFilter(keys: string[]): string {
  const bits = new Uint8Array(8192);
  for (const k of keys) {
    const h = gramHash(k);
    bits[h >> 3]! |= 1 << (h & 7);
  }
  let out = "";
  for (const b of bits) out += String.fromCharCode(b);
  return out;
}
