/** Lucene query strings (ee-outliers es_query_filter) into the rule representation. */
import { describe, expect, test } from "bun:test";
import { loadProfile } from "../../src/mapping/index.ts";
import { luceneToIr, type LuceneOptions } from "../../src/rules/eeoutliers/lucene-to-ir.ts";
import type { Node } from "../../src/ir/types.ts";

const profile = loadProfile("winlogbeat");
const IMG = { name: "winlog.event_data.Image", type: "keyword" } as const;
const CMD = { name: "winlog.event_data.CommandLine", type: "keyword" } as const;
const EID = { name: "winlog.event_id", type: "long" } as const;
const MSG = { name: "message", type: "text", keywordSubfield: "keyword" } as const;

function ir(q: string, opts: Partial<LuceneOptions> = {}): Node {
  const r = luceneToIr(q, { profile, ...opts });
  if (!r.ok) throw new Error(`${r.kind}: ${r.reason}`);
  return r.node;
}
const eq = (f: typeof IMG | typeof CMD, v: string): Node => ({ kind: "equals", field: f, value: v, cased: true });
const a = eq(IMG, "a");
const b = eq(IMG, "b");
const c = eq(IMG, "c");

describe("terms and values", () => {
  test("field:value, quoted phrases, escapes, .keyword, numbers", () => {
    expect(ir("winlog.event_data.Image:a")).toEqual(a);
    expect(ir('winlog.event_data.Image.keyword:"C:\\\\Windows\\\\cmd.exe"')).toEqual(eq(IMG, "C:\\Windows\\cmd.exe"));
    expect(ir("winlog.event_data.CommandLine:a\\:b\\ c\\*")).toEqual(eq(CMD, "a:b c*"));
    expect(ir("winlog.event_id:4688")).toEqual({ kind: "number", field: EID, op: "eq", value: 4688 });
  });

  test("wildcards (escaped ones are literal), field:* and _exists_ are presence", () => {
    expect(ir("winlog.event_data.Image:*\\\\mshta.exe")).toEqual({
      kind: "suffix",
      field: IMG,
      value: "\\mshta.exe",
      cased: true,
    });
    expect(ir("winlog.event_data.CommandLine:*a?b\\*")).toEqual({
      kind: "wildcard",
      field: CMD,
      parts: [{ any: true }, { lit: "a" }, { one: true }, { lit: "b*" }],
      cased: true,
    });
    expect(ir("winlog.event_data.Image:*")).toEqual({ kind: "exists", field: IMG, exists: true });
    expect(ir("_exists_:winlog.event_data.Image")).toEqual({ kind: "exists", field: IMG, exists: true });
    expect(ir("*")).toEqual({ kind: "const", value: true });
    expect(ir("*:*")).toEqual({ kind: "const", value: true });
  });

  test("ranges: [a TO b], {a TO b}, mixed, open ends, >=x", () => {
    const n = (op: "gt" | "gte" | "lt" | "lte", value: number): Node => ({ kind: "number", field: EID, op, value });
    expect(ir("winlog.event_id:[1 TO 5]")).toEqual({ kind: "and", children: [n("gte", 1), n("lte", 5)] });
    expect(ir("winlog.event_id:{1 TO 5}")).toEqual({ kind: "and", children: [n("gt", 1), n("lt", 5)] });
    expect(ir("winlog.event_id:[1 TO 5}")).toEqual({ kind: "and", children: [n("gte", 1), n("lt", 5)] });
    expect(ir("winlog.event_id:[10 TO *]")).toEqual(n("gte", 10));
    expect(ir("winlog.event_id:>=4000")).toEqual(n("gte", 4000));
    expect(ir("winlog.event_id:<10")).toEqual(n("lt", 10));
    expect(luceneToIr("winlog.event_data.Image:[a TO c]", { profile })).toMatchObject({
      ok: false,
      kind: "unsupported",
    });
  });

  test("/regexp/ on a keyword field", () => {
    expect(ir("winlog.event_data.Image:/.*\\\\(cmd|pwsh)\\.exe/")).toEqual({
      kind: "regex",
      field: IMG,
      regex: { pattern: "^(?:.*\\\\(?:cmd|pwsh)\\.exe)$", flags: { i: false, m: false, s: true } },
    });
  });
});

describe("operators, as Lucene's classic parser combines them", () => {
  const q = (s: string) => ir(s.replace(/\b([abc])\b/g, "winlog.event_data.Image:$1"));
  test("AND / OR / NOT / && / || / ! / + / - and parentheses", () => {
    expect(q("a AND b")).toEqual({ kind: "and", children: [a, b] });
    expect(q("a && b")).toEqual({ kind: "and", children: [a, b] });
    expect(q("a OR b")).toEqual({ kind: "or", children: [a, b] });
    expect(q("a || b")).toEqual({ kind: "or", children: [a, b] });
    expect(q("a b")).toEqual({ kind: "or", children: [a, b] }); // default operator OR
    expect(q("a NOT b")).toEqual({ kind: "and", children: [a, { kind: "not", child: b }] });
    expect(q("a !b")).toEqual({ kind: "and", children: [a, { kind: "not", child: b }] });
    expect(q("+a -b c")).toEqual({ kind: "and", children: [a, { kind: "not", child: b }] });
    expect(q("(a OR b) AND c")).toEqual({ kind: "and", children: [{ kind: "or", children: [a, b] }, c] });
    expect(q("winlog.event_data.Image:(a OR b)")).toEqual(ir("winlog.event_data.Image:a OR winlog.event_data.Image:b"));
  });

  test("Lucene's precedence quirk: `a AND b OR c` is `+a +b c` (c optional)", () => {
    expect(q("a AND b OR c")).toEqual({ kind: "and", children: [a, b] });
    expect(q("a OR b AND c")).toEqual({ kind: "and", children: [b, c] });
  });

  test("a purely negative query matches everything else (Elasticsearch adds *:*)", () => {
    expect(q("NOT a")).toEqual({ kind: "not", child: a });
    expect(q("-a -b")).toEqual({ kind: "not", child: { kind: "or", children: [a, b] } });
    expect(q("c AND (NOT a)")).toEqual({ kind: "and", children: [c, { kind: "not", child: a }] });
  });

  test("default operator AND (query_string default_operator)", () => {
    const r = ir("winlog.event_data.Image:a winlog.event_data.Image:b", { defaultOperator: "AND" });
    expect(r).toEqual({ kind: "and", children: [a, b] });
    expect(ir("winlog.event_data.Image:a OR winlog.event_data.Image:b", { defaultOperator: "AND" })).toEqual({
      kind: "or",
      children: [a, b],
    });
  });
});

describe("where live matching follows a documented rule", () => {
  test("analysed text fields: case-insensitive substring of the whole value (with a warning)", () => {
    const r = luceneToIr('message:mimikatz AND message:"-W hidden" AND message:power*', { profile });
    expect(r).toEqual({
      ok: true,
      node: {
        kind: "and",
        children: [
          { kind: "contains", field: MSG, value: "mimikatz", cased: false },
          { kind: "contains", field: MSG, value: "-W hidden", cased: false },
          { kind: "contains", field: MSG, value: "power", cased: false },
        ],
      },
      warnings: [
        "message is an analysed text field: the query matches its tokens, live matching uses a case-insensitive substring of the whole value",
      ],
    });
  });

  test("bare terms: case-insensitive substring in any of the profile's keyword fields; default_field narrows it", () => {
    const r = ir('mimikatz OR "sekurlsa::logonpasswords"');
    if (r.kind !== "or") throw new Error(JSON.stringify(r));
    const [t1, t2] = r.children;
    expect(t1).toMatchObject({
      kind: "keyword",
      parts: [{ any: true }, { lit: "mimikatz" }, { any: true }],
      cased: false,
    });
    expect(t2).toMatchObject({
      kind: "keyword",
      parts: [{ any: true }, { lit: "sekurlsa::logonpasswords" }, { any: true }],
      cased: false,
    });
    if (t1!.kind !== "keyword") throw new Error();
    expect(t1!.fields.map((f) => f.name)).toContain("winlog.event_data.CommandLine");
    expect(t1!.fields.map((f) => f.name)).toContain("message");
    expect(ir("x", { defaultFields: ["winlog.event_data.Image"] })).toEqual(eq(IMG, "x"));
  });
});

describe("errors and live-unsupported constructs", () => {
  test("syntax errors are invalid with the position", () => {
    expect(luceneToIr("a:(b", { profile })).toMatchObject({
      ok: false,
      kind: "invalid",
      reason: "query string \"a:(b\": missing ')' at the end",
    });
    expect(luceneToIr('a:"b', { profile })).toMatchObject({ ok: false, kind: "invalid" });
    expect(luceneToIr("a:[1 5]", { profile })).toMatchObject({ ok: false, kind: "invalid" });
    expect(luceneToIr("winlog.event_id:abc", { profile })).toMatchObject({ ok: false, kind: "invalid" });
  });
  test("fuzzy, slop, field patterns, _id, date ranges cannot be evaluated live", () => {
    for (const s of [
      "winlog.event_data.Image:foo~",
      'winlog.event_data.Image:"a b"~2',
      "winlog.event_data.*:x",
      "_id:abc",
      "@timestamp:[now-1d TO now]",
    ]) {
      expect(luceneToIr(s, { profile })).toMatchObject({ ok: false, kind: "unsupported" });
    }
    // a boost changes scores only
    expect(ir("winlog.event_data.Image:a^2")).toEqual(a);
  });
});
