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
import { runProgram } from "../../src/emit/js/regex.ts";
import { HAND, HAVE_CORPUS, corpusRegexes, inputsFor, jsOracle, luceneAsJs, rng } from "../helpers/regex.ts";
import { parseRegex } from "../../src/ir/regex/parse.ts";

function check(
  list: RegexValue[],
  inputsPer: number,
): { pairs: number; positives: number; luceneSkipped: string[]; bad: string[] } {
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
      if (lre && lre.test(s) !== want)
        bad.push(`Lucene ${JSON.stringify(luc)} on ${JSON.stringify(s)}: ${!want}, JS ${want}`);
    }
  });
  return { pairs, positives, luceneSkipped, bad };
}

describe("regex engines against JavaScript RegExp", () => {
  test("hand-written patterns", () => {
    const r = check(HAND, 60);
    console.log(
      `hand patterns: ${HAND.length} patterns, ${r.pairs} (pattern, input) pairs, ${r.positives} matching; Lucene-less: ${r.luceneSkipped.join(" ")}`,
    );
    expect(r.bad.slice(0, 15)).toEqual([]);
    expect(r.pairs).toBeGreaterThan(3000);
    expect(r.positives).toBeGreaterThan(r.pairs / 5);
  });

  test.skipIf(!HAVE_CORPUS)(
    "every supported corpus regex",
    () => {
      const { distinct } = corpusRegexes();
      const supported = distinct.filter((d) => !("unsupported" in toNfa(d.regex)));
      const r = check(
        supported.map((d) => d.regex),
        40,
      );
      console.log(
        `corpus: ${supported.length}/${distinct.length} distinct regexes, ${r.pairs} pairs, ${r.positives} matching; Lucene-less: ${r.luceneSkipped.length}`,
      );
      expect(r.bad.slice(0, 15)).toEqual([]);
      expect(r.positives).toBeGreaterThan(r.pairs / 5);
    },
    120_000,
  );
  test("random patterns from regex tokens: never a crash; where JS accepts and we do, same answers", () => {
    const TOK = [
      "a",
      "b",
      "A",
      "é",
      "É",
      "ß",
      ".",
      "^",
      "$",
      "|",
      "(",
      ")",
      "(?:",
      "(?<n>",
      "*",
      "+",
      "?",
      "{2}",
      "{1,3}",
      "{0,}",
      "{",
      "}",
      "[",
      "]",
      "[^",
      "-",
      "\\d",
      "\\w",
      "\\s",
      "\\W",
      "\\S",
      "\\D",
      "\\b",
      "\\B",
      "\\.",
      "\\\\",
      "\\n",
      "\\t",
      "\\x41",
      "\\u00e9",
      "\\-",
      "\\]",
      "\\[",
      "\\/",
      " ",
      "_",
      "0",
      "9",
      "\n",
      "*?",
      "+?",
      "??",
      "(?=",
      "(?!",
      "\\1",
      "\\k",
      "\\p",
    ];
    const r = rng(42);
    const list: RegexValue[] = [];
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      let p = "";
      for (let k = 1 + Math.floor(r() * 8); k > 0; k--) p += TOK[Math.floor(r() * TOK.length)];
      const rx = { pattern: p, flags: { i: r() < 0.3, m: r() < 0.2, s: r() < 0.2 } };
      const parsed = parseRegex(rx); // must not throw, whatever the text
      if ("unsupported" in parsed) {
        expect(parsed.unsupported).toMatch(/^regex: .+ at offset \d+$/);
        refused++;
        continue;
      }
      try {
        jsOracle(rx);
      } catch {
        continue; // JS has no meaning to compare with
      }
      list.push(rx);
    }
    const res = check(list, 15);
    console.log(
      `random patterns: ${list.length} compared (${refused} refused), ${res.pairs} pairs, ${res.positives} matching`,
    );
    expect(res.bad.slice(0, 15)).toEqual([]);
    expect(list.length).toBeGreaterThan(300);
  }, 120_000);
  if (!HAVE_CORPUS) console.warn(`SKIP corpus differential: ${"../shared/sigma"} not found`);
});
