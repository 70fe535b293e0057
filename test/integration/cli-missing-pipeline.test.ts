/**
 * Issue 17.7: a wired index whose tagging pipeline was deleted by hand refuses every write. `pipeline
 * status` and `doctor` must say so (naming every wired index and template), exit non-zero and say how
 * to repair; after `pipeline install` again both are healthy. The binary against the real node.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "cli-h-missing-"));
const stamp = Date.now().toString(36);
const ix = `cli-h-missing-${stamp}`;
const pattern = `cli-h-missing-${stamp}*`;
const name = `cli-h-missing-pl-${stamp}`;
const env = { ES_URL, OUTLIERS_STATE_DIR: dir };
const rule = path.join(dir, "r.conf");

beforeAll(async () => {
  ensureBinary();
  writeFileSync(
    rule,
    `[simplequery_cli_h_m]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${pattern}\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`,
  );
  await rest("PUT", `/${ix}`, { mappings: { properties: { x: { type: "keyword" } } } });
  const r = await runBin(["pipeline", "install", rule, "--index", pattern, "--name", name], env);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await runBin(["pipeline", "uninstall", "--name", name], env);
  await rest("DELETE", `/${ix}`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test("pipeline status and doctor name the wired index and template whose pipeline was deleted, exit non-zero, say how to repair", async () => {
  const healthy = await runBin(["pipeline", "status", "--name", name], env);
  expect(healthy.code, healthy.stderr).toBe(0);
  expect(healthy.stdout).not.toContain("MISSING PIPELINE");

  // Deleted by hand: every write to the index is now refused.
  await rest("DELETE", `/_ingest/pipeline/${name}`);
  const refused = await fetch(`${ES_URL}/${ix}/_doc?refresh=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ x: "hit" }),
  });
  expect(refused.status).toBeGreaterThanOrEqual(400);

  const status = await runBin(["pipeline", "status", "--name", name], env);
  expect(status.code, status.stdout).not.toBe(0);
  expect(status.stdout).toContain("MISSING PIPELINE");
  expect(status.stdout).toContain(`index ${ix}: final_pipeline ${name} (missing)`);
  expect(status.stdout).toMatch(new RegExp(`template \\S+: final_pipeline ${name} \\(missing\\)`));
  expect(status.stdout).toContain("pipeline install");
  expect(status.stdout).toContain(`pipeline uninstall --name ${name}`);

  const json = await runBin(["pipeline", "status", "--name", name, "--json"], env);
  expect(json.code).not.toBe(0);
  const missing = JSON.parse(json.stdout).missing as Array<{ kind: string; name: string; pipeline: string }>;
  expect(missing.some((m) => m.kind === "index" && m.name === ix && m.pipeline === name)).toBe(true);

  const doctor = await runBin(["doctor"], env);
  expect(doctor.code, doctor.stdout).not.toBe(0);
  const line = doctor.stdout.split("\n").find((l) => l.includes("wired pipelines")) ?? "";
  expect(line).toContain("FAIL");
  expect(line).toContain(`index ${ix} (final_pipeline ${name})`);
  expect(line).toContain("pipeline install");
  expect(line).toContain("pipeline uninstall");

  // Repaired by installing again: healthy, writes accepted.
  const again = await runBin(["pipeline", "install", rule, "--index", pattern, "--name", name], env);
  expect(again.code, again.stderr).toBe(0);
  const after = await runBin(["pipeline", "status", "--name", name], env);
  expect(after.code, after.stdout).toBe(0);
  expect(after.stdout).not.toContain("MISSING PIPELINE");
}, 240_000);
