/** Parser, Lucene emitter and NFA/VM: exact outputs, refusals, and the documented semantic choices. */
import { describe, expect, test } from "bun:test";
import type { RegexValue } from "../../src/ir/types.ts";
import { parseRegex } from "../../src/ir/regex/parse.ts";
import { toLuceneRegexp } from "../../src/ir/regex/lucene.ts";
import { OP, toNfa, type Program } from "../../src/ir/regex/nfa.ts";
import { RegexBudgetError, runProgram, runProgramCounted } from "../../src/emit/js/regex.ts";
import { compileRegex } from "../../src/ir/regex/index.ts";
import { REGEX_PAINLESS } from "../../src/shared-scripts/regex-source.ts";
import { regexQuery } from "../../src/emit/dsl-regex.ts";
import { REGEX_QUERY_SCRIPT } from "../../src/shared-scripts/dsl-scripts.ts";

const rx = (pattern: string, f = ""): RegexValue => ({
  pattern,
  flags: { i: f.includes("i"), m: f.includes("m"), s: f.includes("s") },
});
const lucene = (p: string, f = "") => {
  const r = toLuceneRegexp(rx(p, f));
  return "unsupported" in r ? r : r.value;
};
const prog = (p: string, f = ""): Program => {
  const r = toNfa(rx(p, f));
  if ("unsupported" in r) throw new Error(r.unsupported);
  return r;
};
const vm = (p: string, s: string, f = "") => runProgram(prog(p, f), s);

describe("parser", () => {
  test.each([
    ["a(?=b)", "regex: lookahead at offset 1"],
    ["a(?!b)", "regex: lookahead at offset 1"],
    ["(?<=a)b", "regex: lookbehind at offset 0"],
    ["(?<!a)b", "regex: lookbehind at offset 0"],
    ["(a)\\1", "regex: backreference at offset 3"],
    ["(?P<x>a)(?P=x)", "regex: backreference at offset 8"],
    ["\\k<x>", "regex: backreference at offset 0"],
    ["a++", "regex: possessive quantifier at offset 2"],
    ["(?>a)", "regex: atomic group at offset 0"],
    ["\\p{L}", "regex: unicode property at offset 0"],
    ["a\\Z", "regex: \\Z anchor at offset 1"],
    ["a(?i)b", "regex: inline flags not at the start of the pattern at offset 1"],
    ["(?x)a", "regex: inline flag 'x' at offset 0"],
    ["[]a]", "regex: ']' first in a class (PCRE literal, JS empty class) at offset 1"],
    ["[[:alpha:]]", "regex: POSIX class at offset 1"],
    ["a{,3}", "regex: quantifier '{,n}' (engine-dependent meaning) at offset 1"],
    ["*a", "regex: nothing to repeat at offset 0"],
    ["a**", "regex: quantifier after a quantifier at offset 2"],
    ["(ab", "regex: missing ')' at offset 0"],
    ["ab)", "regex: unbalanced ')' at offset 2"],
    ["[ab", "regex: missing ']' at offset 0"],
    ["[z-a]", "regex: range out of order in class at offset 2"],
    ["\\y", "regex: escape '\\y' at offset 0"],
    ["\\v", "regex: escape '\\v' at offset 0"],
    ["\\uD800", "regex: lone surrogate escape at offset 0"],
    ["a{20000}", "regex: repetition count over 10000 at offset 1"],
    ["^*", "regex: quantifier on an anchor at offset 0"],
  ])("%p is refused: %p", (p, msg) => {
    expect(parseRegex(rx(p))).toEqual({ unsupported: msg });
  });

  test("leading inline flags set the effective flags; named groups are plain groups", () => {
    const r = parseRegex(rx("(?i)(?s)(?P<x>a).(?<y>b)"));
    expect("unsupported" in r).toBe(false);
    if (!("unsupported" in r)) expect(r.flags).toEqual({ i: true, m: false, s: true });
    expect(vm("(?i)(?P<x>a)(?<y>b)", "xAB")).toBe(true);
  });

  test("escapes: \\xHH, \\x{H}, \\uHHHH, surrogate pairs, \\t \\n \\r \\f, \\0, \\cX, \\/ and punctuation", () => {
    expect(vm("\\x41\\x{e9}\\u00e8", "AéÈ")).toBe(false);
    expect(vm("\\x41\\x{e9}\\u00e8", "Aéè")).toBe(true);
    expect(vm("\\uD83D\\uDE00", "x😀")).toBe(true);
    expect(vm("\\t\\n\\r\\f\\0\\cA", "\t\n\r\f\u0000\u0001")).toBe(true);
    expect(vm("a\\/b\\.c\\\\d\\-\\ ", "a/b.c\\d- ")).toBe(true);
    expect(vm("[\\b]", "\b")).toBe(true);
  });
});

describe("Lucene emitter", () => {
  test.each([
    ["abc", "", ".*abc.*"],
    ["^abc", "", "abc.*"],
    ["abc$", "", ".*abc"],
    ["^abc$", "", "abc"],
    ["a|^b", "", "(a|b).*|.+a.*"],
    ["(^|/)x", "", "\\/?x.*|.+\\/x.*"],
    ["a.b", "", ".*a[^\n]b.*"],
    ["a.b", "s", ".*a.b.*"],
    ["ab", "i", ".*[Aa][Bb].*"],
    ["k", "i", ".*[Kk].*"], // not the Kelvin sign: JS canonicalization
    ["σ", "i", ".*[Σςσ].*"],
    ["[a-c]", "i", ".*[A-Ca-c].*"],
    ["\\d{2,3}\\w+", "", ".*[0-9]{2,3}[0-9A-Z\\_a-z]+.*"],
    ['"<>#@&~', "", '.*\\"\\<\\>\\#\\@\\&\\~.*'],
    ["x*", "", ".*"],
    ["[^\\s\\S]", "", "[^\u0000-\ud7ff\ue000-\u{10ffff}]"],
    ["a(b|)c", "", ".*ab?c.*"],
  ])("%p (%p) → %p", (p, f, want) => {
    expect(lucene(p, f)).toBe(want);
  });

  test("the query form: flags NONE, case folding compiled in", () => {
    expect(toLuceneRegexp(rx("ab", "i"))).toEqual({
      value: ".*[Aa][Bb].*",
      caseInsensitive: false,
      flags: "NONE",
      cost: { states: 4, work: 14, expensive: false },
    });
  });

  test("word boundaries and multi-line anchors are refused, not approximated", () => {
    expect(lucene("\\bfoo")).toEqual({ unsupported: "regex: word boundary has no Lucene translation" });
    expect(lucene("^foo", "m")).toEqual({ unsupported: "regex: multi-line anchor has no Lucene translation" });
    expect(lucene("foo", "m")).toBe(".*foo.*"); // no anchor: the flag changes nothing
    expect(compileRegex(rx("\\bfoo"))).toEqual({ program: prog("\\bfoo") }); // the query side uses the script query
  });

  test("over index.max_regex_length is refused", () => {
    const r = toLuceneRegexp(rx("abcdefghij".repeat(30), "i"));
    expect(r).toEqual({ unsupported: "regex: Lucene form is 1204 characters, over index.max_regex_length 1000" });
  });
});

describe("NFA program and JS VM", () => {
  test("program layout", () => {
    const p = prog("^a[bc]x{9,}");
    expect(p.code).toEqual([
      OP.ASSERT,
      0,
      0,
      0,
      OP.CHAR,
      97,
      0,
      0,
      OP.SET,
      0,
      0,
      0,
      OP.RUN,
      1,
      0,
      0,
      OP.MATCH,
      0,
      0,
      0,
    ]);
    expect(p.sets).toEqual([
      [98, 99],
      [120, 120],
    ]);
    expect(p.runs).toEqual([3, 1, 9, -1]);
    expect(p.anch).toBe(1);
    expect(p.lits).toEqual(["a", "x"]);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  test("required literals prefilter", () => {
    expect(prog("net\\s+user").lits).toEqual(["user", "net"]);
    expect(prog("a(b|c)d").lits).toEqual(["a", "d"]);
    expect(prog("ab", "i").lits).toEqual([]);
    expect(prog("net\\s+user", "i").ulits).toEqual(["USER", "NET"]);
    expect(prog("(?i)\\$\\{`?env", "").lits).toEqual(["${"]);
    expect(prog("(?i)\\$\\{`?env", "").ulits).toEqual(["ENV"]);
    expect(prog("net\\s+user").ulits).toEqual([]); // nothing longer than the exact literals
    expect(prog("é", "i").ulits).toEqual([]); // non-ASCII never makes an upper-case literal
    expect(vm("net\\s+user", "NeT uSeR", "i")).toBe(true);
    expect(vm("net\\s+user", "ne\u0131 user", "i")).toBe(false); // dotless ı upper-cases to I: passes the prefilter, not the match
  });

  test("RUN bounds: exactly min..max characters of the set, contiguous", () => {
    const p = "^x[0-9]{8,10}y";
    expect(vm(p, "x1234567y")).toBe(false);
    expect(vm(p, "x12345678y")).toBe(true);
    expect(vm(p, "x1234567890y")).toBe(true);
    expect(vm(p, "x12345678901y")).toBe(false);
    expect(vm(p, "x1234a5678y")).toBe(false);
    expect(vm("[ab]{8}c", "ababbabaaabc")).toBe(true);
    expect(vm("(?:[ab]{8}){2}c", "abababab" + "babababa" + "c")).toBe(true);
    expect(vm("(?:[ab]{8}){2}c", "abababab" + "bababac")).toBe(false);
    expect(vm(".{1000,}", "x".repeat(999))).toBe(false);
    expect(vm(".{1000,}", "x".repeat(1000))).toBe(true);
    expect(vm(".{1000,}", "x".repeat(999) + "\n" + "x".repeat(999))).toBe(false);
  });

  test("documented differences from JS RegExp: code points, \\r, U+2028, $ before a final newline", () => {
    expect(vm("^.$", "😀")).toBe(true); // JS without u: false (two UTF-16 units); Lucene: true
    expect(/^.$/.test("😀")).toBe(false);
    expect(vm("a.b", "a\rb")).toBe(true); // PCRE: . matches \r; JS: no
    expect(vm("a.b", "a\u2028b")).toBe(true);
    expect(vm("a$", "ba\r", "m")).toBe(false); // line end is \n only
    expect(vm("a$", "ba\n")).toBe(false); // PCRE would match before a final \n; JS and we do not
    expect(lucene("^.$")).toBe("[^\n]");
  });

  test("case folding follows JS canonicalization (ſ and K-sign do not fold to s and k)", () => {
    expect(vm("s", "ſ", "i")).toBe(false);
    expect(vm("k", "\u212a", "i")).toBe(false);
    expect(vm("é", "É", "i")).toBe(true);
    expect(vm("ς", "Σ", "i")).toBe(true);
    expect(vm("[^a]", "A", "i")).toBe(false);
  });

  test("step counts: none when the prefilter rejects, a few per character otherwise", () => {
    expect(runProgramCounted(prog("net\\s+user"), "cmd /c whoami")).toEqual({ match: false, steps: 0 });
    const r = runProgramCounted(prog("net\\s+user"), "x".repeat(100) + " net user admin /add");
    expect(r.match).toBe(true);
    expect(r.steps).toBeGreaterThan(100);
    expect(r.steps).toBeLessThan(1000);
  });

  test("a value needing more steps than the budget throws instead of running on", () => {
    const p = toNfa(rx("(a|aa|aaa)*b.{0,7}c"), { stepLimit: 5000 });
    if ("unsupported" in p) throw new Error(p.unsupported);
    expect(() => runProgram(p, "a".repeat(3000) + "bc")).toThrow(RegexBudgetError);
    expect(() => runProgram(p, "a".repeat(3000) + "bc")).toThrow(
      "regex: step budget 5000 exceeded (value length 3002)",
    );
    expect(runProgram(p, "aab12c")).toBe(true);
  });

  test("the Painless source is fixed: no regex, no rule data", () => {
    expect(REGEX_PAINLESS).toContain("boolean reMatch(def prog, String s)");
    expect(REGEX_PAINLESS).not.toMatch(/Pattern|\.matches\(|=~|==~|->/);
    expect(REGEX_PAINLESS.length).toBeLessThan(8000);
  });
});

describe("query clause routing (query.ts)", () => {
  test("cheap Lucene forms use regexp with flags NONE", () => {
    expect(regexQuery("f", rx("net\\s+user"))).toEqual({
      engine: "regexp",
      query: {
        regexp: {
          f: {
            value: ".*net[\t-\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+user.*",
            flags: "NONE",
          },
        },
      },
    });
  });
  test.each([
    ["\\bfoo\\b", ""], // no Lucene form
    ["^a", "m"],
    [".{1000,}", ""], // Lucene form too expensive to determinize
    ["(Copy-Item|cpi) .{2,128} -Destination .{1,32}\\\\Windows", ""],
  ])("%p (%p) goes to the script query with the program in params", (p, f) => {
    const q = regexQuery("f", rx(p, f));
    expect("unsupported" in q).toBe(false);
    if ("unsupported" in q) return;
    expect(q.engine).toBe("script");
    const s = (q.query as any).script.script;
    expect(s.source).toBe(REGEX_QUERY_SCRIPT);
    expect(s.params).toEqual({ f: "f", p: toNfa(rx(p, f)), re: { pattern: rx(p, f).pattern, flags: rx(p, f).flags } });
    expect(s.source).not.toContain(p);
  });
  test("expensive estimates", () => {
    const l = toLuceneRegexp(rx("ping\\s+-n.{6,64}echo"));
    expect("unsupported" in l ? undefined : l.cost.expensive).toBe(true);
    const c = toLuceneRegexp(rx("[a-f0-9]{4,8}\\.(?:[a-z0-9\\-]+\\.){2}[a-z0-9\\-]+"));
    expect("unsupported" in c ? undefined : c.cost).toEqual({ states: 110, work: 994, expensive: false });
  });
  test("a field without doc values cannot take the script query", () => {
    expect(regexQuery("t", rx("\\bfoo"), { docValues: false })).toEqual({
      unsupported: "regex: word boundary has no Lucene translation, and t has no doc values for the script query",
    });
    expect(regexQuery("t", rx("foo"), { docValues: false })).toMatchObject({ engine: "regexp" });
  });
  test("unsupported regexes stay unsupported", () => {
    expect(regexQuery("f", rx("a(?=b)"))).toEqual({ unsupported: "regex: lookahead at offset 1" });
  });
});
