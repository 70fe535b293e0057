/**
 * Regex AST → a Thompson NFA program as plain JSON data, run by the fixed interpreters of
 * src/emit/js/regex.ts (JavaScript) and src/shared-scripts/regex.painless (Painless, `reMatch`). Both simulate the NFA breadth-first (Pike VM):
 * every input position is visited once, each instruction at most once per position, so the work is
 * O(input length × program size) and never backtracks.
 *
 * Program layout (`Program`):
 * - `code`: 4 ints per instruction `[op, a, b, c]`; execution starts at instruction 0.
 *     0 CHAR   a = code point
 *     1 SET    a = index into `sets`
 *     2 SPLIT  a, b = the two next instructions
 *     3 JMP    a = next instruction
 *     4 ASSERT a = 0 start of value, 1 end of value, 2 start of line (after `\n`), 3 end of line
 *              (before `\n`), 4 word boundary, 5 not a word boundary (`\w` = [A-Za-z0-9_])
 *     5 RUN    a = set index, b = run index: `set{min,max}` in one instruction (see `runs`)
 *     6 MATCH
 * - `sets`: sorted disjoint inclusive code point ranges `[lo, hi, lo, hi, ...]`, already closed under
 *   case folding when the regex is case-insensitive: the interpreters never fold case at run time.
 * - `runs`: 4 ints per RUN instruction `[pc, set index, min, max]` (max -1 = unbounded). A RUN
 *   replaces `min`/`max` copies of a set (`.{1000,}`) by a queue of start positions per RUN: at each
 *   position the queue drops starts older than `max` and the run exits when its oldest start is at
 *   least `min` back; any character outside the set empties the queue.
 * - `lits`: strings every match contains (case-sensitive); a value lacking one is rejected at once
 *   with `indexOf`, before any simulation.
 * - `ulits`: ASCII strings (longer than any of `lits`, at least 2 characters) that the upper-cased
 *   value (`toUpperCase(Locale.ROOT)` in Painless, `toUpperCase()` in JS) must contain: the
 *   prefilter of case-insensitive patterns.
 * - `anch`: 1 when every match must start at the beginning of the value (no thread is started later).
 * - `lim`: the step budget; the interpreter throws (never hangs) when a value needs more steps.
 * The value is read as Unicode code points (surrogate pairs combined), like Lucene.
 */
import type { RegexValue } from "../types.ts";
import type { CharSet } from "./charset.ts";
import { type AssertKind, type ReNode, isUnsupported, parseRegex, type Unsupported } from "./parse.ts";

export interface Program {
  code: number[];
  sets: CharSet[];
  runs: number[];
  lits: string[];
  ulits: string[];
  anch: number;
  lim: number;
}

export const OP = { CHAR: 0, SET: 1, SPLIT: 2, JMP: 3, ASSERT: 4, RUN: 5, MATCH: 6 } as const;
export const ASSERT_CODE: Record<AssertKind, number> = { bos: 0, eos: 1, bol: 2, eol: 3, wordb: 4, nwordb: 5 };
/** Positions in a RUN entry of `runs` (4 ints each). */
export const RUN_FIELD = { PC: 0, SET: 1, MIN: 2, MAX: 3 } as const;

/** Largest program accepted (instructions). */
export const MAX_INSTRUCTIONS = 5000;
/**
 * Default step budget per value, under Painless's 1,000,000 loop iterations per call frame (the
 * interpreter's own frame loops at most once per step, plus one per prefilter literal; see
 * src/shared-scripts/regex.painless). A step is one instruction visit; a value of length L costs at most
 * about L × (instructions + RUNs) steps, typically L × (2..24): a 32,767-character command line fits.
 * A value that needs more records `outliers.error` for that rule only (the event keeps its other tags).
 */
export const DEFAULT_STEP_LIMIT = 900_000;

/** Sets repeated at least this often become one RUN instruction instead of copies. */
const RUN_THRESHOLD = 8;

class TooBig extends Error {}

// Memo: rule sets repeat the same regex many times (an ee-outliers whitelist regexp is one
// predicate per searched field, in every use case), and compiling one takes milliseconds.
const nfaCache = new Map<string, Program | Unsupported>();

export function toNfa(regex: RegexValue, opts: { stepLimit?: number } = {}): Program | Unsupported {
  const key = JSON.stringify([regex.pattern, regex.flags, opts.stepLimit ?? DEFAULT_STEP_LIMIT]);
  const hit = nfaCache.get(key);
  if (hit) return hit;
  const parsed = parseRegex(regex);
  const out = isUnsupported(parsed) ? parsed : compileAst(parsed.ast, opts.stepLimit ?? DEFAULT_STEP_LIMIT);
  if (nfaCache.size > 10_000) nfaCache.clear();
  nfaCache.set(key, out);
  return out;
}

export function compileAst(
  ast: ReNode,
  lim = DEFAULT_STEP_LIMIT,
  opts: { runs?: boolean; maxInstructions?: number } = {},
): Program | Unsupported {
  const c = new Compiler(opts.runs ?? true, opts.maxInstructions ?? MAX_INSTRUCTIONS);
  try {
    c.emit(ast);
    c.push(OP.MATCH, 0, 0, 0);
  } catch (e) {
    if (e instanceof TooBig) return { unsupported: `regex: program over ${c.maxInstructions} instructions` };
    throw e;
  }
  const lits = requiredLiterals(ast);
  // Case-insensitive parts have no exact literals: upper-cased literals, tested on the upper-cased
  // value, when longer than the exact ones (upper-casing the value costs an allocation).
  const longest = lits.length ? lits[0]!.length : 0;
  const ulits = requiredLiterals(ast, true).filter((u) => u.length > Math.max(longest, 1));
  return { code: c.code, sets: c.sets, runs: c.runs, lits, ulits, anch: anchored(ast) ? 1 : 0, lim };
}

class Compiler {
  code: number[] = [];
  sets: CharSet[] = [];
  runs: number[] = [];
  private setIndex = new Map<string, number>();
  constructor(
    readonly useRuns: boolean,
    readonly maxInstructions: number,
  ) {}

  get pc(): number {
    return this.code.length / 4;
  }
  push(op: number, a: number, b: number, c: number): number {
    if (this.pc >= this.maxInstructions) throw new TooBig();
    this.code.push(op, a, b, c);
    return this.pc - 1;
  }
  patch(pc: number, slot: 1 | 2, value: number): void {
    this.code[pc * 4 + slot] = value;
  }
  set(set: CharSet): number {
    const key = set.join(",");
    let i = this.setIndex.get(key);
    if (i === undefined) {
      i = this.sets.length;
      this.sets.push(set);
      this.setIndex.set(key, i);
    }
    return i;
  }

  emit(n: ReNode): void {
    switch (n.t) {
      case "set":
        if (n.set.length === 2 && n.set[0] === n.set[1]) this.push(OP.CHAR, n.set[0]!, 0, 0);
        else this.push(OP.SET, this.set(n.set), 0, 0);
        return;
      case "assert":
        this.push(OP.ASSERT, ASSERT_CODE[n.kind], 0, 0);
        return;
      case "seq":
        for (const x of n.items) this.emit(x);
        return;
      case "alt": {
        const jumps: number[] = [];
        for (let i = 0; i < n.alts.length - 1; i++) {
          const split = this.push(OP.SPLIT, this.pc + 1, -1, 0);
          this.emit(n.alts[i]!);
          jumps.push(this.push(OP.JMP, -1, 0, 0));
          this.patch(split, 2, this.pc);
        }
        this.emit(n.alts[n.alts.length - 1]!);
        for (const j of jumps) this.patch(j, 1, this.pc);
        return;
      }
      case "rep": {
        const { node, min, max } = n;
        if (this.useRuns && node.t === "set" && (min >= RUN_THRESHOLD || max >= RUN_THRESHOLD)) {
          const set = this.set(node.set);
          const pc = this.push(OP.RUN, set, this.runs.length / 4, 0);
          this.runs.push(pc, set, min, max); // RUN_FIELD order
          return;
        }
        for (let i = 0; i < min; i++) this.emit(node);
        if (max === -1) {
          const loop = this.push(OP.SPLIT, this.pc + 1, -1, 0);
          this.emit(node);
          this.push(OP.JMP, loop, 0, 0);
          this.patch(loop, 2, this.pc);
        } else {
          const splits: number[] = [];
          for (let i = min; i < max; i++) {
            splits.push(this.push(OP.SPLIT, this.pc + 1, -1, 0));
            this.emit(node);
          }
          for (const s of splits) this.patch(s, 2, this.pc);
        }
        return;
      }
    }
  }
}

/** Does every match start at the beginning of the value? */
function anchored(n: ReNode): boolean {
  switch (n.t) {
    case "assert":
      return n.kind === "bos";
    case "seq":
      return n.items.length > 0 && anchored(n.items[0]!);
    case "alt":
      return n.alts.every(anchored);
    default:
      return false;
  }
}

interface Lits {
  /** The node always matches exactly this string. */
  exact?: string;
  /** Strings every match of the node contains. */
  must: string[];
}

type Token = (set: CharSet) => string | undefined;

/** Case-sensitive literals: single characters. */
const exactToken: Token = (set) => (set.length === 2 && set[0] === set[1] ? String.fromCodePoint(set[0]!) : undefined);

/**
 * Literals of the upper-cased value: an ASCII character alone, or an ASCII letter with its other
 * case, as upper case. Sound because no non-ASCII character folds to an ASCII letter (canonicalize
 * in charset.ts) and upper-casing maps each character on its own, so a match's ASCII run survives.
 */
const upperToken: Token = (set) => {
  if (set.length === 2 && set[0] === set[1] && set[0]! < 128) return String.fromCharCode(set[0]!).toUpperCase();
  if (
    set.length === 4 &&
    set[0] === set[1] &&
    set[2] === set[3] &&
    set[0]! >= 65 &&
    set[0]! <= 90 &&
    set[2] === set[0]! + 32
  )
    return String.fromCharCode(set[0]!);
  return undefined;
};

function lits(n: ReNode, tok: Token): Lits {
  switch (n.t) {
    case "set": {
      const t = tok(n.set);
      return t !== undefined ? { exact: t, must: [] } : { must: [] };
    }
    case "assert":
      return { exact: "", must: [] };
    case "seq": {
      const must: string[] = [];
      let run = "";
      let allExact = true;
      for (const x of n.items) {
        const l = lits(x, tok);
        if (l.exact !== undefined) run += l.exact;
        else {
          allExact = false;
          if (run) must.push(run);
          run = "";
          must.push(...l.must);
        }
      }
      if (allExact) return { exact: run, must: [] };
      if (run) must.push(run);
      return { must };
    }
    case "alt": {
      const ls = n.alts.map((a) => lits(a, tok));
      if (ls.every((l) => l.exact !== undefined && l.exact === ls[0]!.exact)) return ls[0]!;
      return { must: [] };
    }
    case "rep": {
      if (n.min === 0) return { must: [] };
      const l = lits(n.node, tok);
      if (l.exact !== undefined)
        return n.min === n.max ? { exact: l.exact.repeat(n.min), must: [] } : { must: l.exact ? [l.exact] : [] };
      return { must: l.must };
    }
  }
}

/** Up to three of the longest literals every match contains. */
export function requiredLiterals(ast: ReNode, upper = false): string[] {
  const l = lits(ast, upper ? upperToken : exactToken);
  const all = l.exact !== undefined ? [l.exact] : l.must;
  return [...new Set(all.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length).slice(0, 3);
}
