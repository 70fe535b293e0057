/**
 * Mapping discovery and the mapping-aware DSL: each predicate compiled for the field as really
 * indexed (keyword, text + keyword sub-field of any name, text only, wildcard, numbers, ignore_above,
 * missing, conflicting across indices), widening where the index cannot answer and narrowing under
 * a `not`. The live == backfill checks on the real node are test/integration/mapping-matrix.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { discoveryFromMappings, ruleIdFields, carriesRule } from "../../src/cluster/connection/field-discovery.ts";
import { nodeToQuery, type Mapped } from "../../src/emit/dsl.ts";
import type { Field, Node } from "../../src/ir/types.ts";
import { indexReport } from "../../src/cluster/connection/doctor-index.ts";
import { missingTagMappings } from "../../src/cluster/live/tag-mappings.ts";
import type { Rule } from "../../src/ir/types.ts";

const kw = (name: string): Field => ({ name, type: "keyword" });
const text256 = { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } };

const d = discoveryFromMappings({
  dyn: {
    mappings: {
      properties: {
        a: text256,
        n: { type: "long" },
        t: { type: "text" },
        r: { type: "text", fields: { raw: { type: "keyword" } } },
        w: { type: "wildcard" },
        o: { type: "object", enabled: false },
        k1024: { type: "keyword", ignore_above: 1024 },
      },
    },
  },
});
const mixed = discoveryFromMappings({
  "old-1": { mappings: { properties: { a: text256 } } },
  "new-1": { mappings: { properties: { a: { type: "keyword", ignore_above: 8191 } } } },
  "new-2": { mappings: { properties: { a: { type: "keyword", ignore_above: 8191 } } } },
});

function q(node: Node, upper = true, disc = d): { query: any; widened: string[] } {
  const widened: string[] = [];
  const m: Mapped = { fields: disc.fields, upper, widened: (f, why) => void widened.push(`${f}: ${why}`) };
  return { query: nodeToQuery(node, m), widened };
}
const J = (x: unknown) => JSON.stringify(x);

describe("field discovery", () => {
  test("text + keyword sub-field, sub-field of any name, text only, keyword limits, typed, unknown, absent", () => {
    expect(d.fields.variants("a")[0]!.field).toEqual({
      kind: "text",
      path: "a",
      sub: { path: "a.keyword", ignoreAbove: 256 },
    });
    expect(d.fields.variants("r")[0]!.field).toEqual({
      kind: "text",
      path: "r",
      sub: { path: "r.raw", ignoreAbove: Infinity },
    });
    expect(d.fields.variants("t")[0]!.field).toEqual({ kind: "text", path: "t" });
    expect(d.fields.variants("k1024")[0]!.field).toEqual({ kind: "keyword", path: "k1024", ignoreAbove: 1024 });
    expect(d.fields.variants("n")[0]!.field).toMatchObject({ kind: "typed", type: "long" });
    expect(d.fields.variants("o.x")[0]!.field.kind).toBe("unknown");
    expect(d.fields.variants("nothere")[0]!.field.kind).toBe("absent");
    expect(mixed.fields.variants("a").map((v) => v.indices)).toEqual([["new-1", "new-2"], ["old-1"]]);
  });
});

describe("predicates compiled for the real mapping", () => {
  test("`.keyword` means the whole value: an equality on a dynamic text field queries its keyword sub-field, exactly", () => {
    const r = q({ kind: "equals", field: kw("a"), value: "cmd.exe", cased: true });
    expect(r.query).toEqual({ term: { "a.keyword": "cmd.exe" } });
    expect(r.widened).toEqual([]);
  });
  test("a substring test under ignore_above 256 also selects events whose value was too long to index; under `not` it does not", () => {
    const node: Node = { kind: "contains", field: kw("a"), value: "mshta", cased: false };
    const up = q(node);
    expect(J(up.query)).toContain('"a.keyword"');
    expect(J(up.query)).toContain('"must_not":[{"exists":{"field":"a.keyword"}}]');
    expect(up.widened.length).toBe(1);
    const down = q({ kind: "not", child: node });
    expect(J(down.query)).not.toContain('"exists"');
  });
  test("sub-field of any name: r.raw", () => {
    expect(q({ kind: "prefix", field: kw("r"), value: "C:", cased: true }).query).toEqual({
      prefix: { "r.raw": { value: "C:" } },
    });
  });
  test("text only: widened to 'the field exists' (and to nothing under a not)", () => {
    expect(q({ kind: "contains", field: kw("t"), value: "x", cased: false }).query).toEqual({ exists: { field: "t" } });
    expect(q({ kind: "not", child: { kind: "contains", field: kw("t"), value: "x", cased: false } }).query).toEqual({
      match_all: {},
    });
  });
  test("a keyword with ignore_above 1024 (Winlogbeat): long values are selected by 'no indexed value'", () => {
    expect(J(q({ kind: "suffix", field: kw("k1024"), value: "\\\\x.exe", cased: false }).query)).toContain(
      '{"bool":{"must_not":[{"exists":{"field":"k1024"}}]}}',
    );
    // an equality with a value shorter than the limit cannot be cut: exact
    expect(q({ kind: "equals", field: kw("k1024"), value: "x", cased: true })).toEqual({
      query: { term: { k1024: "x" } },
      widened: [],
    });
  });
  test("number on a keyword-typed rule field, a disabled object: widened", () => {
    expect(q({ kind: "number", field: { name: "k1024", type: "long" }, op: "eq", value: 1 }).query).toEqual({
      match_all: {},
    });
    expect(q({ kind: "number", field: { name: "n", type: "long" }, op: "eq", value: 1 }).query).toEqual({
      term: { n: 1 },
    });
    expect(q({ kind: "equals", field: kw("o.x"), value: "v", cased: true }).query).toEqual({ match_all: {} });
    expect(q({ kind: "equals", field: kw("o.x"), value: "v", cased: true }, false).query).toEqual({ match_none: {} });
  });
  test("a field no index maps holds no value: no match, and `exists: false` matches all", () => {
    expect(q({ kind: "contains", field: kw("nothere"), value: "x", cased: false }).query).toEqual({ match_none: {} });
    expect(q({ kind: "exists", field: kw("nothere"), exists: false }).query).toEqual({ match_all: {} });
  });
  test("indices that map a field differently each get their own clause", () => {
    const r = J(q({ kind: "equals", field: kw("a"), value: "v", cased: true }, true, mixed).query);
    expect(r).toContain('{"terms":{"_index":["new-1","new-2"]}},{"term":{"a":"v"}}');
    expect(r).toContain('{"terms":{"_index":["old-1"]}},{"term":{"a.keyword":"v"}}');
  });
});

describe("tag fields", () => {
  test("rule ids: keyword where we mapped them, .keyword where ee-outliers' dynamic mapping made text", () => {
    const tagged = discoveryFromMappings({
      ours: { mappings: { properties: { outliers: { properties: { rule_id: { type: "keyword" } } } } } },
      ee: { mappings: { properties: { outliers: { properties: { rule_id: text256 } } } } },
      fresh: { mappings: { properties: {} } },
    });
    const ids = ruleIdFields(tagged);
    expect(ids).toEqual([
      { field: "outliers.rule_id.keyword", indices: ["ee"] },
      { field: "outliers.rule_id", indices: ["fresh", "ours"] },
    ]);
    expect(J(carriesRule(ids, ["r1"]))).toContain('"outliers.rule_id.keyword":["r1"]');
  });
  test("--tag-mapping ee-outliers: keyword with a keyword sub-field", () => {
    const add = missingTagMappings({}, [], "ee-outliers");
    expect(add.properties.tags).toEqual({
      type: "keyword",
      fields: { keyword: { type: "keyword", ignore_above: 8191 } },
    });
    expect(add.properties.outliers.properties.type.fields.keyword.type).toBe("keyword");
    expect(missingTagMappings({}).properties.tags).toEqual({ type: "keyword" });
  });
});

describe("doctor --index report", () => {
  const rule = (id: string, condition: Node): Rule =>
    ({
      id,
      title: id,
      condition,
      index: ["x"],
      timeField: "@timestamp",
      tags: [],
      references: [],
      falsepositives: [],
      logsource: {},
      source: { format: "sigma", path: "r.yml" },
      tagsOut: {} as any,
    }) as Rule;
  test("text-only, ignore_above, conflicts, missing time field", () => {
    const rules = [
      rule("r1", { kind: "contains", field: kw("t"), value: "x", cased: false }),
      rule("r2", { kind: "contains", field: kw("a"), value: "x", cased: false }),
    ];
    const r = indexReport(d, ["dyn"], rules, "@timestamp");
    expect(r.findings.map((f) => `${f.kind}:${f.field}:${f.status}`).sort()).toEqual([
      "ignore-above:a:warn",
      "text-only:t:warn",
      "time-field:@timestamp:fail",
    ]);
    expect(r.ready).toBe(false);
    const c = indexReport(
      mixed,
      ["*"],
      [rule("r3", { kind: "contains", field: kw("a"), value: "x", cased: false })],
      "@timestamp",
    );
    expect(c.findings.some((f) => f.kind === "conflict" && f.field === "a" && f.rules[0] === "r3")).toBe(true);
  });
});
