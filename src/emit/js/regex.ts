/**
 * The JavaScript twin of the Painless interpreter in painless.ts: same program, same algorithm, same
 * answers (the differential tests hold them to each other and to JavaScript RegExp). Used by the
 * local scan and by tests. Unanchored search: true when some substring of `s` matches. Steps are
 * counted exactly as the Painless version counts them, so both throw on the same values.
 */
import type { Program } from "../../ir/regex/nfa.ts";

export class RegexBudgetError extends Error {}

function inSet(r: number[], c: number): boolean {
  let lo = 0;
  let hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (c < r[2 * m]!) hi = m - 1;
    else if (c > r[2 * m + 1]!) lo = m + 1;
    else return true;
  }
  return false;
}

function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);
}

export function runProgram(prog: Program, s: string): boolean {
  return runProgramCounted(prog, s).match;
}

/** The answer and the steps it took (the quantity `prog.lim` bounds; 0 when the prefilter rejects). */
export function runProgramCounted(prog: Program, s: string): { match: boolean; steps: number } {
  let steps = 0;
  const match = run(prog, s, (n) => (steps = n));
  return { match, steps };
}

function run(prog: Program, s: string, report: (steps: number) => void): boolean {
  for (const lit of prog.lits) if (s.indexOf(lit) < 0) return false;
  if (prog.ulits?.length) {
    const u = s.toUpperCase();
    for (const lit of prog.ulits) if (u.indexOf(lit) < 0) return false;
  }
  const { code, sets, runs, lim } = prog;
  const ni = code.length >> 2;
  const nr = runs.length >> 2;
  const n = s.length;
  const mark = new Int32Array(ni);
  const pmark = new Int32Array(ni);
  const clist = new Int32Array(ni);
  const pend = new Int32Array(ni);
  const stk = new Int32Array(2 * ni + 2);
  // RUN queues: arrival positions (in code points), one segment of n+1 slots per RUN.
  const q = new Int32Array(nr * (n + 1));
  const qh = new Int32Array(nr);
  const qt = new Int32Array(nr);
  let cn = 0;
  let pn = 0;
  let gen = 0;
  let steps = 0;
  let p = 0; // UTF-16 index
  let k = 0; // code point index
  let prev = -1;
  let cur = -1;

  // Follows SPLIT/JMP/ASSERT/RUN from pc at the current position; returns true on MATCH.
  const close = (start: number): boolean => {
    let sp = 0;
    stk[sp++] = start;
    while (sp > 0) {
      const pc = stk[--sp]!;
      if (++steps > lim) throw new RegexBudgetError(`regex: step budget ${lim} exceeded (value length ${n})`);
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const i = pc << 2;
      const op = code[i]!;
      if (op <= 1) clist[cn++] = pc;
      else if (op === 2) {
        stk[sp++] = code[i + 2]!;
        stk[sp++] = code[i + 1]!;
      } else if (op === 3) stk[sp++] = code[i + 1]!;
      else if (op === 4) {
        const a = code[i + 1]!;
        let ok: boolean;
        if (a === 0) ok = p === 0;
        else if (a === 1) ok = p >= n;
        else if (a === 2) ok = p === 0 || prev === 10;
        else if (a === 3) ok = p >= n || cur === 10;
        else ok = (isWord(prev) !== isWord(cur)) === (a === 4);
        if (ok) stk[sp++] = pc + 1;
      } else if (op === 5) {
        const r = code[i + 2]!;
        const base = r * (n + 1);
        if (qt[r] === qh[r] || q[base + qt[r]! - 1] !== k) q[base + qt[r]!++] = k;
        if (runs[4 * r + 2] === 0) stk[sp++] = pc + 1;
      } else return true; // MATCH
    }
    return false;
  };

  try {
    for (;;) {
      if (++steps > lim) throw new RegexBudgetError(`regex: step budget ${lim} exceeded (value length ${n})`);
      gen++;
      cn = 0;
      cur = -1;
      if (p < n) {
        cur = s.charCodeAt(p);
        if (cur >= 0xd800 && cur <= 0xdbff && p + 1 < n) {
          const lo = s.charCodeAt(p + 1);
          if (lo >= 0xdc00 && lo <= 0xdfff) cur = 0x10000 + ((cur - 0xd800) << 10) + (lo - 0xdc00);
        }
      }
      for (let j = 0; j < pn; j++) {
        steps++;
        if (close(pend[j]!)) return true;
      }
      let live = pn > 0;
      for (let r = 0; r < nr; r++) {
        steps++;
        if (qh[r] === qt[r]) continue;
        live = true;
        const min = runs[4 * r + 2]!;
        const max = runs[4 * r + 3]!;
        const base = r * (n + 1);
        if (max >= 0) while (qh[r]! < qt[r]! && q[base + qh[r]!]! < k - max) qh[r]!++;
        if (qh[r]! < qt[r]! && q[base + qh[r]!]! <= k - min) {
          if (close(runs[4 * r]! + 1)) return true;
        }
      }
      if (prog.anch === 0 || k === 0) {
        if (close(0)) return true;
      } else if (!live) return false;
      if (p >= n) return false;
      // step over cur
      pn = 0;
      for (let j = 0; j < cn; j++) {
        const pc = clist[j]!;
        const i = pc << 2;
        const ok = code[i] === 0 ? code[i + 1] === cur : inSet(sets[code[i + 1]!]!, cur);
        steps++;
        if (ok && pmark[pc + 1] !== gen) {
          pmark[pc + 1] = gen;
          pend[pn++] = pc + 1;
        }
      }
      for (let r = 0; r < nr; r++) {
        steps++;
        if (qh[r] === qt[r]) continue;
        if (!inSet(sets[runs[4 * r + 1]!]!, cur)) qh[r] = qt[r]!;
      }
      p += cur > 0xffff ? 2 : 1;
      k++;
      prev = cur;
    }
  } finally {
    report(steps);
  }
}
