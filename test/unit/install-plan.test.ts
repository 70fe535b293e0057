/** `planInstall` from a hand-written discovery: the whole install plan with no cluster and no request. */
import { describe, expect, test } from "bun:test";
import type { ClusterInfo } from "../../src/cluster/connection/client.ts";
import type { InstallDiscovery } from "../../src/cluster/live/install-discovery.ts";
import { planInstall, type Action, type InstallOptions, type Plan } from "../../src/cluster/live/install.ts";
import type { PipelineDoc } from "../../src/cluster/live/pipeline-body.ts";

const info: ClusterInfo = {
  url: "u",
  version: "7.10.2",
  major: 7,
  minor: 10,
  distribution: "elasticsearch",
  clusterName: "c",
};
const NAME = "tagger";
const opts: InstallOptions = {
  name: NAME,
  patterns: ["logs-*"],
  compiled: { processors: [{ set: { field: "x", value: 1 } }], ruleIds: ["r1"], hash: "h1" },
  toolVersion: "test",
  now: new Date("2026-01-01T00:00:00Z"),
};

/** An empty cluster with one ingest node; `over` replaces parts. */
function discovered(over: Partial<InstallDiscovery> = {}): InstallDiscovery {
  return {
    info,
    stateVersion: "absent",
    otherStates: [],
    ingestNodes: 1,
    pipelines: {},
    indices: new Map(),
    templates: [],
    components: new Map(),
    hooks: {},
    recorded: new Map(),
    finals: {},
    ...over,
  };
}

const kinds = (p: Plan) => p.actions.map((a) => `${a.kind}:${"op" in a ? a.op : "index" in a ? a.index : ""}`);
const find = <K extends Action["kind"]>(p: Plan, kind: K) =>
  p.actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);

/** The discovery after `plan` was applied to `d`: what Elasticsearch would then report. */
function afterApply(d: InstallDiscovery, plan: Plan): InstallDiscovery {
  const pipelines: Record<string, PipelineDoc> = { ...d.pipelines };
  for (const a of [...find(plan, "pipeline"), ...find(plan, "chain")]) pipelines[a.id] = a.body!;
  const indices = new Map(d.indices);
  for (const a of find(plan, "index-mapping"))
    indices.set(a.index, {
      ...indices.get(a.index)!,
      properties: { ...indices.get(a.index)!.properties, ...a.properties },
    });
  for (const a of find(plan, "index-setting")) indices.set(a.index, { ...indices.get(a.index)!, final: a.after });
  const templates = [...d.templates];
  for (const a of find(plan, "template")) {
    const i = templates.findIndex((t) => t.kind === a.template && t.name === a.name);
    const t = { kind: a.template, name: a.name, body: a.body!, patterns: a.body!.index_patterns };
    if (i < 0) templates.push(t);
    else templates[i] = t;
  }
  return { ...d, state: plan.state, stateVersion: { if_seq_no: 1, if_primary_term: 1 }, pipelines, indices, templates };
}

describe("planInstall (pure)", () => {
  test("a first install: record, pipeline, tag mappings, wiring of the index and of a template for new indices", () => {
    const d = discovered({ indices: new Map([["logs-1", { final: { present: false } }]]) });
    const plan = planInstall(d, opts);
    expect(kinds(plan)).toEqual([
      "state:write",
      "pipeline:create",
      "index-mapping:logs-1",
      "template:create",
      "index-setting:logs-1",
    ]);
    expect(plan.version).toBe(1);
    expect(find(plan, "pipeline")[0]!.body!.processors).toEqual(opts.compiled.processors);
    expect(find(plan, "index-setting")[0]!.after).toEqual({ present: true, value: NAME });
    expect(find(plan, "template")[0]).toMatchObject({
      name: `${NAME}-wiring`,
      body: { index_patterns: ["logs-*"], settings: { index: { final_pipeline: NAME } } },
    });
    expect(plan.state.indices["logs-1"]).toMatchObject({ before: { present: false }, after: NAME });
    expect(plan.warnings).toEqual([]);
    expect(plan.noIngestNode).toBe(false);
  });

  test("planned again on what the first plan made: nothing to change", () => {
    const d = discovered({ indices: new Map([["logs-1", { final: { present: false } }]]) });
    const again = planInstall(afterApply(d, planInstall(d, opts)), opts);
    expect(again.actions).toEqual([]);
    expect(again.version).toBe(1);
  });

  test("a final pipeline already there is chained: ours runs after it, and the chain is recorded", () => {
    const d = discovered({ indices: new Map([["logs-1", { final: { present: true, value: "fleet-final" } }]]) });
    const plan = planInstall(d, opts);
    const chain = find(plan, "chain");
    expect(chain.map((a) => [a.id, a.op, a.previous])).toEqual([
      [`${NAME}-chain-fleet-final`, "create", "fleet-final"],
    ]);
    expect(find(plan, "index-setting")[0]!.after).toEqual({ present: true, value: `${NAME}-chain-fleet-final` });
    expect(plan.state.chains).toEqual({ [`${NAME}-chain-fleet-final`]: "fleet-final" });
    expect(plan.state.indices["logs-1"]!.before).toEqual({ present: true, value: "fleet-final" });
  });

  test("a pipeline of that name not installed by outliers stops the plan", () => {
    const d = discovered({ pipelines: { [NAME]: { processors: [] } as PipelineDoc } });
    expect(() => planInstall(d, opts)).toThrow(/exists and was not installed by outliers/);
  });

  test("no ingest node: the plan says so and warns", () => {
    const plan = planInstall(discovered({ ingestNodes: 0 }), opts);
    expect(plan.noIngestNode).toBe(true);
    expect(plan.warnings.join("\n")).toMatch(/no node of this cluster has the ingest role/);
  });

  test("templates: one inside the patterns is wired, one reaching beyond them is left with a warning; Fleet hooks are named", () => {
    const inside = {
      kind: "composable" as const,
      name: "logs-app",
      patterns: ["logs-app-*"],
      body: { index_patterns: ["logs-app-*"], template: { settings: { index: { default_pipeline: "logs-app-1" } } } },
    };
    const beyond = { kind: "legacy" as const, name: "all", patterns: ["*"], body: { index_patterns: ["*"], order: 1 } };
    const plan = planInstall(
      discovered({ templates: [inside, beyond], hooks: { "logs-app-1": ["logs-app@custom"] } }),
      opts,
    );
    const t = find(plan, "template");
    expect(t.map((a) => [a.name, a.op, a.finalAfter.value])).toEqual([["logs-app", "update", NAME]]);
    expect(t[0]!.body!.template.settings.index.final_pipeline).toBe(NAME);
    expect(Object.keys(plan.state.templates)).toEqual(["composable:logs-app"]);
    expect(plan.warnings.some((w) => w.startsWith("legacy template all (*) reaches beyond logs-*"))).toBe(true);
    expect(plan.warnings.some((w) => w.includes("logs-app@custom"))).toBe(true);
    expect(plan.warnings.some((w) => w.startsWith("no open index matches logs-*"))).toBe(true);
  });

  test("patterns narrowed: a recorded index they no longer reach and an index a wired template made are put back", () => {
    const first = planInstall(discovered({ indices: new Map([["old-1", { final: { present: false } }]]) }), {
      ...opts,
      patterns: ["old-*"],
    });
    const d = discovered({
      state: first.state,
      stateVersion: { if_seq_no: 3, if_primary_term: 1 },
      pipelines: { [NAME]: find(first, "pipeline")[0]!.body! },
      recorded: new Map([["old-1", { present: true, value: NAME }]]),
      finals: {
        "old-1": { present: true, value: NAME },
        "old-2": { present: true, value: NAME },
        "other-1": { present: true, value: "x" },
      },
      templates: [
        { kind: "legacy", name: `${NAME}-wiring`, patterns: ["old-*"], body: find(first, "template")[0]!.body! },
      ],
    });
    const plan = planInstall(d, opts);
    const unwired = find(plan, "index-setting").filter((a) => a.why === "unwire");
    expect(unwired.map((a) => [a.index, a.after])).toEqual([
      ["old-1", { present: false }],
      ["old-2", { present: false }],
    ]);
    expect(plan.state.indices["old-1"]).toBeUndefined();
    // The record still lists old-1 until it is unwired (written first, rewritten at the end).
    expect(plan.pendingState.indices["old-1"]).toBeDefined();
    expect(find(plan, "template").map((a) => [a.name, a.op])).toEqual([[`${NAME}-wiring`, "update"]]);
    expect(plan.stateVersion).toEqual({ if_seq_no: 3, if_primary_term: 1 });
  });
});
