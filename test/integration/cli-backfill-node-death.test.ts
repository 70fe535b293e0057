/**
 * Issue 17.7: a node that dies during `backfill` is the cluster failing (exit 3, "the cluster stopped
 * answering", run again to finish), not a failed rule or event (exit 1, "backfill failure"). This test
 * starts a throwaway Elasticsearch node of its own (scripts/es-start on CLI_H_DEATH_PORT, default 9231;
 * never the shared 9200/9245 nodes), loads events, runs a throttled backfill with the binary, kills the
 * node (SIGKILL) while the update runs, and stops what is left of it afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureBinary, ROOT, BIN } from "../helpers/binary.ts";

const PORT = process.env.CLI_H_DEATH_PORT ?? "9231";
const HOME = process.env.CLI_H_DEATH_HOME ?? "/tmp/cli-es";
const URL_ = `http://127.0.0.1:${PORT}`;
const nodeEnv = { ...process.env, ENGINE: "elasticsearch", ES_PORT: PORT, ES_HOME: HOME, ES_HEAP: "1g" };
const dir = mkdtempSync(path.join(tmpdir(), "cli-h-death-"));
const ix = "cli-h-death";
const rule = path.join(dir, "r.conf");
const EVENTS = 20_000;

async function es(method: string, p: string, body?: string, type = "application/json"): Promise<any> {
  const r = await fetch(`${URL_}${p}`, { method, headers: { "content-type": type }, body });
  return r.json();
}

beforeAll(async () => {
  ensureBinary();
  const start = Bun.spawnSync(["bash", path.join(ROOT, "scripts/es-start")], { env: nodeEnv, stderr: "pipe" });
  if (start.exitCode !== 0) throw new Error(`scripts/es-start on ${PORT} failed: ${start.stderr.toString()}`);
  await es(
    "PUT",
    `/${ix}`,
    JSON.stringify({ mappings: { properties: { x: { type: "keyword" }, "@timestamp": { type: "date" } } } }),
  );
  const ts = new Date(Date.now() - 3_600_000).toISOString();
  for (let b = 0; b < EVENTS; b += 5000) {
    let bulk = "";
    for (let i = b; i < b + 5000; i++) bulk += `{"index":{}}\n{"x":"${i % 2 ? "hit" : "no"}","@timestamp":"${ts}"}\n`;
    await es("POST", `/${ix}/_bulk`, bulk, "application/x-ndjson");
  }
  await es("POST", `/${ix}/_refresh`);
  writeFileSync(
    rule,
    `[simplequery_cli_h_death]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${ix}\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`,
  );
}, 300_000);

afterAll(() => {
  Bun.spawnSync(["bash", path.join(ROOT, "scripts/es-stop")], { env: nodeEnv });
  rmSync(dir, { recursive: true, force: true });
});

test("the node dies during backfill: exit 3, says the cluster stopped answering, blames no rule", async () => {
  const count = await es("GET", `/${ix}/_count`);
  expect(count.count).toBe(EVENTS);
  // Throttled so that the update is still running when the node is killed.
  const p = Bun.spawn(
    [BIN, "backfill", rule, "--since", "1d", "--index", ix, "--requests-per-second", "500", "--batch-size", "100"],
    {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ES_URL: URL_, OUTLIERS_STATE_DIR: path.join(dir, "state") },
    },
  );
  const stdout = new Response(p.stdout).text();
  const stderr = new Response(p.stderr).text();
  // Wait until the update task runs on the node, then kill the node outright.
  let running = false;
  for (let i = 0; i < 240 && !running; i++) {
    await Bun.sleep(250);
    const tasks = await es("GET", "/_tasks?actions=*byquery&detailed=false").catch(() => ({}));
    running = Object.values((tasks as any).nodes ?? {}).some((n: any) => Object.keys(n.tasks ?? {}).length > 0);
  }
  expect(running, "the backfill's update task started").toBe(true);
  const pidfile = path.join(HOME, `es-${PORT}.pid`);
  expect(existsSync(pidfile)).toBe(true);
  process.kill(Number(readFileSync(pidfile, "utf8").trim()), "SIGKILL");
  const code = await p.exited;
  const err = await stderr;
  const out = await stdout;
  expect(code, `stdout: ${out}\nstderr: ${err}`).toBe(3);
  expect(err).toContain("the cluster stopped answering");
  expect(err).toContain("run the same command again");
  expect(err).not.toContain("backfill failure");
}, 300_000);
