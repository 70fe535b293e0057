/**
 * The lowering pass side by side: per predicate kind, the match op it lowers to, the query DSL clause
 * (src/emit/dsl.ts), the Painless op codes (src/emit/painless/encode-nodes.ts, field views in `f`) and
 * the JavaScript matcher's answer on a few events (src/emit/js/matcher.ts). The three emitters take
 * the same op; their agreement on a real node is checked by the differential integration tests.
 */
import { describe, expect, test } from "bun:test";
import { predicateQuery } from "../../src/emit/dsl.ts";
import { Matcher } from "../../src/emit/js/matcher.ts";
import { lowerPredicate } from "../../src/emit/match-plan/lower.ts";
import { RuleError } from "../../src/ir/errors.ts";
import { Encoder } from "../../src/emit/painless/encode-nodes.ts";
import { DOC_NUMBER_SCRIPT, DOC_STRING_SCRIPT, FIELDREF_SCRIPT } from "../../src/shared-scripts/dsl-scripts.ts";
import type { MatchOp } from "../../src/emit/match-plan/ops.ts";
import type { Field, Predicate } from "../../src/ir/types.ts";
import { ip, kw, long, rule } from "../helpers/rules.ts";

const bool = (name: string): Field => ({ name, type: "boolean" });
const text = (name: string): Field => ({ name, type: "text", keywordSubfield: "keyword" });

/** Script sources shown by name, so a row reads as its params. */
function shown(q: unknown): unknown {
  return JSON.parse(
    JSON.stringify(q, (_k, v) =>
      v === DOC_NUMBER_SCRIPT
        ? "DOC_NUMBER_SCRIPT"
        : v === DOC_STRING_SCRIPT
          ? "DOC_STRING_SCRIPT"
          : v === FIELDREF_SCRIPT
            ? "FIELDREF_SCRIPT"
            : v,
    ),
  );
}

interface Row {
  kind: string;
  p: Predicate;
  op: MatchOp["kind"];
  dsl: unknown;
  /** Painless: the node, then the field views it registered ([path, view, ignoreAbove]). */
  painless: [unknown[], unknown[]];
  /** Events and whether the JavaScript matcher tags them. */
  js: [unknown, boolean][];
}

const ROWS: Row[] = [
  {
    kind: "equals on keyword, case-insensitive",
    p: { kind: "equals", field: kw("Image"), value: "C:\\X.exe", cased: false },
    op: "string",
    dsl: { term: { Image: { value: "C:\\X.exe", case_insensitive: true } } },
    painless: [[10, 0, 0, "c:\\x.exe"], [["Image", 0, 8191]]],
    js: [
      [{ Image: "c:\\x.EXE" }, true],
      [{ Image: "c:\\x.exe2" }, false],
    ],
  },
  {
    kind: "equals on long: decimal text, numeric equality",
    p: { kind: "equals", field: long("EventID"), value: "01", cased: false },
    op: "number",
    dsl: { term: { EventID: 1 } },
    painless: [[19, 0, 0, 1], [["EventID", 1, -1]]],
    js: [
      [{ EventID: 1 }, true],
      [{ EventID: 2 }, false],
    ],
  },
  {
    kind: "equals on long: not a number, never",
    p: { kind: "equals", field: long("EventID"), value: "abc", cased: false },
    op: "const",
    dsl: { match_none: {} },
    painless: [[4], []],
    js: [[{ EventID: 1 }, false]],
  },
  {
    kind: "equals on ip: address equality",
    p: { kind: "equals", field: ip("SourceIp"), value: "::1", cased: false },
    op: "cidr",
    dsl: { term: { SourceIp: "::1" } },
    painless: [[16, 0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128], [["SourceIp", 4, -1]]],
    js: [
      [{ SourceIp: "0:0::1" }, true],
      [{ SourceIp: "::2" }, false],
    ],
  },
  {
    kind: "equals on boolean",
    p: { kind: "equals", field: bool("Enabled"), value: "TRUE", cased: false },
    op: "bool",
    dsl: { term: { Enabled: true } },
    painless: [[21, 0, 1], [["Enabled", 3, -1]]],
    js: [
      [{ Enabled: true }, true],
      [{ Enabled: false }, false],
    ],
  },
  {
    kind: "contains with an empty value: exists",
    p: { kind: "contains", field: kw("User"), value: "", cased: false },
    op: "exists",
    dsl: { exists: { field: "User" } },
    painless: [[17, 0], [["User", 0, 8191]]],
    js: [
      [{ User: "" }, true],
      [{ Other: "x" }, false],
    ],
  },
  {
    kind: "prefix on a text field (its keyword sub-field), cased",
    p: { kind: "prefix", field: text("Cmd"), value: "Ab", cased: true },
    op: "string",
    dsl: { prefix: { "Cmd.keyword": { value: "Ab" } } },
    painless: [[12, 0, 1, "Ab"], [["Cmd", 0, 8191]]],
    js: [
      [{ Cmd: "Abc" }, true],
      [{ Cmd: "abc" }, false],
    ],
  },
  {
    kind: "suffix, the case folded",
    p: { kind: "suffix", field: kw("Image"), value: "\\CMD.exe", cased: false },
    op: "string",
    dsl: { wildcard: { Image: { value: "*\\\\CMD.exe", case_insensitive: true } } },
    painless: [[13, 0, 0, "\\cmd.exe"], [["Image", 0, 8191]]],
    js: [
      [{ Image: "C:\\Windows\\cmd.EXE" }, true],
      [{ Image: "C:\\xcmd.exe" }, false],
    ],
  },
  {
    kind: "wildcard with `?`: glob with a mask",
    p: {
      kind: "wildcard",
      field: kw("F"),
      parts: [{ lit: "a" }, { any: true }, { lit: "b" }, { one: true }],
      cased: true,
    },
    op: "glob",
    dsl: { wildcard: { F: { value: "a*b?" } } },
    painless: [[14, 0, 1, "a*b*", "0102"], [["F", 0, 8191]]],
    js: [
      [{ F: "axxbz" }, true],
      [{ F: "axxb" }, false],
    ],
  },
  {
    kind: "wildcard with `*` only: glob with literal segments",
    p: {
      kind: "wildcard",
      field: kw("F"),
      parts: [{ lit: "A" }, { any: true }, { lit: "B" }, { any: true }, { lit: "C" }],
      cased: false,
    },
    op: "glob",
    dsl: { wildcard: { F: { value: "A*B*C", case_insensitive: true } } },
    painless: [[14, 0, 0, "a*b*c", "01010", ["a", "b", "c"]], [["F", 0, 8191]]],
    js: [
      [{ F: "a-b-C" }, true],
      [{ F: "a-c-b" }, false],
    ],
  },
  {
    kind: "number eq on keyword: its text",
    p: { kind: "number", field: kw("Code"), op: "eq", value: 4688 },
    op: "string",
    dsl: { term: { Code: "4688" } },
    painless: [[10, 0, 1, "4688"], [["Code", 0, 8191]]],
    js: [
      [{ Code: 4688 }, true],
      [{ Code: "04688" }, false],
    ],
  },
  {
    kind: "number gt on keyword: parsed as Java does",
    p: { kind: "number", field: kw("Size"), op: "gt", value: 10 },
    op: "number",
    dsl: {
      script: {
        script: { lang: "painless", source: "DOC_NUMBER_SCRIPT", params: { field: "Size", op: "gt", value: 10 } },
      },
    },
    painless: [[20, 0, 1, 10], [["Size", 0, 8191]]],
    js: [
      [{ Size: " 11 " }, true],
      [{ Size: "9" }, false],
    ],
  },
  {
    kind: "number lte on long: a range",
    p: { kind: "number", field: long("Size"), op: "lte", value: 10 },
    op: "number",
    dsl: { range: { Size: { lte: 10 } } },
    painless: [[19, 0, 4, 10], [["Size", 1, -1]]],
    js: [
      [{ Size: 10 }, true],
      [{ Size: 11 }, false],
    ],
  },
  {
    kind: "regex: a program (and a Lucene regexp when cheap)",
    p: { kind: "regex", field: kw("Cmd"), regex: { pattern: "a.c", flags: { i: false, m: false, s: false } } },
    op: "regex",
    dsl: { regexp: { Cmd: { value: ".*a[^\n]c.*", flags: "NONE" } } },
    painless: [[15, 0, 0], [["Cmd", 0, 8191]]],
    js: [
      [{ Cmd: "xxabcx" }, true],
      [{ Cmd: "ac" }, false],
    ],
  },
  {
    kind: "cidr on ip",
    p: { kind: "cidr", field: ip("DestinationIp"), cidr: "10.0.0.0/8" },
    op: "cidr",
    dsl: { term: { DestinationIp: "10.0.0.0/8" } },
    painless: [[16, 0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 0], 104], [["DestinationIp", 4, -1]]],
    js: [
      [{ DestinationIp: "10.1.2.3" }, true],
      [{ DestinationIp: "11.1.2.3" }, false],
    ],
  },
  {
    kind: "exists: false",
    p: { kind: "exists", field: kw("User"), exists: false },
    op: "exists",
    dsl: { bool: { must_not: [{ exists: { field: "User" } }] } },
    painless: [[2, [17, 0]], [["User", 0, 8191]]],
    js: [
      [{ Other: 1 }, true],
      [{ User: "x" }, false],
    ],
  },
  {
    kind: "fieldref",
    p: { kind: "fieldref", field: kw("A"), other: kw("B"), cased: false },
    op: "fieldref",
    dsl: {
      script: { script: { lang: "painless", source: "FIELDREF_SCRIPT", params: { a: "A", b: "B", cased: false } } },
    },
    painless: [
      [18, 0, 1, 0],
      [
        ["A", 0, 8191],
        ["B", 0, 8191],
      ],
    ],
    js: [
      [{ A: "x", B: "X" }, true],
      [{ A: "x", B: "y" }, false],
    ],
  },
  {
    kind: "keyword (no field): any listed field",
    p: {
      kind: "keyword",
      fields: [kw("A"), long("N")],
      parts: [{ any: true }, { lit: "42" }, { any: true }],
      cased: false,
    },
    op: "anyField",
    dsl: {
      bool: {
        should: [
          { wildcard: { A: { value: "*42*" } } },
          {
            script: {
              script: {
                lang: "painless",
                source: "DOC_STRING_SCRIPT",
                params: { field: "N", op: "contains", value: "42", mask: "", cased: false },
              },
            },
          },
        ],
        minimum_should_match: 1,
      },
    },
    painless: [
      [23, { A: [11, 0, 1, "42"], N: [11, 1, 1, "42"] }],
      [
        ["A", 0, 8191],
        ["N", 1, -1],
      ],
    ],
    js: [
      [{ N: 1427 }, true],
      [{ A: "4x2" }, false],
    ],
  },
];

describe("one match op per predicate, three emitters", () => {
  for (const row of ROWS) {
    test(row.kind, () => {
      expect(lowerPredicate(row.p).kind).toBe(row.op);
      expect(shown(predicateQuery(row.p))).toEqual(row.dsl);
      const enc = new Encoder(8191);
      expect([enc.node(row.p), enc.fields]).toEqual(row.painless);
      const m = new Matcher([rule("r", row.p)]);
      expect(row.js.map(([doc]) => m.match(doc).hits.length === 1)).toEqual(row.js.map(([, want]) => want));
    });
  }

  test("what no matcher runs is refused once, with the same words everywhere", () => {
    const cases: [Predicate, string, string][] = [
      [
        { kind: "regex", field: long("N"), regex: { pattern: "a", flags: { i: false, m: false, s: false } } },
        "N: regular expression on a field of type long",
        "unsupported",
      ],
      [
        { kind: "cidr", field: kw("K"), cidr: "10.0.0.0/8" },
        "K|cidr: the field is mapped as keyword, not ip",
        "unsupported",
      ],
      [
        { kind: "cidr", field: ip("I"), cidr: "10.0.0/99" },
        "I|cidr: '10.0.0/99' is not an IPv4 or IPv6 network",
        "error",
      ],
      [
        { kind: "number", field: bool("B"), op: "gt", value: 1 },
        "B: numeric comparison on a boolean field",
        "unsupported",
      ],
      [{ kind: "number", field: long("N"), op: "gt", value: Infinity }, "N: number Infinity is not finite", "error"],
    ];
    for (const [p, message, status] of cases) {
      let thrown: unknown;
      try {
        lowerPredicate(p);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(RuleError);
      expect([(thrown as RuleError).message, (thrown as RuleError).status]).toEqual([message, status]);
      expect(() => predicateQuery(p)).toThrow(message);
      expect(() => new Encoder(8191).node(p)).toThrow(message);
      expect(new Matcher([rule("r", p)]).skipped).toEqual([{ id: "r", reason: message }]);
    }
  });
});
