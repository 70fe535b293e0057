// The fixed Painless lives in src/emit/painless/*.painless and src/shared-scripts/*.painless; every code it shares with the params is named
// there (OP_EQ, S_RAW, P_DIMS, RE_SPLIT, …) and defined once in a TypeScript table. These tests fail
// when the two sides drift: a name the table lacks, an op the interpreter does not handle, a bare
// number where a code belongs, a params key the encoder does not write.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeRules } from "../../src/emit/painless/encode.ts";
import { ruleMeta } from "../../src/emit/match-plan/rule-meta.ts";
import { META, OP, PAINLESS_CONSTANTS, PARAM } from "../../src/emit/painless/layout.ts";
import { MATCHER_FUNCTIONS, TAGGER_FUNCTIONS } from "../../src/emit/painless/source.ts";
import { UNTAG_FUNCTIONS, UNTAG_SOURCE } from "../../src/emit/painless/untag.ts";
import { SET_ASIDE_SOURCE } from "../../src/emit/painless/set-aside.ts";
import { MARK, MARK_FUNCTIONS, SKIP_REWRITE } from "../../src/emit/painless/rewrite.ts";
import { MATCH_SOURCE } from "../../src/cluster/history/backfill-dry-run.ts";
import { OP as NFA_OP } from "../../src/ir/regex/nfa.ts";
import { REGEX_CONSTANTS, REGEX_PAINLESS } from "../../src/shared-scripts/regex-source.ts";
import { REGEX_QUERY_SCRIPT } from "../../src/shared-scripts/dsl-scripts.ts";
import { constantTokens, loadPainless, PainlessSourceError } from "../../src/shared-scripts/load.ts";
import { kw, rule } from "../helpers/rules.ts";

const SHARED = new Set(["regex.painless", "regex-query.painless"]);
const read = (f: string) =>
  readFileSync(join(import.meta.dir, "../../src", SHARED.has(f) ? "shared-scripts" : "emit/painless", f), "utf8");
const FILES: [string, Record<string, Record<string, number | string>>, string][] = [
  ["matcher.painless", PAINLESS_CONSTANTS, MATCHER_FUNCTIONS],
  ["tagger.painless", PAINLESS_CONSTANTS, TAGGER_FUNCTIONS],
  ["regex.painless", REGEX_CONSTANTS, REGEX_PAINLESS],
  ["untag-functions.painless", {}, UNTAG_FUNCTIONS],
  ["untag.painless", {}, UNTAG_SOURCE],
  ["set-aside.painless", {}, SET_ASIDE_SOURCE],
  ["rewrite-mark.painless", { MARK }, MARK_FUNCTIONS],
  ["rewrite-skip.painless", { MARK }, SKIP_REWRITE],
  ["dry-run.painless", {}, MATCH_SOURCE],
  ["regex-query.painless", {}, REGEX_QUERY_SCRIPT.slice(REGEX_PAINLESS.length)],
];

describe("the .painless sources and their constant tables", () => {
  test("every named code in a .painless file is in its table; none survives into the source sent", () => {
    for (const [file, tables, loaded] of FILES) {
      const text = read(file);
      expect(loaded, file).not.toContain("///");
      const groups = Object.keys(tables);
      if (groups.length === 0) continue;
      for (const tok of constantTokens(text, groups)) {
        const cut = tok.indexOf("_"); // no group name holds an underscore
        expect(Object.hasOwn(tables[tok.slice(0, cut)]!, tok.slice(cut + 1)), `${file}: ${tok}`).toBe(true);
      }
      expect(constantTokens(loaded, groups).size, file).toBe(0);
      expect(loaded, file).not.toContain("///");
    }
  });

  test("an unknown name is an error naming the file and line", () => {
    expect(() => loadPainless("x.painless", "int a = 1;\nif (op == OP_NOPE) {}", { OP })).toThrow(PainlessSourceError);
    expect(() => loadPainless("x.painless", "int a = 1;\nif (op == OP_NOPE) {}", { OP })).toThrow(
      "x.painless:2: OP_NOPE",
    );
    expect(loadPainless("x.painless", "/// note\nif (op == OP_EQ) {}\n", { OP })).toBe(`if (op == ${OP.EQ}) {}\n`);
  });

  test("the matcher handles every op of OP by name, and dispatches on no bare number", () => {
    const text = read("matcher.painless");
    const used = constantTokens(text, ["OP"]);
    for (const name of Object.keys(OP)) expect(used.has(`OP_${name}`), `OP_${name} in matcher.painless`).toBe(true);
    expect(text.match(/\b(?:op|sop|mode|cmp|t)\s*(?:==|<=|>=|<|>)\s*\d/)?.[0]).toBeUndefined();
    expect(text.match(/\bS\[\d\]|\bP\.[a-z]{1,2}\b|\b(?:fd|dim)\.get\(\d\)/)?.[0]).toBeUndefined();
    expect(read("tagger.painless").match(/\bm\.get\(\d\)|\bP\.[a-z]{1,2}\b/)?.[0]).toBeUndefined();
  });

  test("the regex interpreter handles every NFA op by name, and dispatches on no bare number", () => {
    const text = read("regex.painless");
    const used = constantTokens(text, ["RE"]);
    for (const name of Object.keys(NFA_OP))
      if (name !== "MATCH") expect(used.has(`RE_${name}`), `RE_${name} in regex.painless`).toBe(true);
    expect(text.match(/\b(?:op|a)\s*(?:==|<=)\s*\d|\bv\[\d\]/)?.[0]).toBeUndefined();
  });

  test("the codes of each table are distinct", () => {
    for (const [name, table] of Object.entries({ ...PAINLESS_CONSTANTS, ...REGEX_CONSTANTS })) {
      const values = Object.values(table);
      expect(new Set(values).size, name).toBe(values.length);
    }
  });

  test("PARAM names exactly the keys the encoder writes; META the positions of ruleMeta", () => {
    const r = rule("r1", { kind: "equals", field: kw("a"), value: "x", cased: false });
    const { params } = encodeRules([r]);
    expect(Object.keys(params).sort()).toEqual(Object.values(PARAM).sort());
    const meta = ruleMeta(r);
    expect(meta.length).toBe(Object.keys(META).length);
    expect(meta[META.ID]).toBe(r.id);
    expect(meta[META.REASON]).toBe(r.tagsOut.reason);
    expect(meta[META.MODEL_NAME]).toBe(r.tagsOut.modelName);
    expect(meta[META.MODEL_TYPE]).toBe(r.tagsOut.modelType);
  });
});
