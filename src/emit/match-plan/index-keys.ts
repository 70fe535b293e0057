/**
 * Index keys: the necessary conditions the matcher files rules under (params dk/dm/dg/dp/gf, see
 * encode.ts), the grams of literals and their hash, and the cost model that picks a rule's cheapest
 * key set. Keys are read off the lowered rule (lower.ts: the match ops, one lowering for every
 * emitter); the JavaScript scan matcher (src/emit/js/matcher.ts) files its rules under the same keys.
 */
import type { Field, Node } from "../../ir/types.ts";
import { RuleError } from "../../ir/errors.ts";
import { foldAscii } from "../../ir/semantics.ts";
import { MODE } from "../painless/layout.ts";
import { lowerPredicate, type PlanNode } from "./lower.ts";
import type { MatchOp, StringMatch } from "./ops.ts";

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

/** How many distinct literals of the rule set contain a gram (`last`: the literal that counted it last). */
export interface GramCell {
  literals: number;
  last: number;
}

/**
 * Per gram, how many distinct literals of the rule set contain it (see gramCost), keyed by gramId.
 * A rule set has about a million grams: numbers hash far faster than the gram strings.
 */
export type GramCounts = Map<number | string, GramCell>;

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

/** The literal runs a match op requires in a keyword value (folded), or null when it has none. */
function requiredLiterals(op: MatchOp): string[] | null {
  if (op.kind === "string") return op.view === "keyword" && op.test !== "eq" ? [folded(op)] : null;
  if (op.kind === "glob" && op.view === "keyword") {
    const out: string[] = [];
    for (const x of op.parts) if ("lit" in x) out.push(foldAscii(x.lit));
    return out;
  }
  return null;
}

/** A string op's value, ASCII-folded (its `compare` already is, unless exact). */
function folded(op: StringMatch): string {
  return op.exact ? foldAscii(op.value) : op.compare;
}

/**
 * Counts, for the gram cost model, the literals of every rule in the set: `trees`, one per rule, are
 * the lowered conditions, or the condition itself for a rule that does not lower (each of its
 * predicates lowered on its own: a rule that will not encode still weighs its literals).
 */
export function countGrams(trees: (PlanNode | Node)[]): GramCounts {
  const literals = new Set<string>();
  const add = (op: MatchOp): void => {
    const lits = requiredLiterals(op);
    if (lits) for (const l of lits) literals.add(l);
  };
  const visit = (n: PlanNode | Node): void => {
    switch (n.kind) {
      case "and":
      case "or":
        for (const c of n.children) visit(c);
        return;
      case "not":
        visit(n.child);
        return;
      case "const":
        return;
      case "op":
        add(n.op);
        return;
      default:
        try {
          add(lowerPredicate(n));
        } catch (e) {
          if (!(e instanceof RuleError)) throw e;
        }
    }
  };
  for (const t of trees) visit(t);
  const counts: GramCounts = new Map();
  // Each literal's grams as their cells (and places), to price them once the counts are final.
  const held: { lit: string; cells: GramCell[]; at: number[] }[] = [];
  let li = 0;
  for (const lit of literals) {
    li++;
    const cells: GramCell[] = [];
    const at: number[] = [];
    forEachGram(lit, (i, n) => {
      const g = gramId(lit, i, n);
      let cell = counts.get(g);
      if (!cell) counts.set(g, (cell = { literals: 0, last: 0 }));
      if (cell.last !== li) {
        cell.last = li; // once per literal
        cell.literals++;
      }
      cells.push(cell);
      at.push(i, n);
    });
    held.push({ lit, cells, at });
  }
  // Every literal's rarest gram (the first of the cheapest), without looking its grams up again.
  const best = new Map<string, BestGram | null>();
  for (const { lit, cells, at } of held) {
    let b: BestGram | null = null;
    for (let k = 0; k < cells.length; k++) {
      const i = at[2 * k]!;
      const n = at[2 * k + 1]!;
      const c = priceGram(cells[k]!.literals, lit, i, n);
      if (b === null || c < b.cost) b = { gram: lit.slice(i, i + n), cost: c };
    }
    best.set(lit, b);
  }
  bestGrams.set(counts, best);
  return counts;
}

/** The cost of the gram `lit.slice(i, i + n)` (the whole of `lit` when i and n are left out). */
function gramCost(counts: GramCounts, lit: string, i = 0, n = lit.length): number {
  return priceGram(counts.get(gramId(lit, i, n))?.literals, lit, i, n);
}

/** The cost of the gram `lit.slice(i, i + n)` that `count` literals of the rule set contain. */
function priceGram(count: number | undefined, lit: string, i: number, n: number): number {
  // A gram of one literal only is as rare as a whole value; each other literal sharing it adds.
  // Non-ASCII text (emoji, look-alike letters) is rare in Windows events, whatever the rule set
  // shares (variation selectors, skin-tone modifiers). Short ASCII grams are common text, whatever
  // the rules say: a 2-gram at least 1, a single character as common as the guard.
  const shared = Math.max(0, (count ?? 1) - 1);
  for (let k = i; k < i + n; k++) if (lit.charCodeAt(k) > 0x7f) return Math.min(100, 0.01 * (1 + shared));
  const c = Math.min(100, VALUE_COST + 0.2 * shared);
  return n >= GRAM_LENGTH ? c : Math.max(c, n === 1 ? 100 : 1);
}

type BestGram = { gram: string; cost: number };

/**
 * The rarest gram of a literal, and its cost, per rule set (rules share literals across sources and
 * fields): countGrams fills it for every literal it counted.
 */
const bestGrams = new WeakMap<GramCounts, Map<string, BestGram | null>>();

function bestGram(grams: GramCounts, lit: string): BestGram | null {
  let memo = bestGrams.get(grams);
  if (!memo) bestGrams.set(grams, (memo = new Map()));
  const hit = memo.get(lit);
  if (hit !== undefined) return hit;
  let best: BestGram | null = null;
  forEachGram(lit, (i, n) => {
    const c = gramCost(grams, lit, i, n);
    if (best === null || c < best.cost) best = { gram: lit.slice(i, i + n), cost: c };
  });
  memo.set(lit, best);
  return best;
}

function keyOfOp(op: MatchOp, grams: GramCounts): Key[] | null {
  switch (op.kind) {
    case "number":
      return op.view === "long" && op.cmp === "eq" && Number.isSafeInteger(op.value)
        ? [{ field: op.field, mode: MODE.LONG, key: String(op.value) }]
        : null;
    case "string": {
      if (op.view !== "keyword") return null;
      const v = op.value;
      if (op.test === "eq") return [{ field: op.field, mode: MODE.VALUE, key: folded(op) }];
      if (op.test === "suffix" && v.length > 1 && v[0] === "\\" && !v.includes("\\", 1))
        return [{ field: op.field, mode: MODE.BASENAME, key: foldAscii(v.slice(1)) }];
      break;
    }
    case "glob":
      break;
    default:
      return null;
  }
  // The rarest gram of the literals the value must contain (the first of the cheapest).
  let best: BestGram | null = null;
  for (const lit of requiredLiterals(op) ?? []) {
    const b = bestGram(grams, lit);
    if (b && (best === null || b.cost < best.cost)) best = b;
  }
  return best === null ? null : [{ field: op.field, mode: MODE.GRAM, key: best.gram }];
}

function cost(keys: Key[], grams: GramCounts, guards: GuardCosts): number {
  let c = 0;
  for (const k of keys) c += k.mode === MODE.GRAM ? gramCost(grams, k.key) : (guards[k.field.name] ?? VALUE_COST);
  return c;
}

/**
 * The cheapest set of keys one of which every event matching the lowered tree `n` (lower.ts
 * lowerNode) must hold; null when none is known. The keys are a function of the match ops alone.
 * `grams` (countGrams of the rule set) prices gram keys; without it every gram costs the minimum.
 * `guards` (the profile's guardCosts) prices the logsource guard fields; without it none is dearer
 * than any other value.
 */
export function indexKeys(
  n: PlanNode,
  grams: GramCounts = new Map(),
  guards: GuardCosts = NO_GUARD_COSTS,
): Key[] | null {
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
    case "op":
      return keyOfOp(n.op, grams);
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
