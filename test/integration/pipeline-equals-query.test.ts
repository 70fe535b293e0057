/**
 * Same answers as the query, on the full Windows ruleset: the regression events plus a generated
 * corpus go through the live pipeline into one index and, untouched, into another where each rule's
 * DSL query runs. The (event, rule) pairs must be equal. Size: OUTLIERS_EQ_DOCS (default 20,000 to
 * keep the suite short; the full check is 100,000: `OUTLIERS_EQ_DOCS=100000 bun test <this file>`).
 */
import { describe, expect, test } from "bun:test";
import { loadProfile } from "../../src/mapping/index.ts";
import { describeDiffs, liveVsQuery } from "../helpers/live-vs-query.ts";
import { generateEvents } from "../helpers/gen-events.ts";
import { regressionEvents, SHARED, SKIP_MESSAGE, windowsRules } from "../helpers/windows-rules.ts";

if (!SHARED) console.warn(SKIP_MESSAGE);
const SIZE = Number(process.env.OUTLIERS_EQ_DOCS ?? 20000);
const SEED = Number(process.env.OUTLIERS_EQ_SEED ?? 7);

describe("live tags = query matches, full Windows ruleset", () => {
  test.skipIf(!SHARED)(`regression events + ${SIZE} generated events`, async () => {
    const rules = windowsRules();
    const docs = [
      ...regressionEvents().map((e) => ({ id: `reg:${e.id}`, source: e.doc })),
      ...generateEvents(rules, SIZE, SEED),
    ];
    const t0 = Date.now();
    const r = await liveVsQuery(rules, docs, { template: loadProfile("winlogbeat").indexTemplate(), prefix: "eq" });
    const matchedRules = new Set<string>();
    for (const ids of r.liveTags.values()) for (const id of ids) matchedRules.add(id);
    console.log(
      `equality: ${r.docs} events × ${r.rules} rules (${r.excluded.length} excluded): live ${r.livePairs} pairs, query ${r.queryPairs} pairs, ` +
        `${r.diffs.length} differences; ${matchedRules.size} rules matched something; ${r.errors.length} tagging errors; ${((Date.now() - t0) / 1000).toFixed(0)}s`,
    );
    if (r.excluded.length) console.log(`excluded: ${r.excluded.map((e) => `${e.id}: ${e.reason}`).join("; ")}`);
    const report = describeDiffs(r, new Map(docs.map((d) => [d.id, d.source])), new Map(rules.map((x) => [x.id, x])));
    if (report) console.log(report);
    expect(r.lost).toEqual([]);
    expect(r.errors.slice(0, 10)).toEqual([]);
    expect(r.diffs.length).toBe(0);
    expect(r.livePairs).toBeGreaterThan(SIZE / 4);
    expect(matchedRules.size).toBeGreaterThan(500);
  }, 1_800_000);
});
