/**
 * Two backfills sharing a state directory (issue 11.5), with the binary against the real node: the
 * second refuses with a clear message while the first runs (instead of re-attaching to its task and
 * making the first report failure), the first finishes cleanly; a lock left by a dead process is taken
 * over.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest, testIndex } from "../helpers/es.ts";
import { BIN, ensureBinary, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-lock-"));
const index = testIndex("bf-lock");
const rule = path.join(dir, "r.conf");
const N = 600;

function locks(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    for (const f of readdirSync(p)) {
      const q = path.join(p, f);
      if (statSync(q).isDirectory()) walk(q);
      else if (f.endsWith(".lock")) out.push(q);
    }
  };
  walk(d);
  return out;
}

beforeAll(async () => {
  ensureBinary();
  writeFileSync(
    rule,
    `[simplequery_lock]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${index}\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`,
  );
  await rest("PUT", `/${index}`, {
    mappings: {
      properties: {
        x: { type: "keyword" },
        "@timestamp": { type: "date" },
        outliers: { properties: { rule_id: { type: "keyword" } } },
      },
    },
  });
  const ts = new Date().toISOString();
  const lines = Array.from(
    { length: N },
    (_, i) => `{"index":{"_id":"${i}"}}\n{"x":"hit","@timestamp":"${ts}"}\n`,
  ).join("");
  const { client } = await (await import("../helpers/es.ts")).cluster();
  await client.transport.request({
    method: "POST",
    path: `/${index}/_bulk`,
    querystring: { refresh: "true" },
    bulkBody: lines,
  } as any);
}, 120_000);

afterAll(async () => {
  await rest("DELETE", `/${index}`);
  rmSync(dir, { recursive: true, force: true });
});

async function taggedCount(): Promise<number> {
  return (await rest("GET", `/${index}/_count`, { query: { term: { "outliers.rule_id": "simplequery_lock" } } })).count;
}

test("a second backfill on the same state refuses while the first runs; the first finishes cleanly", async () => {
  const state = path.join(dir, "shared");
  const args = [
    "backfill",
    rule,
    "--since",
    "1d",
    "--index",
    index,
    "--json",
    "--requests-per-second",
    "100",
    "--batch-size",
    "10",
    "--slices",
    "1",
  ];
  const first = Bun.spawn([BIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ES_URL, OUTLIERS_STATE_DIR: state },
  });
  // Wait until the first holds its lock (it is written before the task starts).
  for (let i = 0; i < 300 && locks(state).length === 0; i++) await Bun.sleep(50);
  expect(locks(state)).toHaveLength(1);
  const second = await runBin(args, { ES_URL, OUTLIERS_STATE_DIR: state });
  const [out, code] = await Promise.all([new Response(first.stdout).text(), first.exited]);
  expect(second.code, second.stderr).toBe(2);
  expect(second.stderr).toContain("another run with the same state is in progress");
  expect(second.stderr).toContain(`pid ${first.pid} on ${hostname()}`);
  expect(code).toBe(0);
  expect(JSON.parse(out).failures).toEqual([]);
  expect(await taggedCount()).toBe(N);
  expect(locks(state)).toEqual([]);
}, 300_000);

test("a lock left by a process that is gone is taken over", async () => {
  await runBin(["untag", "--all", "--index", index], { ES_URL, OUTLIERS_STATE_DIR: path.join(dir, "untag") });
  expect(await taggedCount()).toBe(0);
  const state = path.join(dir, "stale");
  // Learn the lock's path from a dry start: run once, killed before it ends, then replace its lock.
  const dead = Bun.spawnSync(["true"]);
  const deadPid = dead.pid;
  const args = ["backfill", rule, "--since", "1d", "--index", index, "--json"];
  const p = Bun.spawn([BIN, ...args, "--requests-per-second", "50", "--batch-size", "10", "--slices", "1"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ES_URL, OUTLIERS_STATE_DIR: state },
  });
  for (let i = 0; i < 300 && locks(state).length === 0; i++) await Bun.sleep(50);
  p.kill("SIGKILL");
  await p.exited;
  const [lock] = locks(state);
  expect(lock).toBeString();
  writeFileSync(
    lock!,
    JSON.stringify({ pid: deadPid, host: hostname(), started: new Date().toISOString(), label: "backfill" }),
  );
  const r = await runBin(args, { ES_URL, OUTLIERS_STATE_DIR: state });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).failures).toEqual([]);
  expect(await taggedCount()).toBe(N);
  expect(locks(state)).toEqual([]);
}, 300_000);
