/** `planUninstall` from a hand-written discovery: the uninstall plan with no cluster and no request. */
import { describe, expect, test } from "bun:test";
import type { ClusterInfo } from "../../src/cluster/connection/client.ts";
import type { InstallDiscovery } from "../../src/cluster/live/install-discovery.ts";
import { planInstall, type Action, type InstallOptions, type Plan } from "../../src/cluster/live/install.ts";
import { type InstallState, isInstallRecord } from "../../src/cluster/live/install-state.ts";
import type { PipelineDoc } from "../../src/cluster/live/pipeline-body.ts";
import { planUninstall, type UninstallDiscovery } from "../../src/cluster/live/uninstall.ts";
import { UsageError } from "../../src/util/errors.ts";

const info: ClusterInfo = {
  url: "u",
  version: "7.10.2",
  major: 7,
  minor: 10,
  distribution: "elasticsearch",
  clusterName: "c",
};
const opts = (name: string): InstallOptions => ({
  name,
  patterns: ["logs-*"],
  compiled: { processors: [{ set: { field: "x", value: 1 } }], ruleIds: ["r1"], hash: `h-${name}` },
  toolVersion: "test",
  now: new Date("2026-01-01T00:00:00Z"),
});

const kinds = (p: Plan) => p.actions.map((a) => `${a.kind}:${"op" in a ? a.op : "index" in a ? a.index : ""}`);
const find = <K extends Action["kind"]>(p: Plan, kind: K) =>
  p.actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);

/** A cluster with one index `logs-1` whose final pipeline is `final` (absent when undefined). */
function installDiscovery(final?: string, over: Partial<InstallDiscovery> = {}): InstallDiscovery {
  return {
    info,
    stateVersion: "absent",
    otherStates: [],
    ingestNodes: 1,
    pipelines: final ? { [final]: { processors: [] } } : {},
    indices: new Map([["logs-1", { final: final ? { present: true, value: final } : { present: false } }]]),
    templates: [],
    components: new Map(),
    hooks: {},
    recorded: new Map(),
    finals: {},
    ...over,
  };
}

/** What `discoverUninstall` would read after `plan` (an install) was applied to `d`. */
function afterInstall(d: InstallDiscovery, plan: Plan, others: InstallState[] = []): UninstallDiscovery {
  const pipelines: Record<string, PipelineDoc> = { ...d.pipelines };
  for (const a of [...find(plan, "pipeline"), ...find(plan, "chain")]) pipelines[a.id] = a.body!;
  const indexSettings: Record<string, { settings: Record<string, string> }> = {};
  for (const [index, i] of d.indices) {
    const set = find(plan, "index-setting").find((a) => a.index === index);
    const value = set ? set.after.value : i.final.value;
    indexSettings[index] = { settings: value ? { "index.final_pipeline": value } : {} };
  }
  const templates = find(plan, "template").map((a) => ({
    kind: a.template,
    name: a.name,
    body: a.body!,
    patterns: a.body!.index_patterns as string[],
  }));
  return {
    name: plan.name,
    info,
    state: plan.state,
    pipeline: pipelines[plan.name],
    otherRecords: others.map((state) => ({ state, version: { if_seq_no: 1, if_primary_term: 1 } })),
    indexSettings,
    templates,
    components: new Map(),
    pipelines,
  };
}

describe("planUninstall (pure)", () => {
  test("after a first install: the template it made is deleted, the index setting restored to absent, then the pipeline and the record go", () => {
    const d = installDiscovery();
    const installed = planInstall(d, opts("tagger"));
    const plan = planUninstall(afterInstall(d, installed));
    expect(kinds(plan)).toEqual(["template:delete", "index-setting:logs-1", "pipeline:delete", "state:delete"]);
    const setting = find(plan, "index-setting")[0]!;
    expect(setting.before).toEqual({ present: true, value: "tagger" });
    expect(setting.after).toEqual({ present: false });
    expect(find(plan, "template")[0]!.name).toBe("tagger-wiring");
    expect(plan.removesState).toBe(true);
    expect(plan.warnings).toEqual([]);
  });

  test("a final pipeline that was there before comes back, and the chain that ran it first is deleted", () => {
    const d = installDiscovery("theirs");
    const installed = planInstall(d, opts("tagger"));
    expect(find(installed, "index-setting")[0]!.after.value).toBe("tagger-chain-theirs");
    const plan = planUninstall(afterInstall(d, installed));
    const setting = find(plan, "index-setting")[0]!;
    expect(setting.after).toEqual({ present: true, value: "theirs" });
    const deleted = plan.actions.filter((a) => "op" in a && a.op === "delete").map((a) => ("id" in a ? a.id : a.kind));
    expect(deleted).toContain("tagger-chain-theirs");
    expect(deleted).toContain("tagger");
    expect(deleted).not.toContain("theirs");
  });

  test("an index whose final pipeline someone changed since is left as it is, with a warning naming it", () => {
    const d = installDiscovery();
    const installed = planInstall(d, opts("tagger"));
    const u = afterInstall(d, installed);
    u.indexSettings["logs-1"] = { settings: { "index.final_pipeline": "someone-else" } };
    u.pipelines["someone-else"] = { processors: [] };
    const plan = planUninstall(u);
    expect(find(plan, "index-setting")).toEqual([]);
    expect(plan.warnings.join("\n")).toContain("index logs-1: index.final_pipeline changed since install");
  });

  test("a pipeline another pipeline still calls is kept, with a warning, so no write fails", () => {
    const d = installDiscovery();
    const installed = planInstall(d, opts("tagger"));
    const u = afterInstall(d, installed);
    u.pipelines.caller = { processors: [{ pipeline: { name: "tagger" } }] };
    const plan = planUninstall(u);
    expect(find(plan, "pipeline")).toEqual([]);
    expect(plan.warnings.join("\n")).toContain("pipeline tagger kept: still called by pipeline caller");
  });

  test("a second install stacked on the first: uninstalling the first re-wires the index to the second alone and rewrites its record", () => {
    const d = installDiscovery();
    const a = planInstall(d, opts("a"));
    const afterA = afterInstall(d, a);
    // Install b over a: the index's final pipeline is a, so b chains a.
    const dB = installDiscovery("a", { pipelines: afterA.pipelines, otherStates: [a.state] });
    const b = planInstall(dB, opts("b"));
    expect(find(b, "index-setting")[0]!.after.value).toBe("b-chain-a");
    const u = afterInstall(dB, b);
    // Uninstall a (its own record and discovery), b's record among the others.
    const plan = planUninstall({
      ...u,
      name: "a",
      state: a.state,
      pipeline: u.pipelines.a,
      otherRecords: [{ state: b.state, version: { if_seq_no: 1, if_primary_term: 1 } }],
    });
    const setting = find(plan, "index-setting")[0]!;
    expect(setting.before.value).toBe("b-chain-a");
    expect(setting.after).toEqual({ present: true, value: "b" });
    const other = find(plan, "other-state")[0]!;
    expect(other.name).toBe("b");
    expect(other.state.indices["logs-1"]!.after).toBe("b");
    // a goes; b-chain-a goes once nothing calls it; b stays.
    const deleted = plan.actions.filter((x) => "op" in x && x.op === "delete").map((x) => ("id" in x ? x.id : x.kind));
    expect(deleted).toContain("a");
    expect(deleted).toContain("b-chain-a");
    expect(deleted).not.toContain("b");
  });

  test("no record: only the pipeline is deleted; a pipeline outliers did not install is refused", () => {
    const bare: UninstallDiscovery = {
      name: "tagger",
      info,
      pipeline: { processors: [], description: "x" } as PipelineDoc,
      otherRecords: [],
      indexSettings: {},
      templates: [],
      components: new Map(),
      pipelines: {},
    };
    expect(() => planUninstall(bare)).toThrow(UsageError);
    const d = installDiscovery();
    const installed = planInstall(d, opts("tagger"));
    const plan = planUninstall({ ...afterInstall(d, installed), state: undefined });
    expect(kinds(plan)).toEqual(["pipeline:delete"]);
  });
});

describe("isInstallRecord", () => {
  test("other records kept in the state index (correlation progress, rule history) are not install records", () => {
    const d = installDiscovery();
    expect(isInstallRecord(planInstall(d, opts("tagger")).state)).toBe(true);
    expect(isInstallRecord({ kind: "correlate", round_end: "2026-01-01T00:00:00Z" })).toBe(false);
    expect(isInstallRecord({ name: "x", chains: {}, indices: [], templates: {} })).toBe(false);
    expect(isInstallRecord(null)).toBe(false);
  });
});
