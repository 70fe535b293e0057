/**
 * Safety of `outliers pipeline install|uninstall|status|simulate` and `outliers ingest`, end to end
 * through the CLI on the real node. The scene: a "fleet-like" final pipeline named by a legacy
 * template, a composable template and their indices; an index whose default pipeline is a
 * "module-like" pipeline; a pattern no template covers. Everything uses this run's unique prefix.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cluster, ES_URL, rest, testIndex } from "../helpers/es.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const RULES = path.join(ROOT, "rules/windows/process_creation");
const CERTUTIL = "e62a9f0c-ca1e-46b2-85d5-a6da77f86d1a";
const ASSOC = "3d3aa6cd-6272-44d6-8afc-7e88dfef7061";

const P = testIndex("pinst");
const NAME = `${P}-tag`;
const FLEET = `${P}-fleetlike`;
const MODULE = `${P}-modlike`;
const LEGACY = `${P}-tpl-legacy`;
const COMPOSABLE = `${P}-tpl-comp`;
const PATTERNS = [`${P}-a-*`, `${P}-b-*`, `${P}-c-*`, `${P}-d-*`];
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-pinst-"));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Run> {
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

function sysmon(image: string, commandLine: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@timestamp": "2025-01-01T00:00:00.000Z",
    event: { code: "1" },
    winlog: {
      channel: "Microsoft-Windows-Sysmon/Operational",
      provider_name: "Microsoft-Windows-Sysmon",
      event_id: 1,
      event_data: { Image: image, CommandLine: commandLine },
    },
    ...extra,
  };
}
const CERTUTIL_DOC = sysmon("C:\\Windows\\System32\\certutil.exe", "certutil -encode in.bin out.b64");
const ASSOC_DOC = sysmon("C:\\Windows\\System32\\cmd.exe", "cmd /c assoc .txt=exefile");
const QUIET_DOC = sysmon("C:\\Windows\\System32\\notepad.exe", "notepad a.txt");

function ndjson(file: string, docs: unknown[]): string {
  const f = path.join(tmp, file);
  writeFileSync(f, docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  return f;
}

const req = rest;

/** Everything an install may touch, for this run's names. */
async function snapshot(): Promise<Record<string, unknown>> {
  const settings = (await req("GET", `/${P}-*/_settings`, undefined, { flat_settings: true })) ?? {};
  for (const v of Object.values(settings) as any[]) delete v.settings["index.uuid"]; // stable anyway; keeps diffs short
  return {
    settings,
    legacy: (await req("GET", `/_template/${P}-*`)) ?? {},
    composable: ((await req("GET", `/_index_template/${P}-*`))?.index_templates ?? []).sort((a: any, b: any) =>
      a.name.localeCompare(b.name),
    ),
    pipelines: (await req("GET", `/_ingest/pipeline/${P}-*`)) ?? {},
    state: (await req("GET", `/.outliers-state/_doc/${NAME}`)) ?? null,
  };
}

async function search(index: string): Promise<any[]> {
  await req("POST", `/${index}/_refresh`);
  const r = await req("POST", `/${index}/_search`, { size: 100, sort: [{ _doc: "asc" }] });
  return r.hits.hits.map((h: any) => h._source);
}

let before: Record<string, unknown>;

beforeAll(async () => {
  await cluster();
  await req("PUT", `/_ingest/pipeline/${FLEET}`, {
    description: "stand-in for .fleet_final_pipeline-1",
    processors: [{ set: { field: "fleet.seen", value: true } }],
  });
  await req("PUT", `/_ingest/pipeline/${MODULE}`, {
    description: "stand-in for a winlogbeat module pipeline",
    processors: [{ set: { field: "module.parsed", value: true } }],
  });
  await req("PUT", `/_template/${LEGACY}`, {
    index_patterns: [`${P}-a-*`],
    order: 3,
    settings: { "index.final_pipeline": FLEET, number_of_shards: 1, number_of_replicas: 0 },
    mappings: { properties: { fleet: { properties: { seen: { type: "boolean" } } } } },
  });
  await req("PUT", `/_index_template/${COMPOSABLE}`, {
    index_patterns: [`${P}-b-*`],
    priority: 321,
    template: {
      settings: { index: { final_pipeline: FLEET, number_of_replicas: 0 } },
      mappings: {
        dynamic: "strict",
        properties: {
          "@timestamp": { type: "date" },
          event: { type: "object", dynamic: true },
          winlog: { type: "object", dynamic: true },
          fleet: { type: "object", dynamic: true },
        },
      },
    },
    _meta: { owner: "test" },
    version: 7,
  });
  await req("PUT", `/${P}-a-1`);
  await req("PUT", `/${P}-b-1`);
  await req("PUT", `/${P}-c-1`, { settings: { "index.default_pipeline": MODULE, number_of_replicas: 0 } });
  before = await snapshot();
}, 60_000);

afterAll(async () => {
  await cli("pipeline", "uninstall", "--name", NAME).catch(() => {});
  await req("DELETE", `/${P}-*`);
  await req("DELETE", `/_template/${P}-*`);
  await req("DELETE", `/_index_template/${LEGACY}`);
  await req("DELETE", `/_index_template/${COMPOSABLE}`);
  await req("DELETE", `/_ingest/pipeline/${P}-*`);
  rmSync(tmp, { recursive: true, force: true });
}, 180_000);

const ruleA = [path.join(RULES, "proc_creation_win_certutil_encode.yml")];
const ruleAB = [...ruleA, path.join(RULES, "proc_creation_win_cmd_assoc_execution.yml")];
const install = (rules: string[], ...more: string[]) =>
  cli("pipeline", "install", ...rules, "--name", NAME, "--index", ...PATTERNS, ...more);

describe("pipeline install / uninstall on the real node", () => {
  test("--dry-run prints the plan and writes nothing", async () => {
    const r = await install(ruleA, "--dry-run");
    expect(r.stderr).not.toContain("outliers:");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("dry run");
    expect(r.stdout).toContain(`index ${P}-a-1: index.final_pipeline ${FLEET} → ${NAME}-chain-${FLEET}`);
    expect(r.stdout).toContain(`index ${P}-c-1: index.final_pipeline (absent) → ${NAME}`);
    expect(r.stdout).toContain(
      `legacy template ${LEGACY}: update, index.final_pipeline ${FLEET} → ${NAME}-chain-${FLEET}`,
    );
    expect(r.stdout).toContain(`composable template ${COMPOSABLE}: update`);
    expect(r.stdout).toContain(`legacy template ${NAME}-wiring: create`);
    const json = await install(ruleA, "--dry-run", "--json");
    const plan = JSON.parse(json.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.applied).toBe(false);
    expect(plan.version).toBe(1);
    expect(plan.indices).toEqual([`${P}-a-1`, `${P}-b-1`, `${P}-c-1`]);
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  test("install chains the existing final pipelines; new and existing indices get both effects", async () => {
    const r = await install(ruleA);
    if (r.code !== 0) throw new Error(`install exited ${r.code}: ${r.stderr}`);
    const pipes = await req("GET", `/_ingest/pipeline/${NAME}`);
    expect(pipes[NAME].version).toBe(1);
    const meta = JSON.parse(pipes[NAME].description).outliers;
    expect(meta.rule_ids).toEqual([CERTUTIL]);
    expect(meta.tool).toBe("outliers");
    const chain = (await req("GET", `/_ingest/pipeline/${NAME}-chain-${FLEET}`))[`${NAME}-chain-${FLEET}`];
    expect(chain.processors).toEqual([
      { pipeline: { name: FLEET } },
      { pipeline: { name: NAME, ignore_failure: true } },
    ]);
    const s = await req("GET", `/${P}-*/_settings`, undefined, { flat_settings: true });
    expect(s[`${P}-a-1`].settings["index.final_pipeline"]).toBe(`${NAME}-chain-${FLEET}`);
    expect(s[`${P}-b-1`].settings["index.final_pipeline"]).toBe(`${NAME}-chain-${FLEET}`);
    expect(s[`${P}-c-1`].settings["index.final_pipeline"]).toBe(NAME);
    expect(s[`${P}-c-1`].settings["index.default_pipeline"]).toBe(MODULE);
    // Mappings added where missing, including on the strict composable template.
    const m = await req("GET", `/${P}-b-1/_mapping`);
    expect(m[`${P}-b-1`].mappings.properties.outliers.properties.rule_id).toEqual({ type: "keyword" });
    expect(m[`${P}-b-1`].mappings.properties.outliers.properties.total_outliers).toEqual({ type: "integer" });

    const docs = ndjson("a.ndjson", [CERTUTIL_DOC, QUIET_DOC]);
    for (const index of [`${P}-a-1`, `${P}-a-2`, `${P}-b-1`, `${P}-b-2`, `${P}-c-1`, `${P}-d-1`]) {
      const ing = await cli("ingest", docs, "--index", index);
      expect(ing.stderr).toBe("");
      expect(ing.code).toBe(0);
      expect(ing.stdout).toContain(`2 of 2 document(s) indexed into ${index} (0 failed)`);
      const [hit, quiet] = await search(index);
      expect(hit.outliers.rule_id).toEqual([CERTUTIL]);
      expect(hit.outliers.model_type).toEqual(["sigma"]);
      expect(hit.tags).toContain("outlier");
      expect(quiet.outliers).toBeUndefined();
      const fleetLike = index.includes("-a-") || index.includes("-b-");
      expect(hit.fleet?.seen).toBe(fleetLike ? true : undefined);
      expect(quiet.fleet?.seen).toBe(fleetLike ? true : undefined);
      expect(hit.module?.parsed).toBe(index.includes("-c-") ? true : undefined);
    }
  }, 120_000);

  test("re-installing unchanged rules changes nothing", async () => {
    const snap = await snapshot();
    const r = await install(ruleA);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("nothing to change");
    expect(await snapshot()).toEqual(snap);
  }, 60_000);

  test("changed rules bump the version, and only then", async () => {
    const r = await install(ruleAB, "--json");
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.version).toBe(2);
    expect(plan.previousVersion).toBe(1);
    expect(plan.actions.map((a: any) => a.kind)).toEqual(["state", "pipeline"]);
    expect((await req("GET", `/_ingest/pipeline/${NAME}`))[NAME].version).toBe(2);
    const snap = await snapshot();
    const again = await install(ruleAB, "--json");
    expect(JSON.parse(again.stdout).changes).toBe(0);
    expect(await snapshot()).toEqual(snap);
    const ing = await cli("ingest", ndjson("assoc.ndjson", [ASSOC_DOC]), "--index", `${P}-a-2`);
    expect(ing.code).toBe(0);
    const docs = await search(`${P}-a-2`);
    expect(docs[2].outliers.rule_id).toEqual([ASSOC]);
    expect(docs[2].fleet.seen).toBe(true);
  }, 60_000);

  test("an odd tags value is tagged, not failed; an event carrying an error is kept and status counts it", async () => {
    // `tags: 5` once failed the tagger; it is now tagged (issue 17 item 4: no value shape costs a detection).
    const odd = { ...CERTUTIL_DOC, tags: 5 };
    // An event that carries a tagging error from an earlier run (and matches no rule).
    const failed = { ...QUIET_DOC, outliers: { error: ["rule x: an earlier failure"] } };
    const ing = await cli("ingest", ndjson("bad.ndjson", [odd, failed]), "--index", `${P}-c-1`);
    expect(ing.code).toBe(0);
    const docs = await search(`${P}-c-1`);
    expect(docs).toHaveLength(4);
    expect(docs[2].outliers.rule_id).toEqual([CERTUTIL]);
    expect(docs[2].tags).toEqual(["5", "outlier"]);
    expect(docs[2].outliers.error).toBeUndefined();
    expect(docs[2].module.parsed).toBe(true);
    expect(docs[3].outliers.error).toEqual(["rule x: an earlier failure"]);

    const st = await cli("pipeline", "status", "--name", NAME, "--json");
    expect(st.code).toBe(0);
    const s = JSON.parse(st.stdout);
    expect(s.installed).toBe(true);
    expect(s.version).toBe(2);
    expect(s.ruleCount).toBe(2);
    expect([...s.ruleIds].sort()).toEqual([CERTUTIL, ASSOC].sort());
    expect(s.indices.map((i: any) => i.index)).toEqual([
      `${P}-a-1`,
      `${P}-a-2`,
      `${P}-b-1`,
      `${P}-b-2`,
      `${P}-c-1`,
      `${P}-d-1`,
    ]);
    expect(s.indices.find((i: any) => i.index === `${P}-a-2`).previous).toBe(FLEET);
    expect(s.templates.map((t: any) => `${t.kind}:${t.name}`).sort()).toEqual(
      [`composable:${COMPOSABLE}`, `legacy:${LEGACY}`, `legacy:${NAME}-wiring`].sort(),
    );
    expect(Object.values(s.chains)).toEqual([FLEET]);
    // 6 certutil events (one per index) + the odd one + 1 assoc event; 1 event with an error.
    expect(s.tagged).toBe(8);
    expect(s.failed).toBe(1);
    expect(s.ingest[NAME].count).toBeGreaterThanOrEqual(15);
    const human = await cli("pipeline", "status", "--name", NAME);
    expect(human.stdout).toContain("events tagged: 8, tagging errors: 1");
  }, 60_000);

  test("simulate prints what each document got, installing nothing", async () => {
    const snap = await snapshot();
    const pretagged = { ...CERTUTIL_DOC, outliers: { rule_id: [CERTUTIL] } };
    const f = ndjson("sim.ndjson", [CERTUTIL_DOC, QUIET_DOC, ASSOC_DOC, pretagged]);
    writeFileSync(f, readFileSync(f, "utf8") + "{broken\n");
    const r = await cli("pipeline", "simulate", ...ruleAB, "--docs", f);
    expect(r.stdout).toContain(`${f}:1: ${CERTUTIL} (File Encoded To Base64 Via Certutil.EXE)`);
    expect(r.stdout).toContain(`${f}:2: no rule matched`);
    expect(r.stdout).toContain(`${f}:3: ${ASSOC} (Change Default File Association Via Assoc)`);
    expect(r.stdout).toContain(`${f}:4: nothing new (already tagged: ${CERTUTIL})`);
    expect(r.stdout).toContain(`${f}:5: error: not read:`);
    expect(r.code).toBe(1);
    const j = JSON.parse((await cli("pipeline", "simulate", ...ruleAB, "--docs", f, "--json")).stdout);
    expect(j.docs.map((d: any) => [d.line, d.matched])).toEqual([
      [1, [CERTUTIL]],
      [2, []],
      [3, [ASSOC]],
      [4, []],
      [5, []],
    ]);
    expect(j.docs[4].errors[0]).toStartWith("not read:");
    expect(await snapshot()).toEqual(snap);
  }, 60_000);

  test("uninstall restores settings and templates exactly and removes our pipelines and record", async () => {
    const r = await cli("pipeline", "uninstall", "--name", NAME);
    expect(r.code).toBe(0);
    const after = await snapshot();
    expect(after.legacy).toEqual(before.legacy);
    expect(after.composable).toEqual(before.composable);
    expect(after.pipelines).toEqual(before.pipelines);
    expect(after.state).toBeNull();
    const s = after.settings as Record<string, any>;
    for (const index of Object.keys(before.settings as object))
      expect(s[index]).toEqual((before.settings as any)[index]);
    // Indices the wired templates created meanwhile get what their template gives without us.
    expect(s[`${P}-a-2`].settings["index.final_pipeline"]).toBe(FLEET);
    expect(s[`${P}-b-2`].settings["index.final_pipeline"]).toBe(FLEET);
    expect(s[`${P}-d-1`].settings["index.final_pipeline"]).toBeUndefined();
    // And they keep taking events: the fleet-like pipeline runs, nothing tags.
    // (A new event: ingest gives identical content the same id, so the same document again is not re-added.)
    const ing = await cli(
      "ingest",
      ndjson("post.ndjson", [{ ...CERTUTIL_DOC, after: "uninstall" }]),
      "--index",
      `${P}-a-2`,
    );
    expect(ing.code).toBe(0);
    const docs = await search(`${P}-a-2`);
    expect(docs[3].fleet.seen).toBe(true);
    expect(docs[3].outliers).toBeUndefined();
    const again = await cli("pipeline", "uninstall", "--name", NAME);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("not installed");
  }, 60_000);
});
