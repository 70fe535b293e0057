/** The backfill's planning, without a cluster: prefilter choice, relaxation and union absorption. */
import { describe, expect, test } from "bun:test";
import type { Node, Predicate } from "../../src/ir/types.ts";
import { absorbed, choosePrefilter, relaxForQuery } from "../../src/cluster/history/backfill-queries.ts";

const kw = (name: string) => ({ name, type: "keyword" as const });
const eq = (f: string, v: string): Predicate => ({ kind: "equals", field: kw(f), value: v, cased: false });
const has = (f: string, v: string): Predicate => ({ kind: "contains", field: kw(f), value: v, cased: false });
const and = (...children: Node[]): Node => ({ kind: "and", children });

describe("choosePrefilter", () => {
  test("a selective, cheap union is used; one that selects most of the window is not", () => {
    // 1,000,000 events, the union keeps 10,000: 3 pages × 500 ms against 990,000 spared events.
    expect(choosePrefilter(1_000_000, 10_000, 500, 5000)).toBe("union");
    // The SigmaHQ Windows set: the union selects 29,996 of 30,000 and takes ~0.5 s per page.
    expect(choosePrefilter(30_000, 29_996, 547, 5000)).toBe("window");
  });

  test("a union too slow to rebuild for every page loses even when selective", () => {
    expect(choosePrefilter(100_000, 50_000, 60_000, 1000)).toBe("window");
    expect(choosePrefilter(100_000, 50_000, 10, 1000)).toBe("union");
  });
});

describe("relaxForQuery", () => {
  test("dropped predicates become the constant that keeps a superset, FALSE under a negation", () => {
    const n: Node = and(eq("c", "Security"), has("cmd", "x"), { kind: "not", child: has("cmd", "y") });
    const relaxed = relaxForQuery(n, (p) => p.kind === "contains");
    expect(relaxed).toEqual(eq("c", "Security"));
  });
});

describe("absorbed", () => {
  test("a clause implied by a broader one goes; TRUE absorbs everything", () => {
    const guard = eq("c", "Security");
    const narrow = and(guard, eq("id", "4688"));
    expect(absorbed([narrow, guard, narrow])).toEqual([guard]);
    expect(absorbed([narrow, { kind: "const", value: true }])).toEqual([{ kind: "const", value: true }]);
    const other = eq("c", "System");
    const both = absorbed([narrow, other]);
    expect(both).toHaveLength(2);
    expect(both).toContainEqual(narrow);
    expect(both).toContainEqual(other);
  });
});
