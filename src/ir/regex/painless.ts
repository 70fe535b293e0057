/**
 * The FIXED Painless source of the regex interpreter: rule regexes never reach script source, only
 * their compiled programs (nfa.ts) do, through params. Paste `REGEX_PAINLESS` among the script's
 * function declarations (before any statement) and call
 *
 *     boolean reMatch(def prog, String s)
 *
 * with `prog` = the `Program` object of `toNfa` as it arrives in params (a Map with `code`, `sets`,
 * `runs`, `lits`, `ulits`, `anch`, `lim`). It returns whether some substring of `s` matches (unanchored search).
 * Helpers `reIn`, `reWord`, `reClose` are declared too (names reserved).
 *
 * Same algorithm as vm.ts, line for line: a Pike VM (breadth-first NFA simulation with a visited
 * mark per instruction and position), no regex, no lambdas, no recursion.
 *
 * Loop limit. Painless stops a script with an uncatchable error when one function invocation runs
 * more than 1,000,000 loop iterations (measured on ES 7.10: the counter is per call frame — a
 * function looping 900,000 times can be called three times in one script; the script body is a
 * frame too). Here a "step" is one loop iteration of `reMatch` or one stack pop in `reClose`; when a
 * call needs more than `prog.lim` steps (200,000 by default) it throws
 * `IllegalArgumentException("regex: step budget N exceeded (value length L)")` — catchable, so the
 * caller can record the failure on the event — long before any frame could reach 1,000,000
 * (`reClose` pops at most 2 × instructions + 2 per call, `reIn` is a binary search).
 * Cost: about (value length) × (1 + active threads + 2 × RUNs) steps; active threads are typically
 * 1-10, at most the program size. So the default budget covers an 8,191-character value (the
 * keyword `ignore_above`) at ~24 steps per character, and the prefilter on required literals
 * (`lits`, one `indexOf` each) skips most values without any step.
 * Memory: about 5 ints per instruction + (RUNs × (length + 1)) ints.
 * Values are read as code points (surrogate pairs combined), as Lucene reads terms. (Decimal
 * constants: Painless reads a hex literal ending in F or D as a float/double.)
 */
export const REGEX_FUNCTION_NAME = "reMatch";

export const REGEX_PAINLESS = `
boolean reIn(List r, int c) {
  int lo = 0; int hi = (r.size() >> 1) - 1;
  while (lo <= hi) {
    int m = (lo + hi) >> 1;
    if (c < (int) r.get(2 * m)) { hi = m - 1; } else if (c > (int) r.get(2 * m + 1)) { lo = m + 1; } else { return true; }
  }
  return false;
}
boolean reWord(int c) { return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c == 95 || (c >= 97 && c <= 122); }
boolean reClose(List code, List runs, int[] v, int[] mark, int[] cl, int[] stk, int[] q, int[] qh, int[] qt, int start) {
  int gen = v[7]; int p = v[2]; int k = v[3]; int prev = v[4]; int cur = v[5]; int n = v[6];
  int sp = 1; stk[0] = start;
  while (sp > 0) {
    sp -= 1;
    v[1] += 1;
    if (v[1] > v[8]) { throw new IllegalArgumentException('regex: step budget ' + v[8] + ' exceeded (value length ' + n + ')'); }
    int pc = stk[sp];
    if (mark[pc] == gen) { continue; }
    mark[pc] = gen;
    int i = pc * 4;
    int op = (int) code.get(i);
    if (op <= 1) { cl[v[0]] = pc; v[0] += 1; }
    else if (op == 2) { stk[sp] = (int) code.get(i + 2); stk[sp + 1] = (int) code.get(i + 1); sp += 2; }
    else if (op == 3) { stk[sp] = (int) code.get(i + 1); sp += 1; }
    else if (op == 4) {
      int a = (int) code.get(i + 1);
      boolean ok;
      if (a == 0) { ok = p == 0; }
      else if (a == 1) { ok = p >= n; }
      else if (a == 2) { ok = p == 0 || prev == 10; }
      else if (a == 3) { ok = p >= n || cur == 10; }
      else { ok = (reWord(prev) != reWord(cur)) == (a == 4); }
      if (ok) { stk[sp] = pc + 1; sp += 1; }
    }
    else if (op == 5) {
      int r = (int) code.get(i + 2);
      int base = r * (n + 1);
      if (qt[r] == qh[r] || q[base + qt[r] - 1] != k) { q[base + qt[r]] = k; qt[r] += 1; }
      if ((int) runs.get(4 * r + 2) == 0) { stk[sp] = pc + 1; sp += 1; }
    }
    else { return true; }
  }
  return false;
}
boolean reMatch(def prog, String s) {
  List lits = prog.lits;
  for (int j = 0; j < lits.size(); ++j) { if (s.indexOf((String) lits.get(j)) < 0) { return false; } }
  List ulits = prog.ulits;
  if (ulits != null && ulits.size() > 0) {
    String u = s.toUpperCase(Locale.ROOT);
    for (int j = 0; j < ulits.size(); ++j) { if (u.indexOf((String) ulits.get(j)) < 0) { return false; } }
  }
  List code = prog.code; List sets = prog.sets; List runs = prog.runs;
  int ni = code.size() >> 2; int nr = runs.size() >> 2; int n = s.length();
  int anch = (int) prog.anch;
  int[] mark = new int[ni]; int[] pmark = new int[ni]; int[] cl = new int[ni]; int[] pend = new int[ni];
  int[] stk = new int[2 * ni + 2];
  int[] q = new int[nr * (n + 1)]; int[] qh = new int[nr]; int[] qt = new int[nr];
  int[] v = new int[9];
  v[6] = n; v[8] = (int) prog.lim;
  int pn = 0; int gen = 0; int p = 0; int k = 0; int prev = -1;
  while (p <= n) {
    v[1] += 1;
    if (v[1] > v[8]) { throw new IllegalArgumentException('regex: step budget ' + v[8] + ' exceeded (value length ' + n + ')'); }
    gen += 1; v[7] = gen; v[0] = 0;
    int cur = -1;
    if (p < n) {
      cur = (int) s.charAt(p);
      if (cur >= 55296 && cur <= 56319 && p + 1 < n) {
        int lo = (int) s.charAt(p + 1);
        if (lo >= 56320 && lo <= 57343) { cur = 65536 + ((cur - 55296) << 10) + (lo - 56320); }
      }
    }
    v[2] = p; v[3] = k; v[4] = prev; v[5] = cur;
    for (int j = 0; j < pn; ++j) { v[1] += 1; if (reClose(code, runs, v, mark, cl, stk, q, qh, qt, pend[j])) { return true; } }
    boolean live = pn > 0;
    for (int r = 0; r < nr; ++r) {
      v[1] += 1;
      if (qh[r] == qt[r]) { continue; }
      live = true;
      int min = (int) runs.get(4 * r + 2); int max = (int) runs.get(4 * r + 3); int base = r * (n + 1);
      if (max >= 0) { while (qh[r] < qt[r] && q[base + qh[r]] < k - max) { qh[r] += 1; } }
      if (qh[r] < qt[r] && q[base + qh[r]] <= k - min) {
        if (reClose(code, runs, v, mark, cl, stk, q, qh, qt, (int) runs.get(4 * r) + 1)) { return true; }
      }
    }
    if (anch == 0 || k == 0) { if (reClose(code, runs, v, mark, cl, stk, q, qh, qt, 0)) { return true; } }
    else if (!live) { return false; }
    if (p >= n) { return false; }
    pn = 0;
    int cn = v[0];
    for (int j = 0; j < cn; ++j) {
      int pc = cl[j]; int i = pc * 4; int a = (int) code.get(i + 1);
      boolean ok = (int) code.get(i) == 0 ? a == cur : reIn((List) sets.get(a), cur);
      v[1] += 1;
      if (ok && pmark[pc + 1] != gen) { pmark[pc + 1] = gen; pend[pn] = pc + 1; pn += 1; }
    }
    for (int r = 0; r < nr; ++r) {
      v[1] += 1;
      if (qh[r] != qt[r] && !reIn((List) sets.get((int) runs.get(4 * r + 1)), cur)) { qh[r] = qt[r]; }
    }
    p += cur > 65535 ? 2 : 1;
    k += 1;
    prev = cur;
  }
  return false;
}
`;
