/** Query DSL (ee-outliers es_dsl_filter) into the rule representation. */
import { describe, expect, test } from "bun:test";
import { loadProfile } from "../../src/mapping/index.ts";
import { dslFilterToIr, dslToIr } from "../../src/rules/eeoutliers/dsl-to-ir.ts";
import { luceneRegexToIr } from "../../src/rules/eeoutliers/lucene-regexp.ts";
import { minimumShouldMatch } from "../../src/rules/eeoutliers/predicates.ts";
import { nodeToQuery } from "../../src/emit/dsl.ts";
import type { Node } from "../../src/ir/types.ts";

const profile = loadProfile("winlogbeat");
const IMG = { name: "winlog.event_data.Image", type: "keyword" } as const;
const CMD = { name: "winlog.event_data.CommandLine", type: "keyword" } as const;
const EID = { name: "winlog.event_id", type: "long" } as const;
const MSG = { name: "message", type: "text", keywordSubfield: "keyword" } as const;

function ir(q: unknown): Node {
  const r = dslToIr(q, { profile });
  if (!r.ok) throw new Error(`${r.kind}: ${r.reason}`);
  return r.node;
}
function fails(q: unknown) {
  const r = dslToIr(q, { profile });
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.node)}`);
  return r;
}

describe("leaf queries", () => {
  test("term / terms: exact and case-sensitive unless case_insensitive; .keyword addresses the whole value", () => {
    expect(ir({ term: { "winlog.event_data.Image.keyword": "C:\\x.exe" } })).toEqual({
      kind: "equals",
      field: IMG,
      value: "C:\\x.exe",
      cased: true,
    });
    expect(ir({ term: { "winlog.event_data.Image": { value: "a", case_insensitive: true } } })).toEqual({
      kind: "equals",
      field: IMG,
      value: "a",
      cased: false,
    });
    expect(ir({ term: { "message.keyword": "x y" } })).toEqual({
      kind: "equals",
      field: MSG,
      value: "x y",
      cased: true,
    });
    expect(ir({ term: { "winlog.event_id": "4688" } })).toEqual({ kind: "number", field: EID, op: "eq", value: 4688 });
    expect(ir({ terms: { "winlog.event_id": [1, 4688] } })).toEqual({
      kind: "or",
      children: [
        { kind: "number", field: EID, op: "eq", value: 1 },
        { kind: "number", field: EID, op: "eq", value: 4688 },
      ],
    });
    // `.keyword` of an ip field with a keyword sub-field: string comparison on the sub-field
    const IPF = { name: "winlog.event_data.IpAddress", type: "ip", keywordSubfield: "keyword" } as const;
    expect(ir({ prefix: { "winlog.event_data.IpAddress.keyword": "127." } })).toEqual({
      kind: "prefix",
      field: IPF,
      value: "127.",
      cased: true,
    });
    expect(ir({ term: { "winlog.event_data.IpAddress": "10.0.0.0/8" } })).toEqual({
      kind: "cidr",
      field: IPF,
      cidr: "10.0.0.0/8",
    });
    expect(fails({ term: { "winlog.event_id": "abc" } })).toMatchObject({
      kind: "invalid",
      place: "term.winlog.event_id",
      reason: '"abc" is not a number for numeric field winlog.event_id (long)',
    });
  });

  test("match / match_phrase: exact on keyword fields, live-unsupported on analysed text", () => {
    expect(ir({ match: { "winlog.event_data.Image": "C:\\x.exe" } })).toEqual({
      kind: "equals",
      field: IMG,
      value: "C:\\x.exe",
      cased: true,
    });
    expect(ir({ match_phrase: { "winlog.event_data.Image": { query: "a b" } } })).toEqual({
      kind: "equals",
      field: IMG,
      value: "a b",
      cased: true,
    });
    expect(fails({ match: { message: "mimikatz" } })).toEqual({
      ok: false,
      kind: "unsupported",
      place: "match.message",
      reason: "match on analysed text field message matches tokens, not the whole value",
    });
  });

  test("wildcard (value or wildcard key) and prefix become the cheapest shape; ES escapes are honoured", () => {
    expect(ir({ wildcard: { "winlog.event_data.Image.keyword": "*\\\\mshta.exe" } })).toEqual({
      kind: "suffix",
      field: IMG,
      value: "\\mshta.exe",
      cased: true,
    });
    // `\m` in an ES wildcard is an escaped `m`
    expect(ir({ wildcard: { "winlog.event_data.Image.keyword": "*\\mshta.exe" } })).toEqual({
      kind: "suffix",
      field: IMG,
      value: "mshta.exe",
      cased: true,
    });
    expect(
      ir({ wildcard: { "winlog.event_data.CommandLine": { wildcard: "*a?b\\*c*", case_insensitive: true } } }),
    ).toEqual({
      kind: "wildcard",
      field: CMD,
      parts: [{ any: true }, { lit: "a" }, { one: true }, { lit: "b*c" }, { any: true }],
      cased: false,
    });
    expect(ir({ wildcard: { "winlog.event_data.CommandLine": "*" } })).toEqual({
      kind: "exists",
      field: CMD,
      exists: true,
    });
    expect(ir({ prefix: { "winlog.event_data.Image": { value: "C:\\Win", case_insensitive: true } } })).toEqual({
      kind: "prefix",
      field: IMG,
      value: "C:\\Win",
      cased: false,
    });
    expect(fails({ wildcard: { "winlog.event_id": "4*" } }).kind).toBe("invalid");
  });

  test("regexp: Lucene syntax into an anchored PCRE-like pattern", () => {
    expect(
      ir({ regexp: { "winlog.event_data.Image": { value: ".*\\\\(cmd|powershell)\\.exe", case_insensitive: true } } }),
    ).toEqual({
      kind: "regex",
      field: IMG,
      regex: { pattern: "^(?:.*\\\\(?:cmd|powershell)\\.exe)$", flags: { i: true, m: false, s: true } },
    });
    expect(fails({ regexp: { "winlog.event_data.Image": "a&b" } }).kind).toBe("unsupported");
    expect(ir({ regexp: { "winlog.event_data.Image": { value: "a&b", flags: "NONE" } } })).toMatchObject({
      regex: { pattern: "^(?:a&b)$" },
    });
  });

  test("exists, numeric range, date range, ids, match_all/none, unknown query types", () => {
    expect(ir({ exists: { field: "winlog.event_data.Image.keyword" } })).toEqual({
      kind: "exists",
      field: IMG,
      exists: true,
    });
    expect(ir({ range: { "winlog.event_id": { gte: 4000, lt: 5000.5 } } })).toEqual({
      kind: "and",
      children: [
        { kind: "number", field: EID, op: "gte", value: 4000 },
        { kind: "number", field: EID, op: "lte", value: 5000 },
      ],
    });
    expect(fails({ range: { "@timestamp": { gte: "now-1d" } } })).toMatchObject({ kind: "unsupported" });
    expect(fails({ ids: { values: ["1"] } })).toEqual({
      ok: false,
      kind: "unsupported",
      place: "ids",
      reason: "ids cannot be evaluated at ingest time, ids are assigned by the cluster",
    });
    expect(ir({ match_all: {} })).toEqual({ kind: "const", value: true });
    expect(ir({ match_none: {} })).toEqual({ kind: "const", value: false });
    expect(fails({ bool: { must: [{ match_all: {} }, { more_like_this: { like: "x" } }] } })).toEqual({
      ok: false,
      kind: "unsupported",
      place: "bool.must[1].more_like_this",
      reason: "query type 'more_like_this' is not evaluated live",
    });
  });
});

describe("bool", () => {
  const t = (v: string) => ({ term: { "winlog.event_data.Image": v } });
  const e = (v: string): Node => ({ kind: "equals", field: IMG, value: v, cased: true });

  test("must/filter AND, must_not NOT(OR), constant_score unwraps", () => {
    expect(
      ir({ constant_score: { filter: { bool: { must: [t("a")], filter: t("b"), must_not: [t("c"), t("d")] } } } }),
    ).toEqual({
      kind: "and",
      children: [e("a"), e("b"), { kind: "not", child: { kind: "or", children: [e("c"), e("d")] } }],
    });
  });

  test("should: one required alone, optional next to must/filter, minimum_should_match k of n", () => {
    expect(ir({ bool: { should: [t("a"), t("b")] } })).toEqual({ kind: "or", children: [e("a"), e("b")] });
    expect(ir({ bool: { must: [t("a")], should: [t("b")] } })).toEqual(e("a"));
    expect(ir({ bool: { must: [t("a")], should: [t("b"), t("c")], minimum_should_match: 1 } })).toEqual({
      kind: "and",
      children: [e("a"), { kind: "or", children: [e("b"), e("c")] }],
    });
    expect(ir({ bool: { should: [t("a"), t("b"), t("c")], minimum_should_match: 2 } })).toEqual({
      kind: "or",
      children: [
        { kind: "and", children: [e("a"), e("b")] },
        { kind: "and", children: [e("a"), e("c")] },
        { kind: "and", children: [e("b"), e("c")] },
      ],
    });
    expect(ir({ bool: { should: [t("a")], minimum_should_match: 2 } })).toEqual({ kind: "const", value: false });
    expect(ir({ bool: { must_not: [t("a")] } })).toEqual({ kind: "not", child: e("a") });
  });

  test("minimum_should_match specs as Elasticsearch computes them", () => {
    expect(minimumShouldMatch(2, 5)).toBe(2);
    expect(minimumShouldMatch("-1", 5)).toBe(4);
    expect(minimumShouldMatch("75%", 5)).toBe(3);
    expect(minimumShouldMatch("-25%", 5)).toBe(4);
    expect(minimumShouldMatch("3<90%", 3)).toBe(3);
    expect(minimumShouldMatch("3<90%", 10)).toBe(9);
    expect(minimumShouldMatch("2<-25% 9<-3", 8)).toBe(6);
    expect(minimumShouldMatch("2<-25% 9<-3", 12)).toBe(9);
  });
});

describe("es_dsl_filter shapes", () => {
  test('{"query": …}, a bare query, and sigmac\'s list of queries (all must match, as ee-outliers runs it)', () => {
    const a = { term: { "winlog.event_data.Image": "a" } };
    const b = { term: { "winlog.event_data.CommandLine": "b" } };
    const one = dslFilterToIr({ query: a }, { profile });
    const bare = dslFilterToIr(a, { profile });
    expect(one).toEqual(bare);
    expect(dslFilterToIr([{ query: a }, { query: b }], { profile })).toEqual({
      ok: true,
      warnings: [],
      node: {
        kind: "and",
        children: [
          { kind: "equals", field: IMG, value: "a", cased: true },
          { kind: "equals", field: CMD, value: "b", cased: true },
        ],
      },
    });
  });

  test("what the DSL emitter writes reads back to the same predicates (fixed scripts included)", () => {
    const nodes: Node[] = [
      { kind: "suffix", field: IMG, value: "\\mshta.exe", cased: false },
      { kind: "contains", field: CMD, value: "a*b?c\\d", cased: true },
      { kind: "equals", field: IMG, value: "x", cased: false },
      { kind: "number", field: CMD, op: "gt", value: 5 },
      { kind: "fieldref", field: IMG, other: CMD, cased: false },
      { kind: "exists", field: IMG, exists: false },
      { kind: "prefix", field: { name: "winlog.event_id", type: "long" }, value: "46", cased: true },
      // no Lucene form (word boundary): written as the regex script query
      { kind: "regex", field: CMD, regex: { pattern: "\\bwhoami\\b", flags: { i: true, m: false, s: false } } },
    ];
    for (const n of nodes) {
      const q = nodeToQuery(n);
      const back = dslToIr(q, { profile });
      expect(back.ok).toBe(true);
      if (!back.ok) continue;
      if (n.kind === "exists")
        expect(back.node).toEqual({ kind: "not", child: { kind: "exists", field: IMG, exists: true } });
      else expect(back.node).toEqual(n);
    }
  });
});

describe("Lucene regexp syntax", () => {
  const re = (s: string, o = {}) => luceneRegexToIr(s, o);
  test("literal ^ $, quoted strings, @, classes, repetition; \\d as a class (with a warning)", () => {
    expect(re('a^b$"x.y"@')).toMatchObject({ ok: true, regex: { pattern: "^(?:a\\^b\\$(?:x\\.y)(?:.*))$" } });
    expect(re("[a-c^]{2,3}[^0-9]+")).toMatchObject({ ok: true, regex: { pattern: "^(?:[a-c\\^]{2,3}[^0-9]+)$" } });
    const d = re("\\d+");
    expect(d).toMatchObject({ ok: true, regex: { pattern: "^(?:\\d+)$" } });
    expect(d.ok && d.warnings.length).toBe(1);
    expect(re("~a")).toMatchObject({ ok: false });
    expect(re("<1-5>")).toMatchObject({ ok: false });
    expect(re("(a")).toMatchObject({ ok: false, invalid: true });
    expect(re("@", { flags: "NONE" })).toMatchObject({ ok: true, regex: { pattern: "^(?:@)$" } });
  });
});
