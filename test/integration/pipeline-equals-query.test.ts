/**
 * Same answers as the query, on the full Windows ruleset: the regression events plus a generated
 * corpus go through the live pipeline into one index and, untouched, into another where each rule's
 * DSL query runs. The (event, rule) pairs must be equal. The same events, written to an NDJSON file,
 * go through `dist/outliers scan --json --all` (the JavaScript matcher and tagger, no cluster): its
 * pairs and the tags it writes on each event must equal the live pipeline's. Size: OUTLIERS_EQ_DOCS (default 20,000 to
 * keep the suite short; the full check is 100,000: `OUTLIERS_EQ_DOCS=100000 bun test <this file>`).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBin } from "../helpers/bin.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { describeDiffs, liveVsQuery, scanVsLive, writtenTags, type Tagged } from "../helpers/live-vs-query.ts";
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

    // scan == live: the binary, on the same events and the rules the pipeline ran (their files).
    const dir = mkdtempSync(path.join(tmpdir(), "outliers-scan-eq-"));
    try {
      const events = path.join(dir, "events.ndjson");
      writeFileSync(events, docs.map((d) => JSON.stringify(d.source)).join("\n") + "\n");
      const files = [...new Set(r.liveRules.map((x) => x.source.path))];
      const t1 = Date.now();
      const run = await runBin(["scan", ...files, "--events", events, "--json", "--all"]);
      const lines = run.stdout.split("\n").filter((l) => l !== "");
      expect(lines.length).toBe(docs.length);
      const scanned = new Map<string, Tagged>(lines.map((l, i) => [docs[i]!.id, writtenTags(JSON.parse(l))]));
      const s = scanVsLive(r, scanned);
      console.log(`scan: ${s.scanPairs} pairs in ${((Date.now() - t1) / 1000).toFixed(0)}s, ${s.pairDiffs.length} pair differences, ${s.tagDiffs.length} events with different tags`);
      for (const d of s.pairDiffs.slice(0, 5)) console.log(`  doc ${d.doc} rule ${d.rule}: live=${d.live} scan=${d.query}`);
      for (const d of s.tagDiffs.slice(0, 3)) console.log(`  doc ${d.doc}\n    live: ${JSON.stringify(d.live).slice(0, 1200)}\n    scan: ${JSON.stringify(d.scan).slice(0, 1200)}`);
      expect(run.stderr).toBe("");
      expect(s.scanPairs).toBe([...r.liveTags.values()].reduce((a, ids) => a + ids.length, 0));
      expect(s.pairDiffs).toEqual([]);
      expect(s.tagDiffs.length).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 1_800_000);
});
