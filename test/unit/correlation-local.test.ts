/**
 * The local evaluator (what `scan` runs: src/local/correlate.ts over src/ir/correlation-windows.ts)
 * against the brute-force reference on several generated streams, in process; the end-to-end and
 * cluster runs are test/integration/correlation-differential.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadProfile } from "../../src/mapping/index.ts";
import { loadRules } from "../../src/rules/load.ts";
import { Scanner } from "../../src/local/scan.ts";
import { correlateLocal } from "../../src/local/correlate.ts";
import { firingInGroup, type Participant } from "../../src/ir/correlation-windows.ts";
import type { Correlation } from "../../src/ir/correlation.ts";
import type { Rule } from "../../src/ir/types.ts";
import { correlationIds, reference, ruleYaml, stream, toDoc } from "../helpers/correlation-reference.ts";

const dir = mkdtempSync(path.join(tmpdir(), "corr-unit-"));
const { base, correlations } = ruleYaml();
writeFileSync(path.join(dir, "base.yml"), base);
writeFileSync(path.join(dir, "correlations.yml"), correlations);
const results = loadRules([dir], { profile: loadProfile("winlogbeat") });
const rules: Rule[] = [];
const corrs: Rule[] = [];
for (const r of results) {
  if (r.status !== "ok") throw new Error(r.error);
  (r.rule.correlation ? corrs : rules).push(r.rule);
}

describe("local correlations = brute-force reference", () => {
  test.each([1, 2, 3, 4, 5, 6])("stream seed %d", (seed) => {
    const events = stream(300, seed);
    const expected = reference(events);
    const scanner = new Scanner(rules);
    const docs = events.map((e) => {
      const doc = toDoc(e);
      scanner.scan({ doc, file: "x", line: 1 } as any);
      return doc;
    });
    correlateLocal(corrs, docs);
    const wrong: string[] = [];
    docs.forEach((d, i) => {
      const want = [...expected.get(events[i]!.id)!].sort();
      const got = correlationIds(d);
      if (JSON.stringify(want) !== JSON.stringify(got)) wrong.push(`${events[i]!.id}: want [${want}] got [${got}]`);
    });
    expect(wrong).toEqual([]);
    expect([...expected.values()].some((s) => s.size > 0)).toBe(true);
  });
});

describe("windows", () => {
  const c = (over: Partial<Correlation>): Correlation => ({
    type: "event_count",
    refs: ["a"],
    ruleIds: ["a"],
    groupBy: [],
    timespan: "1s",
    timespanMs: 1000,
    condition: [{ op: "gte", value: 2 }],
    aliases: {},
    generate: false,
    fields: {},
    ...over,
  });
  const ps = (...ts: number[]): Participant[] => ts.map((t) => ({ group: "[]", label: "", t, refs: [0] }));
  test("closed at both ends: exactly the timespan apart is one window, a millisecond more is not", () => {
    expect(firingInGroup(c({}), ps(0, 1000)).length).toBe(2);
    expect(firingInGroup(c({}), ps(0, 1001)).length).toBe(0);
  });
  test("equal timestamps are in every window together; arrival order does not matter", () => {
    expect(firingInGroup(c({}), ps(500, 500)).length).toBe(2);
    expect(firingInGroup(c({}), ps(5000, 0, 3000, 1)).sort()).toEqual([0, 1]);
  });
  test("a window that fires tags each of its events once, also when the group fires again", () => {
    expect(firingInGroup(c({}), ps(0, 10, 20, 10_000, 10_001)).length).toBe(5);
  });
  test("anchorFrom: only windows ending from then, their earlier events still counted", () => {
    expect(firingInGroup(c({}), ps(0, 900, 5000), 900).length).toBe(2);
    expect(firingInGroup(c({}), ps(0, 900, 5000), 901).length).toBe(0);
  });
  test("value_percentile by nearest rank, value_median the middle or the mean of the two middle values", () => {
    // One instant: one window of four values.
    const v = (...xs: number[]) => xs.map((x) => ({ group: "[]", label: "", t: 0, refs: [0], value: x }));
    const pct = (value: number) => c({ type: "value_percentile", percentile: 50, condition: [{ op: "eq", value }] });
    expect(firingInGroup(pct(2), v(4, 1, 3, 2)).length).toBe(4);
    expect(firingInGroup(pct(2.5), v(4, 1, 3, 2)).length).toBe(0);
    const med = (value: number) => c({ type: "value_median", condition: [{ op: "eq", value }] });
    expect(firingInGroup(med(2.5), v(4, 1, 3, 2)).length).toBe(4);
    expect(firingInGroup(med(2), v(4, 1, 3, 2)).length).toBe(0);
  });
});
