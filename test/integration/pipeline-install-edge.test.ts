/**
 * `pipeline install` edge cases on the real node, through the CLI: a final pipeline that comes from a
 * component template, an explicit `_none`, a Fleet-like `@custom` hook, narrowing the patterns on
 * re-install, `uninstall --dry-run`, and a name taken by someone else's pipeline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cluster, ES_URL, rest, testIndex } from "../helpers/es.ts";
import type { Cluster } from "../../src/cluster/connection/client.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const RULE = path.join(ROOT, "rules/windows/process_creation/proc_creation_win_certutil_encode.yml");
const P = testIndex("pedge");
const NAME = `${P}-tag`;
const FINAL = `${P}-finalish`;
const INTEGRATION = `${P}-logs-win.sysmon-1.2.3`;
const HOOK = `${P}-logs-win.sysmon@custom`;
const COMPONENT = `${P}-comp`;
const COMPOSABLE = `${P}-tpl`;
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-pedge-"));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([process.execPath, "src/cli.ts", ...args, "--node", ES_URL], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

let es: Cluster;
const req = rest;

async function snapshot(): Promise<Record<string, unknown>> {
  return {
    settings: (await req("GET", `/${P}-*/_settings`, undefined, { flat_settings: true })) ?? {},
    legacy: (await req("GET", `/_template/${P}-*`)) ?? {},
    composable: (await req("GET", `/_index_template/${P}-*`))?.index_templates ?? [],
    component: (await req("GET", `/_component_template/${P}-*`))?.component_templates ?? [],
    pipelines: (await req("GET", `/_ingest/pipeline/${P}-*`)) ?? {},
    state: (await req("GET", `/.outliers-state/_doc/${NAME}`)) ?? null,
  };
}

const CERTUTIL_DOC = {
  winlog: {
    channel: "Microsoft-Windows-Sysmon/Operational",
    event_id: 1,
    event_data: { Image: "C:\\Windows\\System32\\certutil.exe", CommandLine: "certutil -encode a b" },
  },
};

let before: Record<string, unknown>;
beforeAll(async () => {
  es = await cluster();
  await req("PUT", `/_ingest/pipeline/${FINAL}`, { processors: [{ set: { field: "final.seen", value: true } }] });
  await req("PUT", `/_ingest/pipeline/${HOOK}`, {
    description: "the user's own customisation",
    processors: [{ set: { field: "custom.seen", value: true } }],
  });
  await req("PUT", `/_ingest/pipeline/${INTEGRATION}`, {
    description: "stand-in for a Fleet integration pipeline",
    processors: [{ set: { field: "integration.seen", value: true } }, { pipeline: { name: HOOK } }],
  });
  await req("PUT", `/_component_template/${COMPONENT}`, { template: { settings: { "index.final_pipeline": FINAL } } });
  await req("PUT", `/_index_template/${COMPOSABLE}`, {
    index_patterns: [`${P}-ds-*`],
    composed_of: [COMPONENT],
    priority: 432,
    template: { settings: { number_of_replicas: 0 } },
  });
  await req("PUT", `/_template/${P}-lo`, {
    index_patterns: [`${P}-lg-*`],
    order: 1,
    settings: { "index.final_pipeline": FINAL, number_of_replicas: 0 },
  });
  await req("PUT", `/_template/${P}-hi`, {
    index_patterns: [`${P}-lg-x-*`],
    order: 2,
    settings: { number_of_shards: 1 },
  });
  await req("PUT", `/${P}-ds-1`);
  await req("PUT", `/${P}-none-1`, { settings: { "index.final_pipeline": "_none", number_of_replicas: 0 } });
  await req("PUT", `/${P}-fleet-1`, {
    settings: { "index.default_pipeline": INTEGRATION, "index.final_pipeline": FINAL, number_of_replicas: 0 },
  });
  before = await snapshot();
}, 60_000);

afterAll(async () => {
  await cli("pipeline", "uninstall", "--name", NAME).catch(() => {});
  await req("DELETE", `/${P}-*`);
  await req("DELETE", `/_index_template/${COMPOSABLE}`);
  await req("DELETE", `/_template/${P}-*`);
  await req("DELETE", `/_component_template/${COMPONENT}`);
  await req("DELETE", `/_ingest/pipeline/${P}-*`);
  rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe("pipeline install edge cases", () => {
  test("a name held by someone else's pipeline is refused, nothing written", async () => {
    const r = await cli("pipeline", "install", RULE, "--name", FINAL, "--index", `${P}-none-*`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`pipeline ${FINAL} exists and was not installed by outliers`);
    expect(await snapshot()).toEqual(before);
    const u = await cli("pipeline", "uninstall", "--name", FINAL);
    expect(u.code).toBe(2);
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  test("install: component-template final pipeline chained, _none replaced, @custom hook reported", async () => {
    const r = await cli(
      "pipeline",
      "install",
      RULE,
      "--name",
      NAME,
      "--index",
      `${P}-ds-*`,
      `${P}-none-*`,
      `${P}-fleet-*`,
      `${P}-lg-*`,
    );
    expect(r.code).toBe(0);
    // A higher-order legacy template without a final pipeline is left alone: setting one there would
    // override the lower-order template's (now chained) final pipeline for indices matching both.
    expect(r.stderr).toContain(`legacy template ${P}-hi: not wired`);
    expect(r.stdout).toContain(
      `legacy template ${P}-lo: update, index.final_pipeline ${FINAL} → ${NAME}-chain-${FINAL}`,
    );
    expect(r.stderr).toContain(`default pipeline ${INTEGRATION} has the integration hook ${HOOK}`);
    const tpl = (await req("GET", `/_index_template/${COMPOSABLE}`)).index_templates[0].index_template;
    expect(tpl.template.settings.index.final_pipeline).toBe(`${NAME}-chain-${FINAL}`);
    const s = await req("GET", `/${P}-*/_settings`, undefined, { flat_settings: true });
    expect(s[`${P}-none-1`].settings["index.final_pipeline"]).toBe(NAME);
    expect(s[`${P}-ds-1`].settings["index.final_pipeline"]).toBe(`${NAME}-chain-${FINAL}`);
    expect(s[`${P}-fleet-1`].settings["index.final_pipeline"]).toBe(`${NAME}-chain-${FINAL}`);
    const file = path.join(tmp, "one.ndjson");
    writeFileSync(file, JSON.stringify(CERTUTIL_DOC) + "\n");
    for (const index of [`${P}-ds-2`, `${P}-fleet-1`, `${P}-lg-x-1`])
      expect((await cli("ingest", file, "--index", index)).code).toBe(0);
    const [lg] = (await req("POST", `/${P}-lg-x-1/_search`)).hits.hits.map((h: any) => h._source);
    expect(lg.final.seen).toBe(true);
    expect(lg.outliers.rule_id).toEqual(["e62a9f0c-ca1e-46b2-85d5-a6da77f86d1a"]);
    const [fleet] = (await req("POST", `/${P}-fleet-1/_search`)).hits.hits.map((h: any) => h._source);
    expect(fleet.integration.seen).toBe(true);
    expect(fleet.custom.seen).toBe(true);
    expect(fleet.final.seen).toBe(true);
    expect(fleet.outliers.rule_id).toEqual(["e62a9f0c-ca1e-46b2-85d5-a6da77f86d1a"]);
    const [ds] = (await req("POST", `/${P}-ds-2/_search`)).hits.hits.map((h: any) => h._source);
    expect(ds.final.seen).toBe(true);
    expect(ds.outliers.model_type).toEqual(["sigma"]);
  }, 60_000);

  test("re-install with fewer patterns puts the dropped ones back exactly", async () => {
    const r = await cli("pipeline", "install", RULE, "--name", NAME, "--index", `${P}-none-*`, "--json");
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.version).toBe(1);
    expect(plan.indices).toEqual([`${P}-none-1`]);
    const now = await snapshot();
    expect(now.composable).toEqual(before.composable);
    const { [`${NAME}-wiring`]: wiring, ...legacy } = now.legacy as Record<string, any>;
    expect(legacy).toEqual(before.legacy as Record<string, any>);
    expect(wiring.index_patterns).toEqual([`${P}-none-*`]);
    const s = now.settings as any;
    expect(s[`${P}-ds-1`]).toEqual((before.settings as any)[`${P}-ds-1`]);
    expect(s[`${P}-fleet-1`]).toEqual((before.settings as any)[`${P}-fleet-1`]);
    // Created by the wired template while installed: back to what the template gives without us.
    expect(s[`${P}-ds-2`].settings["index.final_pipeline"]).toBe(FINAL);
    expect(s[`${P}-lg-x-1`].settings["index.final_pipeline"]).toBe(FINAL);
    expect(Object.keys(now.pipelines as object).sort()).toEqual([FINAL, HOOK, INTEGRATION, NAME].sort());
  }, 60_000);

  test("uninstall --dry-run writes nothing; uninstall restores _none exactly", async () => {
    const snap = await snapshot();
    const dry = await cli("pipeline", "uninstall", "--name", NAME, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`index ${P}-none-1: index.final_pipeline ${NAME} → _none (restored)`);
    expect(await snapshot()).toEqual(snap);
    const r = await cli("pipeline", "uninstall", "--name", NAME);
    expect(r.code).toBe(0);
    const after = await snapshot();
    expect((after.settings as any)[`${P}-none-1`]).toEqual((before.settings as any)[`${P}-none-1`]);
    expect(after.composable).toEqual(before.composable);
    expect(after.component).toEqual(before.component);
    expect(after.legacy).toEqual(before.legacy);
    expect(after.pipelines).toEqual(before.pipelines);
    expect(after.state).toBeNull();
  }, 60_000);
});

describe("concurrent installs", () => {
  test("an install whose record changed after planning stops before touching anything", async () => {
    const { planInstall, applyPlan } = await import("../../src/cluster/live/install.ts");
    const { discoverInstall } = await import("../../src/cluster/live/install-discovery.ts");
    const { readState } = await import("../../src/cluster/live/install-state.ts");
    const name = `${P}-race`;
    const compiled = { processors: [{ set: { field: "x", value: 1 } }], ruleIds: ["r"], hash: "h1" };
    const opts = { name, patterns: [`${P}-race-*`], compiled, toolVersion: "test" };
    const first = planInstall(await discoverInstall(es, opts), opts);
    const second = planInstall(await discoverInstall(es, opts), { ...opts, compiled: { ...compiled, hash: "h2" } });
    await applyPlan(es, first);
    await expect(applyPlan(es, second)).rejects.toThrow(/changed meanwhile: another install or uninstall/);
    expect((await readState(es, name))!.hash).toBe("h1");
    expect((await req("GET", `/_ingest/pipeline/${name}`))[name].version).toBe(1);
    const { discoverUninstall, planUninstall } = await import("../../src/cluster/live/uninstall.ts");
    await applyPlan(es, planUninstall(await discoverUninstall(es, name)));
    expect(await readState(es, name)).toBeUndefined();
  }, 60_000);
});
