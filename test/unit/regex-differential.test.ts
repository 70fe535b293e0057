/**
 * Differential test: for hand-written patterns and every corpus regex, on generated inputs (matches
 * in context, their mutations and mixed-case variants, random strings with newlines and Unicode),
 * the JS VM and the emitted Lucene regexp (read back as a whole-value JS RegExp) must both give the
 * answer of JavaScript's RegExp with the same flags.
 */
import { describe, expect, test } from "bun:test";
import type { RegexValue } from "../../src/ir/types.ts";
import { toLuceneRegexp } from "../../src/ir/regex/lucene.ts";
import { toNfa } from "../../src/ir/regex/nfa.ts";
import { runProgram } from "../../src/ir/regex/vm.ts";
import { HAVE_CORPUS, corpusRegexes, inputsFor, jsOracle, luceneAsJs } from "./regex-helpers.ts";

const F = (i = false, m = false, s = false) => ({ i, m, s });

export const HAND: RegexValue[] = [
  ["abc"], ["a.c"], ["a.c", "s"], ["^abc"], ["abc$"], ["^abc$"], ["^$"], ["^"], ["$"], ["x*"], ["(a|b)*c"], ["a(b|)c"],
  ["(^|/)\\.[^./]"], ["(a$|b)c?"], ["(^a|b$)"], ["^(?:a|b)+$"], ["(?:^a)*b"], ["(?:a$|b)*"], ["(?:a|^b){2}c"], ["(x$)?y"],
  ["[a-f0-9]{4,8}\\.x"], ["[^a-z]+"], ["[^\\s\\d]{2}"], ["\\w+\\W\\w"], ["\\S+?:"], ["\\d{2,3}?x"],
  ["colou?r", "i"], ["[a-z]+", "i"], ["[^a-z]", "i"], ["straße", "i"], ["σ", "i"], ["k", "i"], ["[é-ë]", "i"], ["[\\s]", "i"],
  ["^b", "m"], ["a$", "m"], ["^a$", "m"], ["(^|x)y$", "m"], [".+", "m"], ["a.b", "ms"],
  ["\\bfoo\\b"], ["\\Bo\\B"], ["\\b"], ["a\\b"], ["\\bx", "i"],
  [".{12,}"], [".{3,12}x"], ["x[0-9]{9}y"], ["[ab]{8,9}"], ["(?:[ab]{8}){2}"], ["[^/]{10,}$"], ["^[a-z]{8,10}$"], ["(a{8,})*b"],
  ["\\x41\\u00e9\\t\\n"], ["\\{\\}\\[\\]\\(\\)\\|\\*\\+\\?\\.\\^\\$\\\\\\/"], ["[\\]\\[\\-\\\\]"], ["a{"], ["a{,"], ["a}"], ["x{2}{"],
  ['"<>#@&~'], ["[#@&~<>\"]+"], ["a|"], ["|"], ["(?:)"], ["((a)|(b))+?c"], ["(?<n>ab)+"], ["(?i)ab"], ["(?s)a.b"], ["(?m)^a"],
  ["(?i:a)b"], ["a(?i:b)c"], ["[\\w.-]+@[\\w-]+\\.[a-z]{2,4}"], ["\\s-[FTd]\\s"], ["[-/–][Ee^]{1,2}"],
].map(([p, f = ""]) => ({ pattern: p!, flags: F(f.includes("i"), f.includes("m"), f.includes("s")) }));

function check(list: RegexValue[], inputsPer: number): { pairs: number; positives: number; luceneSkipped: string[]; bad: string[] } {
  const bad: string[] = [];
  const luceneSkipped: string[] = [];
  let pairs = 0;
  let positives = 0;
  list.forEach((rx, idx) => {
    const prog = toNfa(rx);
    if ("unsupported" in prog) throw new Error(`${rx.pattern}: ${prog.unsupported}`);
    const luc = toLuceneRegexp(rx);
    const lre = "unsupported" in luc ? undefined : luceneAsJs(luc.value);
    if (!lre) luceneSkipped.push(rx.pattern);
    const oracle = jsOracle(rx);
    for (const s of inputsFor(rx, inputsPer, 1000 + idx)) {
      pairs++;
      const want = oracle.test(s);
      if (want) positives++;
      const vm = runProgram(prog, s);
      if (vm !== want) bad.push(`VM ${JSON.stringify(rx)} on ${JSON.stringify(s)}: ${vm}, JS ${want}`);
      if (lre && lre.test(s) !== want) bad.push(`Lucene ${JSON.stringify(luc)} on ${JSON.stringify(s)}: ${!want}, JS ${want}`);
    }
  });
  return { pairs, positives, luceneSkipped, bad };
}

describe("regex engines against JavaScript RegExp", () => {
  test("hand-written patterns", () => {
    const r = check(HAND, 60);
    console.log(`hand patterns: ${HAND.length} patterns, ${r.pairs} (pattern, input) pairs, ${r.positives} matching; Lucene-less: ${r.luceneSkipped.join(" ")}`);
    expect(r.bad.slice(0, 15)).toEqual([]);
    expect(r.pairs).toBeGreaterThan(3000);
    expect(r.positives).toBeGreaterThan(r.pairs / 5);
  });

  test.skipIf(!HAVE_CORPUS)("every supported corpus regex", () => {
    const { distinct } = corpusRegexes();
    const supported = distinct.filter((d) => !("unsupported" in toNfa(d.regex)));
    const r = check(supported.map((d) => d.regex), 40);
    console.log(`corpus: ${supported.length}/${distinct.length} distinct regexes, ${r.pairs} pairs, ${r.positives} matching; Lucene-less: ${r.luceneSkipped.length}`);
    expect(r.bad.slice(0, 15)).toEqual([]);
    expect(r.positives).toBeGreaterThan(r.pairs / 5);
  }, 120_000);
  if (!HAVE_CORPUS) console.warn(`SKIP corpus differential: ${"../shared/sigma"} not found`);
});
