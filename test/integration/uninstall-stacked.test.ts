/**
 * Two installs on the same indices (issue 11.1), with the binary against the real node: `p3` then
 * `p3b` on `<prefix>-*` (one index with a pre-existing final pipeline, one without, new indices
 * created from the wired template at every step), then both uninstalls in either order. Between
 * every step a document is written to each index and to a new one: every write must succeed and
 * carry exactly the tags of the installs in place; at the end, settings, templates and pipelines are
 * exactly what was there first.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-stacked-"));

function ruleFile(name: string, prefix: string): string {
  const file = path.join(dir, `${name}-${prefix}.conf`);
  writeFileSync(
    file,
    `[simplequery_${name}]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${prefix}-*\noutlier_type = t\noutlier_reason = reason ${name}\noutlier_summary = summary ${name}\nrun_model = 1\ntest_model = 0\n`,
  );
  return file;
}

async function snapshot(prefix: string) {
  const settings = await rest("GET", `/${prefix}-*/_settings/index.final_pipeline`, undefined, { flat_settings: true });
  const templates = (await rest("GET", "/_template")) ?? {};
  const pipelines = Object.keys((await rest("GET", "/_ingest/pipeline")) ?? {})
    .filter((p) => p.startsWith(prefix))
    .sort();
  return {
    finals: Object.fromEntries(
      Object.entries(settings ?? {}).map(([k, v]: [string, any]) => [k, v.settings?.["index.final_pipeline"] ?? null]),
    ),
    templates: Object.fromEntries(Object.entries(templates).filter(([k]) => k.startsWith(prefix))),
    pipelines,
  };
}

beforeAll(() => ensureBinary(), 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const order of [
  ["lower", "upper"],
  ["upper", "lower"],
] as const) {
  test(`two installs on the same indices, uninstalled ${order.join(" then ")}: no write fails, tags follow, everything restored`, async () => {
    const prefix = `stk${order[0][0]}-${Date.now().toString(36)}`;
    const lower = `${prefix}-p3`;
    const upper = `${prefix}-p3b`;
    const env = { ES_URL };
    await rest("PUT", `/_ingest/pipeline/${prefix}-pre`, { processors: [{ set: { field: "pre", value: 1 } }] });
    await rest("PUT", `/${prefix}-chained`, { settings: { "index.final_pipeline": `${prefix}-pre` } });
    await rest("PUT", `/${prefix}-plain`, {});
    const before = await snapshot(prefix);
    let step = 0;
    /** Writes to both indices and a new one; asserts success and the rule ids each got. */
    const writeAndCheck = async (expected: string[]) => {
      step++;
      for (const index of [`${prefix}-chained`, `${prefix}-plain`, `${prefix}-new${step}`]) {
        const r = await rest("POST", `/${index}/_doc`, { x: "hit", step }, { refresh: "true" });
        expect(r?.result, `write to ${index} at step ${step}`).toBe("created");
        const doc = await rest("GET", `/${index}/_doc/${r._id}`);
        expect(doc._source.outliers?.rule_id ?? [], `tags on ${index} at step ${step}`).toEqual(expected);
        if (index.endsWith("-chained")) expect(doc._source.pre, "the pre-existing final pipeline still runs").toBe(1);
      }
    };
    try {
      await writeAndCheck([]);
      let r = await runBin(
        ["pipeline", "install", ruleFile("a", prefix), "--index", `${prefix}-*`, "--name", lower],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      await writeAndCheck(["simplequery_a"]);
      r = await runBin(["pipeline", "install", ruleFile("b", prefix), "--index", `${prefix}-*`, "--name", upper], env);
      expect(r.code, r.stderr).toBe(0);
      await writeAndCheck(["simplequery_a", "simplequery_b"]);
      // Re-installing either one (a rule update, say) keeps the stack as it is.
      const settled = await snapshot(prefix);
      for (const [n, f] of [
        [lower, "a"],
        [upper, "b"],
      ]) {
        r = await runBin(["pipeline", "install", ruleFile(f, prefix), "--index", `${prefix}-*`, "--name", n], env);
        expect(r.code, r.stderr).toBe(0);
      }
      expect((await snapshot(prefix)).finals).toEqual(settled.finals);
      await writeAndCheck(["simplequery_a", "simplequery_b"]);
      const [first, second] = order[0] === "lower" ? [lower, upper] : [upper, lower];
      r = await runBin(["pipeline", "uninstall", "--name", first], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain("kept");
      await writeAndCheck(first === lower ? ["simplequery_b"] : ["simplequery_a"]);
      r = await runBin(["pipeline", "uninstall", "--name", second], env);
      expect(r.code, r.stderr).toBe(0);
      await writeAndCheck([]);
      const after = await snapshot(prefix);
      // Indices created meanwhile had nothing before: they are back to nothing too.
      for (const [k, v] of Object.entries(after.finals)) if (k.includes("-new")) expect(v, k).toBeNull();
      for (const k of Object.keys(before.finals)) expect(after.finals[k], k).toEqual(before.finals[k]);
      expect(after.templates).toEqual(before.templates);
      expect(after.pipelines).toEqual(before.pipelines);
      expect(await rest("GET", `/.outliers-state/_doc/${lower}`).then((d: any) => d?.found ?? false)).toBe(false);
    } finally {
      await rest("DELETE", `/${prefix}-*`);
      await rest("DELETE", `/_ingest/pipeline/${prefix}-pre`);
    }
  }, 300_000);
}
