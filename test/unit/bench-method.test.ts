/**
 * The benchmark method's own checks (scripts/lib/rounds.ts, scripts/lib/cpu-profile.ts): a flagged
 * inversion is what keeps a bench from recording, and the profile summary is what a missed goal quotes.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inversions, type RoundsResult } from "../../scripts/lib/rounds.ts";
import { inclusiveOf, summarizeCpuProfile } from "../../scripts/lib/cpu-profile.ts";

const rounds = (ways: Record<string, number[]>): RoundsResult<{ seconds: number }> => ({
  rounds: Object.values(ways)[0]!.length,
  samples: new Map(Object.entries(ways).map(([k, xs]) => [k, xs.map((seconds) => ({ seconds }))])),
  loads: [1, 1, 1],
});

describe("inversions: a way doing more work that ran faster is flagged", () => {
  test("strict against the baseline: any median ratio below 1", () => {
    const res = rounds({ none: [10, 10, 10], ours: [9.9, 9.8, 10.5] });
    expect(inversions(res, [["ours", "none"]])).toHaveLength(1);
    expect(inversions(res, [["ours", "none"]])[0]).toContain("ours (does more work) ran faster than none");
  });
  test("no flag when the way doing more work is slower", () => {
    const res = rounds({ none: [10, 10, 10], ours: [20, 21, 19] });
    expect(inversions(res, [["ours", "none"]])).toEqual([]);
  });
  test("a tolerance flags near-equal ways only beyond it", () => {
    const within = rounds({ aside: [10, 10, 10], one: [9.8, 9.7, 10.1] }); // median ratio 0.98
    const beyond = rounds({ aside: [10, 10, 10], one: [9, 8.8, 9.2] }); // median ratio 0.90
    expect(inversions(within, [["one", "aside", 0.05]])).toEqual([]);
    expect(inversions(within, [["one", "aside"]])).toHaveLength(1);
    expect(inversions(beyond, [["one", "aside", 0.05]])).toHaveLength(1);
  });
  test("the ratio is taken within each round (a slow round falls on both ways)", () => {
    // Round 2 is three times slower for both: per-round ratios 1.1, 1.1, 1.1, never an inversion.
    const res = rounds({ none: [10, 30, 10], ours: [11, 33, 11] });
    expect(inversions(res, [["ours", "none"]])).toEqual([]);
  });
  test("pairs naming a way that did not run are skipped", () => {
    expect(inversions(rounds({ none: [1, 1, 1] }), [["ours", "none"]])).toEqual([]);
  });
});

describe("summarizeCpuProfile: self and inclusive time per function", () => {
  test("a small profile: recursion counted once, paths made relative", () => {
    const root = "/repo";
    const frame = (id: number, fn: string, children: number[] = [], url = `file:///repo/src/${fn}.ts`) => ({
      id,
      callFrame: { functionName: fn, url, lineNumber: 9 },
      children,
    });
    const profile = {
      nodes: [
        frame(1, "(root)", [2], ""),
        frame(2, "load", [3, 4]),
        frame(3, "parse", [5], ""),
        frame(4, "load", []),
        frame(5, "parse", [], ""),
      ],
      // 3 ms in parse (native) under load, 2 ms in the nested parse, 1 ms in load's recursive call
      samples: [3, 3, 3, 5, 5, 4],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
    };
    const dir = mkdtempSync(path.join(tmpdir(), "cpu-profile-test-"));
    const file = path.join(dir, "p.cpuprofile");
    writeFileSync(file, JSON.stringify(profile));
    const s = summarizeCpuProfile(file, root);
    rmSync(dir, { recursive: true, force: true });
    expect(s.totalMs).toBe(6);
    expect(s.self[0]).toEqual({ fn: "parse (native)", ms: 5 });
    expect(s.self.find((f) => f.fn === "load src/load.ts:10")?.ms).toBe(1);
    // load is on every sample's stack; counted once per sample though it appears twice on one of them
    expect(inclusiveOf(s, "load ")).toBe(6);
    expect(inclusiveOf(s, "parse ")).toBe(5);
    expect(inclusiveOf(s, "absent ")).toBe(0);
  });
});
