/** The plan of `outliers apply` (src/cluster/history/apply-plan.ts): pure, from the record, the installed pipeline and the rules. */
import { expect, test } from "bun:test";
import { noRuleChange, planApply } from "../../src/cluster/history/apply-plan.ts";
import type { ApplyRecord } from "../../src/cluster/history/apply-record.ts";

const r = (id: string, digest?: string) => ({ id, title: `t-${id}`, ...(digest ? { digest } : {}) });
const record = (rules: Array<[string, string]>, pending?: ApplyRecord["pending"]): ApplyRecord => ({
  name: "p",
  updated_at: "2026-01-01T00:00:00Z",
  rules: Object.fromEntries(
    rules.map(([id, digest]) => [id, { id, title: `t-${id}`, digest, live_at: "x", backfill: null }]),
  ),
  ...(pending ? { pending } : {}),
});
const ids = (l: Array<{ id: string }>) => l.map((x) => x.id);

test("added, changed (digest differs), removed and unchanged against the record", () => {
  const c = planApply([r("a", "1"), r("b", "2x"), r("e", "5")], {
    record: record([
      ["a", "1"],
      ["b", "2"],
      ["d", "4"],
    ]),
    installed: [r("a", "1"), r("b", "2"), r("d", "4")],
  });
  expect(ids(c.added)).toEqual(["e"]);
  expect(ids(c.changed)).toEqual(["b"]);
  expect(ids(c.removed)).toEqual(["d"]);
  expect(ids(c.unchanged)).toEqual(["a"]);
  expect(c.resumed).toBe(false);
});

test("nothing changed: nothing to untag or backfill", () => {
  const c = planApply([r("a", "1")], { record: record([["a", "1"]]), installed: [r("a", "1")] });
  expect(noRuleChange(c)).toBe(true);
});

test("a killed run's rules are planned again (changed, or removed), so running apply again finishes it", () => {
  const c = planApply([r("a", "1"), r("b", "2")], {
    record: record(
      [
        ["a", "1"],
        ["b", "2"],
      ],
      { started_at: "s", since: "2026-01-01T00:00:00Z", untag: ["b", "z"], backfill: ["b"], target: {} },
    ),
    installed: [r("a", "1"), r("b", "2")],
  });
  expect(ids(c.changed)).toEqual(["b"]);
  expect(ids(c.removed)).toEqual(["z"]);
  expect(ids(c.unchanged)).toEqual(["a"]);
  expect(c.resumed).toBe(true);
});

test("no record: the pipeline installed by hand is the baseline; a rule without a digest counts as changed", () => {
  const c = planApply([r("a", "1"), r("b", "2")], { installed: [r("a", "1"), r("b"), r("c", "3")] });
  expect(ids(c.unchanged)).toEqual(["a"]);
  expect(ids(c.changed)).toEqual(["b"]);
  expect(ids(c.removed)).toEqual(["c"]);
});

test("no pipeline installed: every rule is added (backfill skips events already tagged); recorded rules gone are removed", () => {
  const c = planApply([r("a", "1")], {
    record: record([
      ["a", "1"],
      ["d", "4"],
    ]),
    installed: [],
  });
  expect(ids(c.added)).toEqual(["a"]);
  expect(ids(c.removed)).toEqual(["d"]);
});
