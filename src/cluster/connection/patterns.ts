/**
 * Index patterns (`winlogbeat-*`, `logs-windows.*-default`) compared with each other, to decide which
 * index templates an install may wire: a template is wired only when every index it can create is
 * named by the user's patterns (its pattern is covered), so that we never reach indices outside them.
 * Patterns use `*` only, as Elasticsearch's index patterns do.
 */
import { UsageError } from "../../util/errors.ts";
import { checkIndexPatterns } from "./guards.ts";

/** Whether `name` matches the pattern (`*` = any run of characters). */
export function globMatch(pattern: string, name: string): boolean {
  return covers(pattern, name, false);
}

/**
 * Whether every name `inner` matches is also matched by `outer`. `*` in `inner` is treated as a
 * character only a `*` of `outer` can absorb: sound (never says yes wrongly) for star-only patterns.
 */
export function globCovers(outer: string, inner: string): boolean {
  return covers(outer, inner, true);
}

function covers(p: string, s: string, starIsSpecialInS: boolean): boolean {
  // Iterative glob match with backtracking on the last star of p.
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < s.length) {
    if (i < p.length && p[i] !== "*" && p[i] === s[j] && !(starIsSpecialInS && s[j] === "*")) {
      i++;
      j++;
    } else if (i < p.length && p[i] === "*") {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === "*") i++;
  return i === p.length;
}

/** Whether some name matches both patterns. */
export function globOverlaps(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const f = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (i < a.length && a[i] === "*") r = f(i + 1, j) || (j < b.length && f(i, j + 1));
    else if (j < b.length && b[j] === "*") r = f(i, j + 1) || (i < a.length && f(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && f(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return f(0, 0);
}

/**
 * Checks the patterns an install will wire (the guards every command shares, src/cluster/connection/guards.ts):
 * patterns that name every index, exclusions, and patterns reaching hidden indices are refused.
 */
export function checkPatterns(patterns: string[]): string[] {
  if (patterns.length === 0)
    throw new UsageError("no index patterns to wire (give --index PATTERN, or rules with index patterns)");
  return checkIndexPatterns(patterns);
}
