/**
 * Sigma filters on SigmaHQ rules and their regression events (../shared/sigma/regression), with the
 * binary on the real node: a SigmaHQ-style filter document (`filter.rules` naming two rules, a
 * selection on Image, `condition: not selection`) makes each named rule stop tagging exactly the
 * events the filter excludes, and nothing else changes: live (pipeline install, then ingest),
 * by backfill (ingest, then backfill) and by scan.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";
import { readDocsFile } from "../../src/events/docs-file.ts";
import { loadProfile } from "../../src/mapping/index.ts";

const SIGMA = path.resolve(import.meta.dir, "../../../shared/sigma");
const REGRESSION = path.join(SIGMA, "regression/rules/windows/process_creation");
const RULES = path.join(SIGMA, "rules/windows/process_creation");
const dir = mkdtempSync(path.join(tmpdir(), "outliers-filters-"));
const tag = `apply-h-f-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const liveIx = `${tag}-live`;
const histIx = `${tag}-hist`;
const name = `${tag}-pl`;
const env = { ES_URL, OUTLIERS_STATE_DIR: path.join(dir, "state") };
const plainDir = path.join(dir, "plain");
const filteredDir = path.join(dir, "filtered");
const docsFile = path.join(dir, "events.ndjson");

/**
 * Removes an install of this test: `pipeline uninstall`, and when that fails (another suite's documents
 * in the shared state index can make it refuse) our pipeline, wiring template and records directly.
 */
async function dropInstall(pipeline: string): Promise<void> {
  const r = await runBin(["pipeline", "uninstall", "--name", pipeline], env);
  if (r.code === 0) return;
  await rest("DELETE", `/_template/${pipeline}-wiring`).catch(() => {});
  await rest("DELETE", `/_ingest/pipeline/${pipeline}`).catch(() => {});
  await rest("DELETE", `/.outliers-state/_doc/${pipeline}`, undefined, { refresh: "true" }).catch(() => {});
}

type Tags = Map<number, string[]>;
const docs: Array<Record<string, any>> = [];

function scanTags(stdout: string): Tags {
  const out: Tags = new Map(docs.map((d) => [d.n as number, [] as string[]]));
  for (const line of stdout.split("\n").filter(Boolean)) {
    const d = JSON.parse(line);
    out.set(d.n, [...(d.outliers?.rule_id ?? [])].sort());
  }
  return out;
}
async function indexTags(index: string): Promise<Tags> {
  await rest("POST", `/${index}/_refresh`);
  const res = await rest("POST", `/${index}/_search`, {
    size: 10000,
    _source: ["n", "outliers.rule_id"],
    query: { match_all: {} },
  });
  return new Map(
    res.hits.hits.map((h: any) => [h._source.n, [...(h._source.outliers?.rule_id ?? [])].sort()] as [number, string[]]),
  );
}

beforeAll(async () => {
  ensureBinary();
  mkdirSync(plainDir);
  // Every process_creation rule with regression events, and those events (winlogbeat shape, numbered).
  for (const d of readdirSync(REGRESSION).sort()) {
    const rule = path.join(RULES, `${d}.yml`);
    if (!existsSync(rule)) continue;
    copyFileSync(rule, path.join(plainDir, `${d}.yml`));
    for (const j of readdirSync(path.join(REGRESSION, d)).filter((n) => n.endsWith(".json")))
      for (const e of readDocsFile(path.join(REGRESSION, d, j), "evtx-json"))
        if (e.doc) docs.push({ ...e.doc, n: docs.length });
  }
  writeFileSync(docsFile, docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  const t = loadProfile("winlogbeat").indexTemplate();
  for (const ix of [liveIx, histIx]) await rest("PUT", `/${ix}`, { settings: t.settings, mappings: t.mappings });
}, 120_000);

afterAll(async () => {
  await dropInstall(name);
  await rest("DELETE", `/${liveIx},${histIx}`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test("a SigmaHQ-style filter stops its named rules tagging exactly the events it excludes: live, backfill and scan", async () => {
  const base = await runBin(["scan", plainDir, "--docs", docsFile, "--json"], env);
  const plain = scanTags(base.stdout);
  // The rules that tag a regression event, by the event's Image; the filter names the first two.
  const hits = new Map<string, string[]>();
  for (const d of docs)
    for (const id of plain.get(d.n)!) {
      const image = d.winlog?.event_data?.Image;
      if (typeof image === "string" && !hits.has(id)) hits.set(id, [image]);
    }
  const [r1, r2, r3] = [...hits.keys()];
  expect(r3, "at least three SigmaHQ rules tag a regression event").toBeDefined();
  const images = [hits.get(r1!)![0]!, hits.get(r2!)![0]!];
  // Only the rules tagging an event keep their files: the ones the filter names and the others alike.
  mkdirSync(filteredDir);
  const used = new Set([...plain.values()].flat());
  rmSync(plainDir, { recursive: true });
  mkdirSync(plainDir);
  for (const f of readdirSync(RULES)) {
    const text = await Bun.file(path.join(RULES, f)).text();
    const id = /^id: (\S+)/m.exec(text)?.[1];
    if (id && used.has(id)) {
      writeFileSync(path.join(plainDir, f), text);
      writeFileSync(path.join(filteredDir, f), text);
    }
  }
  writeFileSync(
    path.join(filteredDir, "mf_site_tuning_known_tools.yml"),
    `title: Site tuning - known administration tools
id: 0f1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b
description: Our administrators run these binaries on purpose.
date: 2026-12-07
logsource:
    product: windows
    category: process_creation
filter:
    rules:
        - ${r1}
        - ${r2}
    selection:
        Image:
${images.map((i) => `            - '${i.replaceAll("'", "''")}'`).join("\n")}
    condition: not selection
`,
  );
  // Expected: the unfiltered tags, minus the named rules on events whose Image the filter lists.
  const listed = new Set(images.map((i) => i.toLowerCase()));
  const expected: Tags = new Map();
  let excluded = 0;
  for (const d of docs) {
    const image = String(d.winlog?.event_data?.Image ?? "").toLowerCase();
    const keep = plain.get(d.n)!.filter((id) => !((id === r1 || id === r2) && listed.has(image)));
    excluded += plain.get(d.n)!.length - keep.length;
    expected.set(d.n, keep);
  }
  expect(excluded).toBeGreaterThanOrEqual(2);

  const report = path.join(dir, "report.json");
  const compiled = await runBin(
    ["compile", filteredDir, "--target", "dsl", "--out", path.join(dir, "q.json"), "--report", report],
    env,
  );
  expect(compiled.code, compiled.stderr).toBe(0);
  const filters = (await Bun.file(report).json()).filters;
  expect(filters.map((f: any) => [f.title, f.rules.sort(), f.warnings])).toEqual([
    ["Site tuning - known administration tools", [r1, r2].sort(), []],
  ]);

  // scan
  const scanned = await runBin(["scan", filteredDir, "--docs", docsFile, "--json"], env);
  expect(scanTags(scanned.stdout)).toEqual(expected);
  // live: the pipeline first, then the events arrive
  const inst = await runBin(["pipeline", "install", filteredDir, "--name", name, "--index", liveIx, "--json"], env);
  expect(inst.code, inst.stderr).toBe(0);
  const ing = await runBin(["ingest", docsFile, "--index", liveIx, "--create", "--id-field", "n", "--json"], env);
  expect(ing.code, ing.stderr).toBe(0);
  expect(await indexTags(liveIx)).toEqual(expected);
  // backfill: the events first, then the history tagged
  const ing2 = await runBin(["ingest", docsFile, "--index", histIx, "--create", "--id-field", "n", "--json"], env);
  expect(ing2.code, ing2.stderr).toBe(0);
  const bf = await runBin(
    ["backfill", filteredDir, "--index", histIx, "--since", "2000-01-01T00:00:00Z", "--json"],
    env,
  );
  expect(bf.code, bf.stderr).toBe(0);
  expect(await indexTags(histIx)).toEqual(expected);
}, 600_000);
