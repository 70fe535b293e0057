/**
 * `pipeline uninstall`: put back exactly what the install record says was there (index settings,
 * template bodies; an absent setting stays absent), then delete our pipelines and the record.
 * Whatever someone else changed since the install is left as it is, with a warning.
 *
 * Two installs on the same indices stack: the second chains the first (`p3b-chain-p3` runs `p3`, then
 * `p3b`). Uninstalling the lower one splices it out of every stack it is in: each index and template
 * whose final pipeline reaches our pipelines through another install's chain is re-wired to what that
 * install would have wired had we never been there (a new chain on what was there first, or its bare
 * pipeline), and that install's record is rewritten to match (what was there first, so its own
 * uninstall restores it). New chains are put before anything points at them; a pipeline is deleted
 * only when nothing (index, template, other pipeline) still calls it, so no write fails in between.
 */
import type { Cluster, ClusterInfo } from "../connection/client.ts";
import { type TemplateInfo, discoverTemplates } from "./install-discovery.ts";
import { type Action, type Plan, impliedBefore, isOurs, ownSettings, templateRestore } from "./install.ts";
import { type Resolved, spliceOut, usable } from "./install-stack.ts";
import {
  type InstallState,
  type StateVersion,
  type TemplateRecord,
  readAllStates,
  readState,
  templateKey,
} from "./install-state.ts";
import { type PipelineDoc, chainDocument, readPipelineMeta } from "./pipeline-body.ts";
import { rest, seg } from "../connection/rest.ts";
import { getIndexSetting, showSetting, withIndexSetting } from "../connection/settings-access.ts";
import { UsageError } from "../../util/errors.ts";

type Obj = Record<string, any>;

/** Names of the pipelines a pipeline document calls (pipeline processors, on_failure included). */
function calledPipelines(doc: PipelineDoc | undefined): string[] {
  const out: string[] = [];
  const walk = (list: unknown) => {
    for (const p of (Array.isArray(list) ? list : []) as Obj[]) {
      for (const body of Object.values(p ?? {}) as Obj[]) {
        if (body && typeof body === "object") {
          if (typeof body.name === "string" && p.pipeline === body) out.push(body.name);
          walk(body.on_failure);
        }
      }
    }
  };
  walk(doc?.processors);
  walk(doc?.on_failure);
  return out;
}

/** Everything `pipeline uninstall` reads before it plans; `planUninstall` plans from it without a request. */
export interface UninstallDiscovery {
  name: string;
  info: ClusterInfo;
  /** This install's record (absent: only the pipeline, if any, is deleted). */
  state?: InstallState;
  /** The tagging pipeline itself. */
  pipeline?: PipelineDoc;
  /** The rest is read only when there is a record. Other installs' records, with their versions. */
  otherRecords: Array<{ state: InstallState; version: StateVersion }>;
  /** `GET /_all/_settings/index.final_pipeline,index.default_pipeline` (flat), open and hidden indices. */
  indexSettings: Obj;
  templates: TemplateInfo[];
  components: Map<string, Obj>;
  /** Every ingest pipeline. */
  pipelines: Record<string, PipelineDoc>;
}

/** Reads what an uninstall plan needs (install-discovery.ts does the same for install). */
export async function discoverUninstall(cluster: Cluster, name: string): Promise<UninstallDiscovery> {
  const state = await readState(cluster, name);
  const pipeline = (
    await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}`, undefined, {
      allow404: true,
    })
  )?.[name];
  const d: UninstallDiscovery = {
    name,
    info: cluster.info,
    state,
    pipeline,
    otherRecords: [],
    indexSettings: {},
    templates: [],
    components: new Map(),
    pipelines: {},
  };
  if (!state) return d;
  d.otherRecords = (await readAllStates(cluster)).filter((r) => r.state.name !== name);
  // Every open or hidden index, since indices that wired templates created are in no record.
  d.indexSettings =
    (await rest<Obj>(cluster, "GET", "/_all/_settings/index.final_pipeline,index.default_pipeline", undefined, {
      querystring: { flat_settings: true, expand_wildcards: "open,hidden", allow_no_indices: true },
      what: "read index.final_pipeline of every index",
    })) ?? {};
  Object.assign(d, await discoverTemplates(cluster));
  d.pipelines =
    (await rest<Record<string, PipelineDoc>>(cluster, "GET", "/_ingest/pipeline", undefined, {
      allow404: true,
      what: "read ingest pipelines",
    })) ?? {};
  return d;
}

/** The plan of an uninstall from what `discoverUninstall` read: makes no request. */
export function planUninstall(d: UninstallDiscovery): Plan {
  const { name, state: old, pipeline } = d;
  const meta = readPipelineMeta(pipeline);
  if (pipeline && !meta) throw new UsageError(`pipeline ${name} was not installed by outliers; not removing it`);
  const warnings: string[] = [];
  const createChains: Action[] = [];
  const templateActions: Action[] = [];
  const settingActions: Action[] = [];
  const recordActions: Action[] = [];
  const deletes: Action[] = [];
  if (old) {
    const records = d.otherRecords;
    const others = records.map((r) => structuredClone(r.state));
    const touched = new Set<string>();
    const newChains = new Map<string, string>();
    const retiredChains = new Map<string, Set<string>>(); // other install -> its chains no longer used
    const applyOther = (o: NonNullable<Resolved["other"]>, replaced: string) => {
      const k = others.find((s) => s.name === o.name)!;
      touched.add(k.name);
      if (o.chain) {
        k.chains[o.chain[0]] = o.chain[1];
        if (!newChains.has(o.chain[0])) newChains.set(o.chain[0], o.chain[1]);
      }
      if (k.chains[replaced] !== undefined || replaced.startsWith(`${k.name}-chain-`)) {
        if (!retiredChains.has(k.name)) retiredChains.set(k.name, new Set());
        retiredChains.get(k.name)!.add(replaced);
      }
    };

    // Indices: every open or hidden one, since indices that wired templates created are in no record.
    const all = d.indexSettings;
    const finalAfter = new Map<string, string | undefined>();
    const defaults = new Set<string>();
    for (const [index, v] of Object.entries(all).sort(([a], [b]) => a.localeCompare(b))) {
      const cur = getIndexSetting((v as Obj).settings, "final_pipeline");
      const def = getIndexSetting((v as Obj).settings, "default_pipeline").value;
      if (def) defaults.add(def);
      finalAfter.set(index, cur.value);
      const rec = old.indices[index];
      if (rec && cur.value === rec.after) {
        settingActions.push({ kind: "index-setting", index, before: cur, after: rec.before, why: "unwire" });
        finalAfter.set(index, rec.before.value);
        continue;
      }
      const r = spliceOut(name, cur.value, others, (own) =>
        rec && rec.after === own ? rec.before : impliedBefore(name, own, old.chains),
      );
      if (!r) {
        if (rec)
          warnings.push(`index ${index}: index.final_pipeline changed since install (${showSetting(cur)}); left as is`);
        continue;
      }
      settingActions.push({ kind: "index-setting", index, before: cur, after: r.value, why: "unwire" });
      finalAfter.set(index, r.value.value);
      if (r.other) {
        applyOther(r.other, cur.value!);
        const krec = others.find((s) => s.name === r.other!.name)!.indices[index];
        if (krec) {
          krec.before = r.other.before;
          krec.after = r.value.value!;
        }
      }
    }

    // Templates: ours are restored; other installs' templates that chain ours are re-wired.
    const { templates, components, pipelines } = d;
    const templateFinals: string[] = [];
    for (const c of components.values()) {
      const f = getIndexSetting(c?.template?.settings, "final_pipeline").value;
      if (f) templateFinals.push(f);
    }
    for (const t of templates) {
      const key = templateKey(t.kind, t.name);
      const rec: TemplateRecord | undefined = old.templates[key];
      const curFinal = getIndexSetting(ownSettings(t), "final_pipeline");
      const def = getIndexSetting(ownSettings(t), "default_pipeline").value;
      if (def) defaults.add(def);
      const recAfterFinal = rec
        ? getIndexSetting(ownSettings({ kind: rec.kind, body: rec.after }), "final_pipeline").value
        : undefined;
      const r =
        rec && curFinal.value === recAfterFinal
          ? undefined
          : spliceOut(name, curFinal.value, others, (own) =>
              rec && recAfterFinal === own
                ? rec.previous_final
                  ? { present: true, value: rec.previous_final }
                  : { present: false }
                : impliedBefore(name, own, old.chains),
            );
      if (!r || !r.other) {
        if (rec) {
          const acts = templateRestore(rec, t, warnings);
          templateActions.push(...acts);
          const a = acts[0];
          templateFinals.push(
            ...(a && a.kind === "template"
              ? a.op === "delete"
                ? []
                : [a.finalAfter.value ?? ""]
              : [curFinal.value ?? ""]),
          );
        } else if (curFinal.value) templateFinals.push(curFinal.value);
        continue;
      }
      // Another install's wiring over ours: it keeps the template, now over what we replaced.
      const body = structuredClone(t.body);
      if (t.kind === "legacy") body.settings = withIndexSetting(body.settings, "final_pipeline", r.value.value);
      else
        body.template = {
          ...(body.template ?? {}),
          settings: withIndexSetting(body.template?.settings, "final_pipeline", r.value.value),
        };
      templateActions.push({
        kind: "template",
        template: t.kind,
        name: t.name,
        op: "update",
        finalBefore: curFinal,
        finalAfter: r.value,
        mappingsAdded: [],
        body,
      });
      templateFinals.push(r.value.value!);
      applyOther(r.other, curFinal.value!);
      const k = others.find((s) => s.name === r.other!.name)!;
      const krec = k.templates[key];
      if (krec) {
        if (rec) {
          krec.before = rec.before;
          if (rec.previous_final) krec.previous_final = rec.previous_final;
          else delete krec.previous_final;
        } else if (usable(r.other.before)) krec.previous_final = usable(r.other.before);
        else delete krec.previous_final;
        krec.after = body;
      }
    }

    // The other installs' records, and the chains they no longer use.
    for (const k of others) {
      if (!touched.has(k.name)) continue;
      for (const id of retiredChains.get(k.name) ?? []) delete k.chains[id];
      const version = records.find((r) => r.state.name === k.name)!.version;
      recordActions.push({ kind: "other-state", name: k.name, state: k, version });
    }
    for (const [id, previous] of [...newChains].sort()) {
      const k = id.slice(0, id.length - `-chain-${previous}`.length);
      if (!Object.hasOwn(pipelines, id))
        createChains.push({
          kind: "chain",
          id,
          op: "create",
          previous,
          body: chainDocument(d.info, k, previous),
        });
    }

    // Pipelines to delete: ours and the retired chains, unless something still calls them.
    const candidates = new Map<string, Action>();
    for (const [id, previous] of Object.entries(old.chains))
      candidates.set(id, { kind: "chain", id, op: "delete", previous });
    for (const [k, ids] of retiredChains)
      for (const id of ids)
        if (!newChains.has(id)) candidates.set(id, { kind: "chain", id, op: "delete", previous: `${k}'s previous` });
    if (pipeline) candidates.set(name, { kind: "pipeline", id: name, op: "delete", fromVersion: pipeline.version });
    // Our own chains may be named by prefix only (created by a template's index): add those too.
    for (const id of Object.keys(pipelines))
      if (id !== name && isOurs(name, id) && !candidates.has(id))
        candidates.set(id, { kind: "chain", id, op: "delete", previous: id.slice(`${name}-chain-`.length) });
    const users = new Map<string, string[]>();
    const use = (p: string | undefined, by: string) => {
      if (!p || !candidates.has(p)) return;
      if (!users.has(p)) users.set(p, []);
      users.get(p)!.push(by);
    };
    for (const [index, f] of finalAfter) use(f, `index ${index}`);
    for (const f of templateFinals) use(f, "an index template");
    for (const d of defaults) use(d, "a default_pipeline");
    for (const [id, doc] of Object.entries(pipelines))
      if (!candidates.has(id)) for (const c of calledPipelines(doc)) use(c, `pipeline ${id}`);
    for (const [id, previous] of newChains) use(previous, `pipeline ${id}`);
    // A kept pipeline keeps what it calls.
    for (let grew = true; grew; ) {
      grew = false;
      for (const id of [...users.keys()])
        for (const c of calledPipelines(pipelines[id]))
          if (candidates.has(c) && !users.get(c)?.includes(`pipeline ${id}`)) {
            use(c, `pipeline ${id}`);
            grew = true;
          }
    }
    for (const [id, a] of [...candidates].sort(([x], [y]) => (x === name ? 1 : y === name ? -1 : x.localeCompare(y)))) {
      const by = users.get(id);
      if (by)
        warnings.push(
          `pipeline ${id} kept: still called by ${[...new Set(by)].slice(0, 3).join(", ")}; deleting it would make those writes fail`,
        );
      else deletes.push(a);
    }
  } else if (pipeline) {
    deletes.push({ kind: "pipeline", id: name, op: "delete", fromVersion: pipeline.version });
  }
  const actions: Action[] = [...createChains, ...templateActions, ...settingActions, ...recordActions, ...deletes];
  if (old) actions.push({ kind: "state", op: "delete" });
  const state = old ?? {
    name,
    tool_version: "",
    version: 0,
    hash: "",
    patterns: [],
    installed_at: "",
    updated_at: "",
    chains: {},
    indices: {},
    templates: {},
  };
  return {
    name,
    version: pipeline?.version ?? old?.version ?? 0,
    previousVersion: pipeline?.version,
    ruleCount: meta?.rule_count ?? 0,
    hash: meta?.hash ?? old?.hash ?? "",
    actions,
    warnings,
    state,
    pendingState: state,
    removesState: true,
  };
}

export type { StateVersion };
