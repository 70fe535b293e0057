/**
 * Shared setup of the backfill checks: a rule set (every Windows rule of ../shared when present,
 * else the bundled rules/), events (regression captures plus generated ones), a reference index
 * tagged live by the compiled pipeline, and helpers to read tags back and run the CLI.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Rule } from "../../src/ir/types.ts";
import { buildPipeline } from "../../src/emit/painless/pipeline.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { loadRules } from "../../src/rules/load.ts";
import { cluster, ES_URL } from "./es.ts";
import { generateEvents } from "./gen-events.ts";
import { regressionEvents, SHARED, windowsRules } from "./windows-rules.ts";

export const ROOT = path.resolve(import.meta.dir, "../..");
export const PROFILE = loadProfile("winlogbeat");

export interface RuleSetFixture {
  rules: Rule[];
  /** The files those rules come from, given to the CLI so that it compiles the same set. */
  paths: string[];
  origin: string;
}

export function ruleSet(): RuleSetFixture {
  const rules = SHARED
    ? windowsRules()
    : loadRules([path.join(ROOT, "rules")], { profile: PROFILE }).flatMap((r) => (r.status === "ok" ? [r.rule] : []));
  const paths = [...new Set(rules.map((r) => r.source.path))];
  return { rules, paths, origin: SHARED ? "../shared/sigma/rules* (Windows)" : "rules/ (bundled)" };
}

export interface Doc {
  id: string;
  source: Record<string, unknown>;
}

/** Regression events (when ../shared exists) and `generated` events, timestamps in the last 10 days. */
export function events(rules: Rule[], generated: number, seed = 7): Doc[] {
  const out: Doc[] = [];
  const now = Date.now();
  if (SHARED) for (const e of regressionEvents()) out.push({ id: `reg-${out.length}`, source: structuredClone(e.doc) });
  for (const g of generateEvents(rules, generated, seed)) out.push({ id: `gen-${g.id}`, source: g.source });
  out.forEach((d, i) => (d.source["@timestamp"] = new Date(now - 3_600_000 - (i % 200) * 3_000_000).toISOString()));
  return out;
}

/**
 * Shards per test index: OUTLIERS_TEST_SHARDS (scripts/test sets 3 for the three-node run, with a
 * replica, so that shards and slices spread over every node).
 */
const SHARDS = Number(process.env.OUTLIERS_TEST_SHARDS ?? 1);

export async function createIndex(index: string, settings: Record<string, unknown> = {}): Promise<void> {
  const { client } = await cluster();
  const t = PROFILE.indexTemplate();
  // Same key form as the profile template (`number_of_shards`), so that these win over its values.
  const spread = SHARDS > 1 ? { number_of_shards: SHARDS, number_of_replicas: 1 } : {};
  await client.indices.create({
    index,
    settings: { ...(t.settings ?? {}), ...spread, ...settings },
    mappings: t.mappings,
    wait_for_active_shards: "all",
  } as any);
}

export async function bulk(index: string, docs: Doc[], pipeline?: string): Promise<void> {
  const { client } = await cluster();
  for (let i = 0; i < docs.length; i += 2000) {
    const body: object[] = [];
    for (const d of docs.slice(i, i + 2000)) body.push({ index: { _index: index, _id: d.id } }, d.source);
    const res: any = await client.bulk({ body, ...(pipeline ? { pipeline } : {}) } as any);
    if (res.errors) {
      const bad = res.items.find((it: any) => it.index?.error);
      throw new Error(`bulk into ${index} failed: ${JSON.stringify(bad?.index?.error)}`);
    }
  }
  await client.indices.refresh({ index });
}

/** Puts the live pipeline of `rules` under `id`. */
export async function putPipeline(id: string, rules: Rule[]): Promise<void> {
  const { client } = await cluster();
  const built = buildPipeline(rules, { guardCosts: PROFILE.guardCosts });
  await client.ingest.putPipeline({ id, processors: built.processors, on_failure: built.on_failure } as any);
}

/** Every document's `_source`, by id. */
export async function sources(index: string): Promise<Map<string, any>> {
  const { client } = await cluster();
  const out = new Map<string, any>();
  let res: any = await client.search({ index, scroll: "2m", size: 5000, query: { match_all: {} } } as any);
  while (res.hits.hits.length) {
    for (const h of res.hits.hits) out.set(h._id, h._source);
    res = await client.scroll({ scroll_id: res._scroll_id, scroll: "2m" } as any);
  }
  await client.clearScroll({ scroll_id: res._scroll_id } as any).catch(() => {});
  return out;
}

/** The fields the tagger writes, for comparing two copies of an event. */
export function tagFields(src: any): unknown {
  return { outliers: src?.outliers, tags: src?.tags, threat: src?.threat };
}

/** JSON with object keys sorted: equality "byte for byte apart from key order". */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh state directory, so resume files of one test never meet another's. */
export function stateDir(): string {
  return mkdtempSync(path.join(tmpdir(), "outliers-state-"));
}

/** Runs `bun src/cli.ts …` against the test node. */
export function cliArgs(args: string[]): string[] {
  return [process.execPath, path.join(ROOT, "src/cli.ts"), ...args, "--node", ES_URL];
}

export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const p = Bun.spawn(cliArgs(args), { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, stdout, stderr };
}
