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
  const member = (pc: number, c: number): boolean => {
    const op = code[pc * 4]!;
    const a = code[pc * 4 + 1]!;
    if (op === OP.CHAR) return c === a;
    if (op !== OP.SET) return false;
    const r = sets[a]!;
    for (let i = 0; i < r.length; i += 2) if (c >= r[i]! && c <= r[i + 1]!) return true;
    return false;
  };
  // Classes of characters no instruction tells apart: for each, the instructions accepting it.
  const bounds = new Set<number>([0]);
  for (let pc = 0; pc < ni; pc++) {
    const op = code[pc * 4]!;
    const a = code[pc * 4 + 1]!;
    if (op === OP.CHAR) bounds.add(a).add(a + 1);
    else if (op === OP.SET) for (let i = 0; i < sets[a]!.length; i += 2) bounds.add(sets[a]![i]!).add(sets[a]![i + 1]! + 1);
  }
  const classes: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const b of bounds) {
    if (b > 0x10ffff) continue;
    const acc = new Uint8Array(ni);
    let sig = "";
    for (let pc = 0; pc < ni; pc++) if (member(pc, b)) {
      acc[pc] = 1;
      sig += pc + ",";
    }
    if (sig && !seen.has(sig)) {
      seen.add(sig);
      classes.push(acc);
    }
  }
  // Epsilon closure of every instruction, computed once.
  const eclose: Int32Array[] = [];
  for (let pc0 = 0; pc0 < ni; pc0++) {
    const out: number[] = [];
    const mark = new Uint8Array(ni);
    const stack = [pc0];
    while (stack.length) {
      const pc = stack.pop()!;
      if (mark[pc]) continue;
      mark[pc] = 1;
      const op = code[pc * 4]!;
      if (op === OP.SPLIT) stack.push(code[pc * 4 + 1]!, code[pc * 4 + 2]!);
      else if (op === OP.JMP) stack.push(code[pc * 4 + 1]!);
      else out.push(pc);
    }
    eclose.push(Int32Array.from(out));
  }
  const mark = new Int32Array(ni);
  let gen = 0;
  const start = Array.from(eclose[0]!).sort((x, y) => x - y);
  const states = new Set<string>([start.join(",")]);
  const queue: number[][] = [start];
  let work = start.length;
  for (let qi = 0; qi < queue.length; qi++) {
    const st = queue[qi]!;
    for (const acc of classes) {
      gen++;
      const next: number[] = [];
      for (const pc of st) {
        if (!acc[pc]) continue;
        for (const t of eclose[pc + 1]!) if (mark[t] !== gen) {
          mark[t] = gen;
          next.push(t);
        }
      }
      if (!next.length) continue;
      next.sort((x, y) => x - y);
      const key = next.join(",");
      if (states.has(key)) continue;
      states.add(key);
      work += next.length;
      if (states.size > caps.states || work > caps.work) return { states: states.size, work, capped: true };
      queue.push(next);
    }
  }
  return { states: states.size, work, capped: false };
}
