/**
 * Index keys are a function of the lowered rule (src/emit/match-plan/lower.ts lowerNode: the match
 * ops every emitter takes), not of how the rule was written: predicates that lower to the same op
 * key the same way, and a plan built by hand from ops keys without any predicate behind it.
 */
import { describe, expect, test } from "bun:test";
import { indexKeys } from "../../src/emit/match-plan/index-keys.ts";
import { lowerNode, lowerPredicate, type PlanNode } from "../../src/emit/match-plan/lower.ts";
import type { MatchOp } from "../../src/emit/match-plan/ops.ts";
import { encodeRules, liveRules } from "../../src/emit/painless/encode.ts";
import { Encoder } from "../../src/emit/painless/encode-nodes.ts";
import type { Node, Predicate } from "../../src/ir/types.ts";
import { WINDOWS_GUARD_COSTS } from "../../src/mapping/windows-profile.ts";
import { kw, long, rule } from "../helpers/rules.ts";

const IMG = kw("winlog.event_data.Image");
const EID = long("winlog.event_id");
const keysOf = (n: Node) => indexKeys(lowerNode(n))?.map((k) => [k.field.name, k.mode, k.key]) ?? null;
const op = (m: MatchOp): PlanNode => ({ kind: "op", op: m });

describe("index keys from match ops", () => {
  test("predicates written differently that lower to the same op have the same keys", () => {
    const same: [Predicate, Predicate][] = [
      [
        { kind: "suffix", field: IMG, value: "\\MSHTA.exe", cased: false },
        { kind: "wildcard", field: IMG, parts: [{ any: true }, { lit: "\\MSHTA.exe" }], cased: false },
      ],
      [
        { kind: "equals", field: kw("winlog.event_data.LogonType"), value: "10", cased: true },
        { kind: "number", field: kw("winlog.event_data.LogonType"), op: "eq", value: 10 },
      ],
      [
        { kind: "contains", field: IMG, value: "mimikatz", cased: false },
        { kind: "wildcard", field: IMG, parts: [{ any: true }, { lit: "mimikatz" }, { any: true }], cased: false },
      ],
    ];
    for (const [a, b] of same) {
      expect(lowerPredicate(a)).toEqual(lowerPredicate(b));
      expect(keysOf(a)).toEqual(keysOf(b));
      expect(keysOf(a)).not.toBeNull();
    }
    expect(keysOf(same[0]![0])).toEqual([["winlog.event_data.Image", 1, "mshta.exe"]]);
    expect(keysOf(same[1]![0])).toEqual([["winlog.event_data.LogonType", 0, "10"]]);
  });

  test("a plan of ops alone: eq, integer eq on a long, a gram; no key for what the index cannot file", () => {
    const eq: MatchOp = {
      kind: "string",
      test: "eq",
      field: IMG,
      view: "keyword",
      value: "C:\\X.exe",
      cased: true,
      exact: true,
      compare: "C:\\X.exe",
    };
    expect(indexKeys(op(eq))!.map((k) => [k.mode, k.key])).toEqual([[0, "c:\\x.exe"]]);
    const n: MatchOp = { kind: "number", field: EID, view: "long", cmp: "eq", value: 4688 };
    expect(indexKeys(op(n))!.map((k) => [k.mode, k.key])).toEqual([[2, "4688"]]);
    expect(indexKeys(op({ ...n, cmp: "gt" }))).toBeNull();
    expect(indexKeys(op({ ...n, value: 1.5 }))).toBeNull();
    const glob = lowerPredicate({
      kind: "wildcard",
      field: IMG,
      parts: [{ lit: "ab" }, { one: true }, { lit: "Rundll32" }, { any: true }],
      cased: false,
    });
    const [g] = indexKeys(op(glob))!;
    expect(g!.mode).toBe(3);
    expect("rundll32").toContain(g!.key);
    for (const none of [
      { kind: "exists", field: IMG, view: "keyword", exists: true },
      { kind: "const", value: true },
      { kind: "anyField", fields: [{ field: IMG, op: eq }] },
      { ...eq, view: "date" },
    ] as MatchOp[])
      expect(indexKeys(op(none))).toBeNull();
    // and: the cheapest child (an event id costs what the profile says); or: every child's keys; not: none
    const and: PlanNode = { kind: "and", children: [op(n), op(eq)] };
    expect(indexKeys(and)!.map((k) => k.mode)).toEqual([2]);
    expect(indexKeys(and, new Map(), WINDOWS_GUARD_COSTS)!.map((k) => k.mode)).toEqual([0]);
    expect(indexKeys({ kind: "or", children: [op(n), op(eq)] })!.map((k) => k.mode)).toEqual([2, 0]);
    expect(indexKeys({ kind: "not", child: op(eq) })).toBeNull();
  });

  test("one lowering: the plan holds the ops the emitters take; encoding the plan or the tree is the same", () => {
    const p: Predicate = { kind: "contains", field: IMG, value: "-enc", cased: false };
    const tree: Node = {
      kind: "and",
      children: [p, { kind: "not", child: { kind: "number", field: EID, op: "eq", value: 1 } }],
    };
    const plan = lowerNode(tree);
    expect((plan as { children: PlanNode[] }).children[0]).toEqual({ kind: "op", op: lowerPredicate(p) });
    const [a, b] = [new Encoder(-1), new Encoder(-1)];
    expect([a.plan(plan), a.fields]).toEqual([b.node(tree), b.fields]);
  });

  test("liveRules keeps and skips what encodeRules does, with the same reasons", () => {
    const bad: Node = {
      kind: "regex",
      field: long("N"),
      regex: { pattern: "a", flags: { i: false, m: false, s: false } },
    };
    const ok: Node = { kind: "contains", field: IMG, value: "x", cased: false };
    const rules = [
      rule("a", ok),
      rule("b", ok, { liveUnsupported: "correlation" }),
      rule("c", ok, { whitelist: bad }),
      rule("c", ok),
      rule("a", ok),
      rule("d", bad),
    ];
    const live = liveRules(rules);
    const enc = encodeRules(rules);
    expect(live.skipped).toEqual(enc.skipped);
    expect(live.rules).toEqual(enc.rules);
    expect(live.skipped.map((s) => s.id)).toEqual(["b", "c", "a", "d"]);
  });
});
