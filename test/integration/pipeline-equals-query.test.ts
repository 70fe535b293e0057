/**
 * Same answers as the query, on the full Windows ruleset: the regression events plus a generated
 * corpus go through the live pipeline into one index and, untouched, into another where each rule's
 * DSL query runs. The (event, rule) pairs must be equal. The same events, written to an NDJSON file,
 * go through `dist/outliers scan --json --all` (the JavaScript matcher and tagger, no cluster): its
 * pairs and the tags it writes on each event must equal the live pipeline's. Size: OUTLIERS_EQ_DOCS (default 20,000 to
 * keep the suite short; the full check is 100,000: `OUTLIERS_EQ_DOCS=100000 bun test <this file>`).
 * A fast case (no ../shared) does the same on events that already carry values where our tags go
 * (another tool's scalar `outliers.rule_id`, a scalar `outliers`, object `tags`, a scalar `threat`,
 * ee-outliers' tags) and integers beyond 2^53: scan must write what the pipeline indexes, tag fields
 * and `outliers_original` alike.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBin } from "../helpers/binary.ts";
import { parseDocs } from "../../src/events/docs-file.ts";
import { loadRules } from "../../src/rules/load.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { describeDiffs, liveVsQuery, scanVsLive, writtenTags, type Tagged } from "../helpers/live-vs-query.ts";
import { generateEvents } from "../helpers/gen-events.ts";
import { regressionEvents, SHARED, SKIP_MESSAGE, windowsRules } from "../helpers/windows-rules.ts";

if (!SHARED) console.warn(SKIP_MESSAGE);
const SIZE = Number(process.env.OUTLIERS_EQ_DOCS ?? 20000);
const SEED = Number(process.env.OUTLIERS_EQ_SEED ?? 7);

describe("live tags = query matches, full Windows ruleset", () => {
  test.skipIf(!SHARED)(
    `regression events + ${SIZE} generated events`,
    async () => {
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
        console.log(
          `scan: ${s.scanPairs} pairs in ${((Date.now() - t1) / 1000).toFixed(0)}s, ${s.pairDiffs.length} pair differences, ${s.tagDiffs.length} events with different tags`,
        );
        for (const d of s.pairDiffs.slice(0, 5))
          console.log(`  doc ${d.doc} rule ${d.rule}: live=${d.live} scan=${d.query}`);
        for (const d of s.tagDiffs.slice(0, 3))
          console.log(
            `  doc ${d.doc}\n    live: ${JSON.stringify(d.live).slice(0, 1200)}\n    scan: ${JSON.stringify(d.scan).slice(0, 1200)}`,
          );
        expect(run.stderr).toBe("");
        expect(s.scanPairs).toBe([...r.liveTags.values()].reduce((a, ids) => a + ids.length, 0));
        expect(s.pairDiffs).toEqual([]);
        expect(s.tagDiffs.length).toBe(0);
        // The same scan split over 2 worker threads: the same bytes (so it equals live tagging too).
        const split = await runBin(["scan", ...files, "--events", events, "--json", "--all", "--workers", "2"]);
        expect(split.code).toBe(run.code);
        expect(split.stdout === run.stdout).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    1_800_000,
  );
});

const WHOAMI = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";
const BIGINT = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e";
const PRESET_RULES: Record<string, string> = {
  "whoami.yml": `title: Preset - Whoami
id: ${WHOAMI}
status: test
tags: [attack.discovery, attack.t1033]
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
level: low
`,
  "bigint.yml": `title: Preset - Big logon id
id: ${BIGINT}
status: test
tags: [attack.t1078]
logsource: {product: windows}
detection:
    selection:
        TargetLogonId: '18446744073709551615'
    condition: selection
level: low
`,
};

/** One Sysmon process creation (whoami) as NDJSON text, with `extra` top-level members spliced in as written. */
function whoami(extra: string): string {
  const w = `"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,"event_data":{"Image":"C:\\\\Windows\\\\System32\\\\whoami.exe"}}`;
  return `{${w}${extra ? `,${extra}` : ""}}`;
}

/** Events carrying values where our tags go, written as text so that big integers stay as written. */
const PRESET_EVENTS: [string, string][] = [
  ["plain", whoami("")],
  ["scalarRuleId", whoami(`"outliers":{"rule_id":"other-tool-rule"}`)],
  ["scalarRuleIdReason", whoami(`"outliers":{"rule_id":"other-tool-rule","reason":"theirs","total_outliers":1}`)],
  ["ourRuleIdScalar", whoami(`"outliers":{"rule_id":"${WHOAMI}"}`)],
  ["scalarOutliers", whoami(`"outliers":"flagged by hand"`)],
  ["numberOutliers", whoami(`"outliers":5,"threat":["a","b"]`)],
  ["objectTags", whoami(`"tags":{"source":"edr","level":3,"seen":true}`)],
  // Written as Painless writes it: keys in Java HashMap order, Java number texts, its string escapes.
  [
    "objectTagsMixed",
    whoami(
      String.raw`"tags":{"zeta":[1,2.5,{"b":null,"a":"x"}],"ratio":0.00001,"huge":1e21,"note":"q\"b\\c\u0001\b\t","k1":true,"k2":false,"k3":"é☃"}`,
    ),
  ],
  ["listTagsWithObject", whoami(`"tags":["edr",{"k":"v"}]`)],
  ["scalarThreat", whoami(`"threat":"T1059"`)],
  ["scalarTechnique", whoami(`"threat":{"framework":"MITRE ATT&CK","technique":"T1033"}`)],
  [
    "eeOutliers",
    whoami(
      `"tags":["outlier","endpoint"],"outliers":{"rule_id":["ee-rule"],"type":["sigma"],"reason":["ee reason"],"summary":["ee summary"],"model_name":["ee model"],"model_type":["simplequery"],"total_outliers":1}`,
    ),
  ],
  [
    "unmatchedScalarOutliers",
    `{"winlog":{"channel":"Security","event_id":4624,"event_data":{"TargetUserName":"bob"}},"outliers":"x","tags":{"a":1}}`,
  ],
  ["bigint", `{"winlog":{"channel":"Security","event_id":4624,"event_data":{"TargetLogonId":18446744073709551615}}}`],
  // The same double as the rule's value, another integer: no hit live, so none locally either.
  [
    "bigintNeighbour",
    `{"winlog":{"channel":"Security","event_id":4624,"event_data":{"TargetLogonId":18446744073709551616}}}`,
  ],
  [
    "bigintString",
    `{"winlog":{"channel":"Security","event_id":4624,"event_data":{"TargetLogonId":"18446744073709551615"}},"tags":"single"}`,
  ],
];

describe("scan = live pipeline on events that already carry tag fields and big integers", () => {
  test("tags, outliers_original and hits are the same", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "outliers-scan-preset-"));
    try {
      for (const [name, text] of Object.entries(PRESET_RULES)) writeFileSync(path.join(dir, name), text);
      const results = loadRules([dir], { profile: loadProfile("winlogbeat") });
      const rules = results.flatMap((r) => (r.status === "ok" ? [r.rule] : []));
      expect(rules.map((r) => r.id).sort()).toEqual([WHOAMI, BIGINT].sort());
      const events = path.join(dir, "events.ndjson");
      const text = PRESET_EVENTS.map(([, t]) => t).join("\n") + "\n";
      writeFileSync(events, text);
      // What ingest sends: its own parser (big integers as their exact text).
      const parsed = parseDocs(text, "auto");
      expect(parsed.map((e) => e.error ?? null)).toEqual(PRESET_EVENTS.map(() => null));
      const docs = parsed.map((e, i) => ({ id: PRESET_EVENTS[i]![0], source: e.doc! }));
      const r = await liveVsQuery(rules, docs, {
        template: loadProfile("winlogbeat").indexTemplate(),
        prefix: "preset",
      });
      expect(r.lost).toEqual([]);
      expect(r.errors).toEqual([]);
      expect(r.diffs).toEqual([]);

      const run = await runBin(["scan", dir, "--events", events, "--json", "--all"]);
      expect(run.code).toBe(0);
      // The two big integers are named, as ingest names them.
      const lineOf = (name: string) => PRESET_EVENTS.findIndex(([n]) => n === name) + 1;
      expect(run.stderr).toContain(
        `outliers: warning: ${events}:${lineOf("bigint")}: winlog.event_data.TargetLogonId: the number 18446744073709551615 `,
      );
      expect(run.stderr).toContain(
        `outliers: warning: ${events}:${lineOf("bigintNeighbour")}: winlog.event_data.TargetLogonId: the number 18446744073709551616 `,
      );
      const lines = run.stdout.split("\n").filter((l) => l !== "");
      expect(lines).toHaveLength(PRESET_EVENTS.length);
      const scannedDocs = new Map(lines.map((l, i) => [PRESET_EVENTS[i]![0], JSON.parse(l)]));
      const scanned = new Map<string, Tagged>([...scannedDocs].map(([id, d]) => [id, writtenTags(d)]));
      const s = scanVsLive(r, scanned);
      for (const d of s.tagDiffs)
        console.log(`  ${d.doc}\n    live: ${JSON.stringify(d.live)}\n    scan: ${JSON.stringify(d.scan)}`);
      expect(s.pairDiffs).toEqual([]);
      expect(s.tagDiffs.map((d) => d.doc)).toEqual([]);

      // What the comparison covered (so that it cannot pass on events nobody tagged).
      const live = (id: string) => r.liveWritten.get(id) as any;
      expect(live("scalarRuleId").outliers.rule_id).toEqual(["other-tool-rule", WHOAMI]);
      expect(live("scalarRuleId").outliers.reason).toEqual(["", "Sigma hit - Preset - Whoami"]);
      expect(live("scalarRuleIdReason").outliers.reason).toEqual(["theirs", "Sigma hit - Preset - Whoami"]);
      expect(live("scalarRuleIdReason").outliers.summary).toEqual(["", expect.any(String)]);
      expect(live("ourRuleIdScalar").outliers).toEqual({ rule_id: WHOAMI });
      expect(live("scalarOutliers").outliers_original).toEqual({ outliers: "flagged by hand" });
      expect(live("scalarOutliers").outliers.rule_id).toEqual([WHOAMI]);
      expect(live("numberOutliers").outliers_original).toEqual({ outliers: "5", threat: '["a","b"]' });
      expect(live("objectTags").outliers_original.tags).toStartWith("{");
      expect(live("objectTags").tags).toEqual(["outlier"]);
      expect(live("listTagsWithObject").outliers_original).toEqual({ tags: '["edr",{"k":"v"}]' });
      expect(live("scalarThreat").outliers_original).toEqual({ threat: "T1059" });
      expect(live("scalarThreat").threat).toEqual({ technique: { id: ["T1033"] } });
      expect(live("scalarTechnique").outliers_original).toEqual({ threat_technique: "T1033" });
      expect(live("eeOutliers").outliers.rule_id).toEqual(["ee-rule", WHOAMI]);
      expect(live("eeOutliers").tags).toEqual(["outlier", "endpoint"]);
      expect(live("unmatchedScalarOutliers").outliers_original).toEqual({ outliers: "x", tags: '{"a":1}' });
      expect(live("unmatchedScalarOutliers").outliers).toBeUndefined();
      expect(live("bigint").outliers.rule_id).toEqual([BIGINT]);
      expect(live("bigintNeighbour").outliers).toBeUndefined();
      expect(live("bigintString").outliers.rule_id).toEqual([BIGINT]);
      // scan --json shows the event as indexed: the big integer as its exact text.
      expect(scannedDocs.get("bigint").winlog.event_data.TargetLogonId).toBe("18446744073709551615");
      expect(scannedDocs.get("bigintNeighbour").winlog.event_data.TargetLogonId).toBe("18446744073709551616");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
