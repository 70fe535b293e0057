/**
 * What determinizing a whole-value regex costs Lucene: a local stand-in for its
 * `max_determinized_states` check and for its run time, so the query emitter can refuse a regexp
 * BEFORE sending it. Measured on ES 7.10: a regexp whose determinization is large can keep a node
 * busy for minutes (`.*(…)\\[^\\]{1,256}` took 112 s on an idle node) although it stays under the
 * 10,000-state limit, so we bound both the state count and the total size of the subsets built.
 *
 * Subset construction over a plain Thompson NFA of the assertion-free Lucene form (leading and
 * trailing `.*` included), with the alphabet split into the classes the program distinguishes.
 * Lucene determinizes a differently built automaton, so this is an estimate calibrated on the engine.
 */
import { compileAst, OP } from "./nfa.ts";
import type { ReNode } from "./parse.ts";

export interface DeterminizeCost {
  /** DFA states (stops counting past the caps). */
  states: number;
  /** Sum of the NFA-state subset sizes over all DFA states: the work of the construction. */
  work: number;
  /** True when a cap was hit (the numbers are lower bounds). */
  capped: boolean;
}

export function determinizeCost(whole: ReNode, caps: { states: number; work: number }): DeterminizeCost {
  const prog = compileAst(whole, 0, { runs: false, maxInstructions: 200_000 });
  if ("unsupported" in prog) return { states: Infinity, work: Infinity, capped: true };
  const { code, sets } = prog;
  const ni = code.length / 4;
  // Each consuming instruction reads one "token": a set, or a single character.
  const tokens: number[][] = [];
  const tokenOf = new Int32Array(ni).fill(-1);
  const tokenIndex = new Map<string, number>();
  for (let pc = 0; pc < ni; pc++) {
    const op = code[pc * 4]!;
    const a = code[pc * 4 + 1]!;
    if (op !== OP.CHAR && op !== OP.SET) continue;
    const r = op === OP.CHAR ? [a, a] : sets[a]!;
    const key = r.join(",");
    let t = tokenIndex.get(key);
    if (t === undefined) {
      tokenIndex.set(key, (t = tokens.length));
      tokens.push(r);
    }
    tokenOf[pc] = t;
  }
  // Classes of characters no token tells apart, each as the tokens accepting it.
  const bounds = new Set<number>([0]);
  for (const r of tokens) for (let i = 0; i < r.length; i += 2) bounds.add(r[i]!).add(r[i + 1]! + 1);
  const classes: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const b of bounds) {
    if (b > 0x10ffff) continue;
    const acc = new Uint8Array(tokens.length);
    let sig = "";
    tokens.forEach((r, t) => {
      for (let i = 0; i < r.length; i += 2) {
        if (b >= r[i]! && b <= r[i + 1]!) {
          acc[t] = 1;
          sig += t + ",";
          break;
        }
      }
    });
    if (sig && !seen.has(sig)) {
      seen.add(sig);
      classes.push(acc);
    }
  }
  // Epsilon closures, computed when first needed.
  const eclose: (Int32Array | undefined)[] = new Array(ni);
  const closeOf = (pc0: number): Int32Array => {
    let e = eclose[pc0];
    if (e) return e;
    const out: number[] = [];
    const seenPc = new Set<number>();
    const stack = [pc0];
    while (stack.length) {
      const pc = stack.pop()!;
      if (seenPc.has(pc)) continue;
      seenPc.add(pc);
      const op = code[pc * 4]!;
      if (op === OP.SPLIT) stack.push(code[pc * 4 + 1]!, code[pc * 4 + 2]!);
      else if (op === OP.JMP) stack.push(code[pc * 4 + 1]!);
      else out.push(pc);
    }
    eclose[pc0] = e = Int32Array.from(out);
    return e;
  };
  const mark = new Int32Array(ni);
  let gen = 0;
  const start = Int32Array.from(closeOf(0)).sort();
  const states = new StateSet();
  states.add(start);
  const queue: Int32Array[] = [start];
  let work = start.length;
  const next: number[] = [];
  for (let qi = 0; qi < queue.length; qi++) {
    const st = queue[qi]!;
    for (let ci = 0; ci < classes.length; ci++) {
      const acc = classes[ci]!;
      gen++;
      next.length = 0;
      for (let si = 0; si < st.length; si++) {
        const pc = st[si]!;
        const tok = tokenOf[pc]!;
        if (tok < 0 || !acc[tok]) continue;
        const close = closeOf(pc + 1);
        for (let k = 0; k < close.length; k++) {
          const t = close[k]!;
          if (mark[t] !== gen) {
            mark[t] = gen;
            next.push(t);
          }
        }
      }
      if (!next.length) continue;
      const set = Int32Array.from(next).sort();
      if (!states.add(set)) continue;
      work += set.length;
      if (states.size > caps.states || work > caps.work) return { states: states.size, work, capped: true };
      queue.push(set);
    }
  }
  return { states: states.size, work, capped: false };
}

/** The DFA states seen, each a sorted set of instruction numbers, found by a hash of its numbers. */
class StateSet {
  size = 0;
  private readonly buckets = new Map<number, Int32Array[]>();

  /** Adds `set`; false when it was there. */
  add(set: Int32Array): boolean {
    let h = 0x811c9dc5 ^ set.length;
    for (let i = 0; i < set.length; i++) h = Math.imul(h ^ set[i]!, 16777619);
    const bucket = this.buckets.get(h);
    if (!bucket) this.buckets.set(h, [set]);
    else {
      for (const b of bucket) if (sameSet(b, set)) return false;
      bucket.push(set);
    }
    this.size++;
    return true;
  }
}

function sameSet(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
