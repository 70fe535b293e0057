// Which indices untag and backfill mark (src/cluster/live/wired.ts): taggers reached through chains, counted
// per write (stacked installs run two), old taggers (no marker check) told apart.
import { describe, expect, test } from "bun:test";
import { INGEST_SOURCE } from "../../src/emit/painless/pipeline.ts";
import { checksRewrite, SKIP_REWRITE, TAGGER_TAG } from "../../src/emit/painless/rewrite.ts";
import { reachedTaggers, taggerRuns } from "../../src/cluster/live/wired.ts";

const tagger = (source: string) => ({
  processors: [{ script: { tag: "outliers-set-aside", source: "x" } }, { script: { tag: TAGGER_TAG, source } }],
});
const call = (...names: string[]) => ({
  processors: names.map((name) => ({ pipeline: { name, ignore_failure: true } })),
});
const OLD = INGEST_SOURCE.replace(SKIP_REWRITE, "");

describe("wired indices", () => {
  test("the live tagger checks the marker; a source without the check is old", () => {
    expect(checksRewrite(INGEST_SOURCE)).toBe(true);
    expect(checksRewrite(OLD)).toBe(false);
    expect(checksRewrite(undefined)).toBe(false);
  });

  test("taggers are counted through chains, default and final pipelines, not through on_failure", () => {
    const p = {
      a: tagger(INGEST_SOURCE),
      b: tagger(INGEST_SOURCE),
      fleet: { processors: [{ set: { field: "f", value: 1 } }] },
      "a-chain-fleet": call("fleet", "a"),
      "b-chain-a-chain-fleet": call("a-chain-fleet", "b"),
      failing: { processors: [{ set: { field: "f", value: 1, on_failure: [{ pipeline: { name: "a" } }] } }] },
      loop: call("loop", "a"),
    };
    expect(taggerRuns("a", p)).toBe(1);
    expect(taggerRuns("a-chain-fleet", p)).toBe(1);
    expect(taggerRuns("b-chain-a-chain-fleet", p)).toBe(2);
    expect(taggerRuns("fleet", p)).toBe(0);
    expect(taggerRuns("failing", p)).toBe(0);
    expect(taggerRuns("loop", p)).toBe(1);
    expect(taggerRuns("missing", p)).toBe(0);
    expect(reachedTaggers(["b-chain-a-chain-fleet"], p)).toEqual({ ok: ["a", "b"], old: [] });
    expect(reachedTaggers(["failing"], p)).toEqual({ ok: ["a"], old: [] });
    expect(reachedTaggers(["fleet"], p)).toEqual({ ok: [], old: [] });
  });

  test("an old tagger anywhere on the way is reported", () => {
    const p = { a: tagger(OLD), b: tagger(INGEST_SOURCE), "b-chain-a": call("a", "b") };
    expect(reachedTaggers(["b-chain-a"], p)).toEqual({ ok: ["b"], old: ["a"] });
    expect(reachedTaggers(["b"], p)).toEqual({ ok: ["b"], old: [] });
  });
});
