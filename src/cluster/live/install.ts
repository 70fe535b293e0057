/**
 * `pipeline install`: put the tagging pipeline and wire it into the indices and index templates that
 * the user's patterns name, keeping whatever final pipeline was there running, and recording what was
 * there before so that `uninstall` restores it exactly.
 *
 * Wiring uses `index.final_pipeline`, which runs after the default (or request) pipeline, so a
 * winlogbeat module's `default_pipeline` keeps running untouched and its output is what gets tagged.
 * Where a final pipeline already exists (Fleet's `.fleet_final_pipeline-1`, for instance) a wiring
 * pipeline `<name>-chain-<previous>` runs it first, then ours: the previous pipeline's output is
 * tagged and its effect is kept. Index templates are wired only when all their patterns lie inside
 * the user's patterns; for patterns no template touches at all, a legacy template `<name>-wiring`
 * (order 0, which merges with and never shadows other templates) sets the final pipeline for new
 * indices.
 *
 * Everything is planned first (the plan is what `--dry-run` prints) and then applied; an install with
 * nothing to change writes nothing.
 */
import type { Cluster } from "../connection/client.ts";
import {
  type CompiledPipeline,
  type PipelineDoc,
  type PipelineMeta,
  bodyHash,
  canonical,
  chainDocument,
  chainName,
  pipelineDocument,
  readPipelineMeta,
} from "./pipeline-body.ts";
import {
  type IndexRecord,
  type InstallState,
  type SettingValue,
  type TemplateKind,
  type TemplateRecord,
  STATE_INDEX,
  type StateVersion,
  deleteState,
  templateKey,
  writeState,
} from "./install-state.ts";
import { asList, type InstallDiscovery, type TemplateInfo } from "./install-discovery.ts";
import { isOurs, spliceOut } from "./install-stack.ts";
import { globCovers, globOverlaps } from "../connection/patterns.ts";
import { reachable } from "../connection/guards.ts";
import { rest, seg } from "../connection/rest.ts";
import { getIndexSetting, showSetting, withIndexSetting } from "../connection/settings-access.ts";
import { mergeProperties, missingTagMappings } from "./tag-mappings.ts";
import { UsageError } from "../../util/errors.ts";

type Obj = Record<string, any>;

export interface InstallOptions {
  name: string;
  patterns: string[];
  compiled: CompiledPipeline;
  toolVersion: string;
  /** ee-outliers extra keys the rules write under `outliers.`, mapped like the other tag fields. */
  extraKeys?: string[];
  now?: Date;
}

export type Action =
  | {
      kind: "pipeline";
      id: string;
      op: "create" | "update" | "delete";
      fromVersion?: number;
      toVersion?: number;
      body?: PipelineDoc;
    }
  | { kind: "chain"; id: string; op: "create" | "update" | "delete"; previous: string; body?: PipelineDoc }
  | { kind: "index-mapping"; index: string; fields: string[]; properties: Obj }
  | { kind: "index-setting"; index: string; before: SettingValue; after: SettingValue; why: "wire" | "unwire" }
  | {
      kind: "template";
      template: TemplateKind;
      name: string;
      op: "create" | "update" | "restore" | "delete";
      finalBefore: SettingValue;
      finalAfter: SettingValue;
      mappingsAdded: string[];
      body?: Obj;
    }
  | { kind: "state"; op: "write" | "delete" }
  /** Uninstall: another install stacked on this one, its record rewritten to what it now wires. */
  | { kind: "other-state"; name: string; state: InstallState; version: StateVersion };

export interface Plan {
  name: string;
  version: number;
  previousVersion?: number;
  ruleCount: number;
  hash: string;
  actions: Action[];
  warnings: string[];
  /** The install record after the plan is applied. */
  state: InstallState;
  /** The record with the items still to be unwired, written before touching anything. */
  pendingState: InstallState;
  /** Uninstall: the record is deleted at the end instead of rewritten. */
  removesState?: boolean;
  /** The cluster has no ingest node: the plan must not be applied. */
  noIngestNode?: boolean;
  /** Where the install record stood when planned; writes are conditional on it. */
  stateVersion?: StateVersion;
}

export const ownTemplateName = (name: string) => `${name}-wiring`;

/**
 * What an index that a wired template created (so it is in no install record) had before us: the
 * template's previous final pipeline for a chain, nothing for the tagging pipeline itself.
 */
export function impliedBefore(name: string, current: string, chains: Record<string, string>): SettingValue {
  if (current === name) return { present: false };
  const previous = chains[current] ?? current.slice(`${name}-chain-`.length);
  return { present: true, value: previous };
}

export { isOurs };

/** o[k] when o has its own k. */
function entry<T>(o: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function sv(value: string | undefined): SettingValue {
  return value === undefined ? { present: false } : { present: true, value };
}

/** The template's own settings / mappings object (legacy at the top, composable under `template`). */
export function ownSettings(t: TemplateInfo | { kind: TemplateKind; body: Obj }): Obj | undefined {
  return t.kind === "legacy" ? t.body.settings : t.body.template?.settings;
}

function ownMappings(t: { kind: TemplateKind; body: Obj }): Obj | undefined {
  return t.kind === "legacy" ? t.body.mappings : t.body.template?.mappings;
}

/** For composable templates, component templates come first and the template's own settings win. */
function effectiveFinal(t: TemplateInfo, components: Map<string, Obj>): SettingValue {
  const own = getIndexSetting(ownSettings(t), "final_pipeline");
  if (own.present || t.kind === "legacy") return own;
  let found: SettingValue = { present: false };
  for (const c of asList(t.body.composed_of)) {
    const v = getIndexSetting(components.get(c)?.template?.settings, "final_pipeline");
    if (v.present) found = v;
  }
  return found;
}

function effectiveProperties(t: TemplateInfo, components: Map<string, Obj>): Obj {
  let merged: Obj = {};
  if (t.kind === "composable")
    for (const c of asList(t.body.composed_of))
      merged = mergeProperties(
        { properties: merged },
        components.get(c)?.template?.mappings?.properties ?? {},
      ).properties;
  return mergeProperties({ properties: merged }, ownMappings(t)?.properties ?? {}).properties;
}

function wiredBody(kind: TemplateKind, body: Obj, final: string, addProps: Obj): Obj {
  const out: Obj = structuredClone(body);
  if (kind === "legacy") {
    out.settings = withIndexSetting(out.settings, "final_pipeline", final);
    if (Object.keys(addProps).length) out.mappings = mergeProperties(out.mappings, addProps);
  } else {
    out.template = out.template ? { ...out.template } : {};
    out.template.settings = withIndexSetting(out.template.settings, "final_pipeline", final);
    if (Object.keys(addProps).length) out.template.mappings = mergeProperties(out.template.mappings, addProps);
  }
  return out;
}

/**
 * The plan of an install from what `discoverInstall` read (install-discovery.ts): makes no request.
 * Throws UsageError when a pipeline of that name exists that outliers did not install.
 */
export function planInstall(d: InstallDiscovery, opts: InstallOptions): Plan {
  const { name, patterns, compiled } = opts;
  const now = (opts.now ?? new Date()).toISOString();
  const actions: Action[] = [];
  const warnings: string[] = [];
  const { state: old, stateVersion } = d;
  // Another install stacked on ours (its chain runs our pipeline first): what it wires stays as it is,
  // and our record of what was there before it stays too (uninstall.ts splices us out later).
  const othersStates = old ? d.otherStates : [];
  const stackedOnUs = (v: string | undefined) =>
    v !== undefined && !isOurs(name, v) && spliceOut(name, v, othersStates, () => ({ present: false })) !== undefined;

  // 0. Without an ingest node, every write to an index with a final pipeline is rejected: wiring
  // would stop the user's ingest. The plan says so; applying it is refused (applyPlan).
  const noIngestNode = d.ingestNodes === 0;
  if (noIngestNode)
    warnings.push(
      "no node of this cluster has the ingest role: wiring a pipeline would make every write to the wired indices fail; install refuses to apply",
    );

  // 1. The tagging pipeline.
  const existing = entry(d.pipelines, name);
  const existingMeta = readPipelineMeta(existing);
  if (existing && !existingMeta)
    throw new UsageError(`pipeline ${name} exists and was not installed by outliers; choose another --name`);
  const bh = bodyHash(compiled);
  const changed =
    !existing ||
    existingMeta!.body_hash !== bh ||
    existingMeta!.hash !== compiled.hash ||
    !same(existingMeta!.rule_ids, compiled.ruleIds) ||
    !same(existingMeta!.rule_hashes, compiled.ruleHashes);
  const previousVersion = existing?.version;
  const version = !existing ? (old?.version ?? 0) + 1 : changed ? (previousVersion ?? 0) + 1 : (previousVersion ?? 1);
  const meta: PipelineMeta = {
    tool: "outliers",
    tool_version: changed ? opts.toolVersion : existingMeta!.tool_version,
    rule_count: compiled.ruleIds.length,
    rule_ids: compiled.ruleIds,
    ...(compiled.ruleHashes ? { rule_hashes: compiled.ruleHashes } : {}),
    hash: compiled.hash,
    body_hash: bh,
    installed_at: existingMeta?.installed_at ?? old?.installed_at ?? now,
    updated_at: changed ? now : existingMeta!.updated_at,
    state: `${STATE_INDEX}/${name}`,
  };
  if (changed)
    actions.push({
      kind: "pipeline",
      id: name,
      op: existing ? "update" : "create",
      fromVersion: previousVersion,
      toVersion: version,
      body: pipelineDocument(d.info, compiled, meta, version),
    });

  // 2. Existing indices.
  const chains = new Map<string, string>();
  const indices = d.indices;
  const newIndices: Record<string, IndexRecord> = {};
  for (const [index, info] of indices) {
    const rec = old?.indices[index];
    const cur = info.final;
    if (stackedOnUs(cur.value)) {
      if (rec) {
        newIndices[index] = rec;
        if (old!.chains[rec.after] !== undefined) chains.set(rec.after, old!.chains[rec.after]!);
      }
      continue;
    }
    const before: SettingValue = isOurs(name, cur.value)
      ? (rec?.before ?? impliedBefore(name, cur.value!, old?.chains ?? {}))
      : cur;
    const previous =
      before.present && before.value !== "_none" && !isOurs(name, before.value) ? before.value : undefined;
    const target = previous ? chainName(name, previous) : name;
    if (previous) chains.set(target, previous);
    const add = missingTagMappings(info.properties, opts.extraKeys);
    for (const b of add.blocked)
      warnings.push(`index ${index}: ${b} cannot be mapped (a parent field is not an object); left alone`);
    if (add.fields.length)
      actions.push({ kind: "index-mapping", index, fields: add.fields, properties: add.properties });
    if (cur.value !== target)
      actions.push({ kind: "index-setting", index, before: cur, after: sv(target), why: "wire" });
    // An index a wired template created is already right and in no record: uninstall finds it by its
    // setting, so recording it would only make a re-install write.
    if (!rec && cur.value === target && add.fields.length === 0) continue;
    newIndices[index] = {
      before,
      after: target,
      ...(info.default ? { default_pipeline: info.default } : {}),
      mappings_added: [...new Set([...(rec?.mappings_added ?? []), ...add.fields])],
    };
  }
  if (indices.size === 0) warnings.push(`no open index matches ${patterns.join(",")} yet; only templates are wired`);

  // 3. Index templates.
  const { templates, components } = d;
  const ownName = ownTemplateName(name);
  const newTemplates: Record<string, TemplateRecord> = {};
  const others = templates.filter((t) => !(t.kind === "legacy" && t.name === ownName));
  for (const t of others) {
    if (t.patterns.length === 0) continue;
    if (t.patterns.some((tp) => !reachable(tp, patterns))) continue; // a template for '.' indices: never ours to wire
    const covered = t.patterns.every((tp) => patterns.some((p) => globCovers(p, tp)));
    if (!covered) {
      const touches = t.patterns.some((tp) => patterns.some((p) => globOverlaps(p, tp)));
      if (touches)
        warnings.push(
          `${t.kind} template ${t.name} (${t.patterns.join(",")}) reaches beyond ${patterns.join(",")}: not wired; new indices it creates are not tagged`,
        );
      continue;
    }
    const key = templateKey(t.kind, t.name);
    const rec = old?.templates[key];
    const ownFinal = getIndexSetting(ownSettings(t), "final_pipeline");
    if (stackedOnUs(ownFinal.value)) {
      if (rec) {
        newTemplates[key] = rec;
        if (rec.previous_final) chains.set(chainName(name, rec.previous_final), rec.previous_final);
      }
      continue;
    }
    const wiredByUs = rec !== undefined && isOurs(name, ownFinal.value);
    if (t.kind === "legacy" && !wiredByUs && !ownFinal.present) {
      // Legacy templates merge by order: setting a final pipeline here would override, for indices
      // matching both, the final pipeline a lower-order template gives them. Leave it to that one.
      const order = Number(t.body.order ?? 0);
      const giver = others.find(
        (o) =>
          o !== t &&
          o.kind === "legacy" &&
          Number(o.body.order ?? 0) <= order &&
          getIndexSetting(ownSettings(o), "final_pipeline").present &&
          o.patterns.some((op) => t.patterns.some((tp) => globOverlaps(op, tp))),
      );
      if (giver) {
        warnings.push(
          `legacy template ${t.name}: not wired, its indices may take index.final_pipeline from legacy template ${giver.name} (lower order), which setting it here would override`,
        );
        continue;
      }
    }
    const before = wiredByUs ? rec!.before : t.body;
    const prevFinal = wiredByUs ? rec!.previous_final : effectiveFinal(t, components).value;
    const previous = prevFinal && prevFinal !== "_none" && !isOurs(name, prevFinal) ? prevFinal : undefined;
    const target = previous ? chainName(name, previous) : name;
    if (previous) chains.set(target, previous);
    const add = missingTagMappings(effectiveProperties(t, components), opts.extraKeys);
    for (const b of add.blocked)
      warnings.push(
        `${t.kind} template ${t.name}: ${b} cannot be mapped (a parent field is not an object); left alone`,
      );
    const body = wiredBody(t.kind, t.body, target, add.properties);
    if (!same(body, t.body))
      actions.push({
        kind: "template",
        template: t.kind,
        name: t.name,
        op: "update",
        finalBefore: ownFinal,
        finalAfter: sv(target),
        mappingsAdded: add.fields,
        body,
      });
    newTemplates[key] = {
      kind: t.kind,
      name: t.name,
      before,
      after: body,
      ...(previous ? { previous_final: previous } : {}),
      mappings_added: [...new Set([...(rec?.mappings_added ?? []), ...add.fields])],
    };
  }
  // Our own legacy template for patterns that no template touches at all.
  const bare = patterns.filter((p) => !others.some((t) => t.patterns.some((tp) => globOverlaps(p, tp))));
  const ownCurrent = templates.find((t) => t.kind === "legacy" && t.name === ownName);
  const ownRec = old?.templates[templateKey("legacy", ownName)];
  if (ownCurrent && ownRec && stackedOnUs(getIndexSetting(ownCurrent.body.settings, "final_pipeline").value)) {
    newTemplates[templateKey("legacy", ownName)] = ownRec;
  } else if (bare.length) {
    const body: Obj = {
      order: 0,
      index_patterns: bare,
      settings: { index: { final_pipeline: name } },
      mappings: { properties: missingTagMappings(undefined, opts.extraKeys).properties },
      aliases: {},
    };
    const key = templateKey("legacy", ownName);
    if (!ownCurrent || !same(ownCurrent.body, body))
      actions.push({
        kind: "template",
        template: "legacy",
        name: ownName,
        op: ownCurrent ? "update" : "create",
        finalBefore: getIndexSetting(ownCurrent?.body.settings, "final_pipeline"),
        finalAfter: sv(name),
        mappingsAdded: missingTagMappings(undefined, opts.extraKeys).fields,
        body,
      });
    newTemplates[key] = {
      kind: "legacy",
      name: ownName,
      before: null,
      after: body,
      mappings_added: missingTagMappings(undefined, opts.extraKeys).fields,
    };
  }

  // Fleet integration pipelines call `<type>-<dataset>@custom`. We wire through the final pipeline
  // instead (it also covers indices without such a hook, and keeps Fleet's final pipeline), and say so:
  // Fleet rewrites its own index templates when an integration is upgraded, so install must be re-run then.
  const defaults = new Set<string>();
  for (const info of indices.values()) if (info.default) defaults.add(info.default);
  for (const t of others) {
    const def = getIndexSetting(ownSettings(t), "default_pipeline").value;
    if (def && Object.keys(newTemplates).includes(templateKey(t.kind, t.name))) defaults.add(def);
  }
  for (const def of [...defaults].sort()) {
    const hooks = entry(d.hooks, def) ?? [];
    if (hooks.length)
      warnings.push(
        `default pipeline ${def} has the integration hook ${hooks.join(", ")}: outliers wires index.final_pipeline instead (chaining any final pipeline); re-run install after upgrading the integration, as Fleet rewrites its templates`,
      );
  }

  // 4. Items wired before that the patterns no longer name: put back what was there.
  const unwire: Action[] = [];
  if (old) {
    const present = d.recorded;
    for (const [index, rec] of Object.entries(old.indices)) {
      if (newIndices[index]) continue;
      const cur = present.get(index);
      if (!cur) continue; // deleted since
      if (cur.value === rec.after)
        unwire.push({ kind: "index-setting", index, before: cur, after: rec.before, why: "unwire" });
      else
        warnings.push(`index ${index}: index.final_pipeline changed since install (${showSetting(cur)}); left as is`);
    }
    // Indices a wired template created (in no record) that the patterns no longer name.
    for (const a of strayIndices(d.finals, name, old.chains, new Set([...Object.keys(old.indices), ...indices.keys()])))
      unwire.push(a);
    for (const [key, rec] of Object.entries(old.templates)) {
      if (newTemplates[key]) continue;
      unwire.push(
        ...templateRestore(
          rec,
          templates.find((t) => templateKey(t.kind, t.name) === key),
          warnings,
        ),
      );
    }
  }

  // 5. Wiring pipelines: create what is needed, delete what no longer is (after the rewiring).
  for (const [id, previous] of [...chains].sort()) {
    const body = chainDocument(d.info, name, previous);
    const cur = entry(d.pipelines, id);
    if (!cur || !same(cur, body)) actions.push({ kind: "chain", id, op: cur ? "update" : "create", previous, body });
  }
  const staleChains = Object.entries(old?.chains ?? {}).filter(([id]) => !chains.has(id));

  const base: Omit<InstallState, "updated_at" | "tool_version"> = {
    name,
    version,
    hash: compiled.hash,
    patterns,
    installed_at: old?.installed_at ?? now,
    chains: Object.fromEntries([...chains].sort()),
    indices: newIndices,
    templates: newTemplates,
  };
  const unchangedState = old !== undefined && same({ ...old, updated_at: undefined, tool_version: undefined }, base);
  const state: InstallState = unchangedState ? old! : { ...base, tool_version: opts.toolVersion, updated_at: now };
  const pendingState: InstallState = {
    ...state,
    chains: { ...Object.fromEntries(staleChains), ...state.chains },
    indices: {
      ...Object.fromEntries(Object.entries(old?.indices ?? {}).filter(([i]) => !newIndices[i])),
      ...state.indices,
    },
    templates: {
      ...Object.fromEntries(Object.entries(old?.templates ?? {}).filter(([k]) => !newTemplates[k])),
      ...state.templates,
    },
  };

  // Order: pipelines exist before anything points at them; the record is written before any index
  // or template changes; mappings before settings, so the first tagged event finds its fields mapped.
  // The record goes first: it is also the lock (a conditional write) against a concurrent install.
  const ordered: Action[] = [
    ...(unchangedState ? [] : [{ kind: "state", op: "write" } as Action]),
    ...actions.filter((a) => a.kind === "pipeline"),
    ...actions.filter((a) => a.kind === "chain"),
    ...actions.filter((a) => a.kind === "index-mapping"),
    ...actions.filter((a) => a.kind === "template"),
    ...actions.filter((a) => a.kind === "index-setting"),
    ...unwire,
    ...staleChains.map(([id, previous]) => ({ kind: "chain", id, op: "delete", previous }) as Action),
  ];
  return {
    name,
    version,
    previousVersion,
    ruleCount: compiled.ruleIds.length,
    hash: compiled.hash,
    actions: ordered,
    warnings,
    state,
    pendingState,
    noIngestNode,
    stateVersion,
  };
}

/**
 * Indices using our pipelines that no record lists (wired templates created them while we were
 * installed), outside `known`: the actions giving them what their template gives without us, so that
 * none is left pointing at a pipeline we delete. `finals`: every index's final pipeline (finalPipelines).
 */
export function strayIndices(
  finals: Record<string, SettingValue>,
  name: string,
  chains: Record<string, string>,
  known: Set<string>,
): Action[] {
  const out: Action[] = [];
  for (const [index, cur] of Object.entries(finals).sort(([a], [b]) => a.localeCompare(b))) {
    if (known.has(index)) continue;
    if (!isOurs(name, cur.value)) continue;
    out.push({
      kind: "index-setting",
      index,
      before: cur,
      after: impliedBefore(name, cur.value!, chains),
      why: "unwire",
    });
  }
  return out;
}

/** The actions that put a template back as it was before we wired it. */
export function templateRestore(
  rec: TemplateRecord,
  current: { kind: TemplateKind; name: string; body: Obj } | undefined,
  warnings: string[],
): Action[] {
  const label = `${rec.kind} template ${rec.name}`;
  if (!current) return []; // deleted since: nothing to restore
  const finalAfter = getIndexSetting(ownSettings({ kind: rec.kind, body: rec.after }), "final_pipeline");
  const curFinal = getIndexSetting(ownSettings(current), "final_pipeline");
  if (rec.before === null) {
    return [
      {
        kind: "template",
        template: rec.kind,
        name: rec.name,
        op: "delete",
        finalBefore: curFinal,
        finalAfter: { present: false },
        mappingsAdded: [],
      },
    ];
  }
  const beforeFinal = getIndexSetting(ownSettings({ kind: rec.kind, body: rec.before }), "final_pipeline");
  if (same(current.body, rec.after)) {
    return [
      {
        kind: "template",
        template: rec.kind,
        name: rec.name,
        op: "restore",
        finalBefore: curFinal,
        finalAfter: beforeFinal,
        mappingsAdded: [],
        body: rec.before,
      },
    ];
  }
  if (curFinal.value === finalAfter.value) {
    // Changed by someone else since: undo only our setting, keep their changes (and our mappings).
    warnings.push(
      `${label} changed since install: only index.final_pipeline is put back; its other changes and the tag mappings stay`,
    );
    const body = structuredClone(current.body);
    if (rec.kind === "legacy") body.settings = withIndexSetting(body.settings, "final_pipeline", beforeFinal.value);
    else
      body.template = {
        ...(body.template ?? {}),
        settings: withIndexSetting(body.template?.settings, "final_pipeline", beforeFinal.value),
      };
    return [
      {
        kind: "template",
        template: rec.kind,
        name: rec.name,
        op: "restore",
        finalBefore: curFinal,
        finalAfter: beforeFinal,
        mappingsAdded: [],
        body,
      },
    ];
  }
  warnings.push(`${label}: index.final_pipeline changed since install (${showSetting(curFinal)}); left as is`);
  return [];
}

/** Applies the plan's actions in order. */
export async function applyPlan(cluster: Cluster, plan: Plan, log: (line: string) => void = () => {}): Promise<void> {
  if (plan.noIngestNode)
    throw new UsageError(
      `${cluster.url} has no node with the ingest role: wiring pipeline ${plan.name} would make every write to the wired indices fail; add an ingest node first (outliers doctor)`,
    );
  let stateVersion = plan.stateVersion;
  const settingGroups = new Map<string, string[]>();
  const flushSettings = async () => {
    for (const [value, names] of settingGroups) {
      const v = JSON.parse(value) as SettingValue;
      for (let k = 0; k < names.length; k += 50) {
        const chunk = names.slice(k, k + 50);
        await rest(
          cluster,
          "PUT",
          `/${chunk.map(seg).join(",")}/_settings`,
          { "index.final_pipeline": v.present ? v.value : null },
          {
            what: `set index.final_pipeline on ${chunk.join(",")}`,
          },
        );
      }
    }
    settingGroups.clear();
  };
  for (const a of plan.actions) {
    if (a.kind !== "index-setting") await flushSettings();
    switch (a.kind) {
      case "pipeline":
        if (a.op === "delete")
          await rest(cluster, "DELETE", `/_ingest/pipeline/${seg(a.id)}`, undefined, {
            allow404: true,
            what: `delete pipeline ${a.id}`,
          });
        else await rest(cluster, "PUT", `/_ingest/pipeline/${seg(a.id)}`, a.body, { what: `put pipeline ${a.id}` });
        break;
      case "chain":
        if (a.op === "delete")
          await rest(cluster, "DELETE", `/_ingest/pipeline/${seg(a.id)}`, undefined, {
            allow404: true,
            what: `delete pipeline ${a.id}`,
          });
        else await rest(cluster, "PUT", `/_ingest/pipeline/${seg(a.id)}`, a.body, { what: `put pipeline ${a.id}` });
        break;
      case "state":
        if (a.op === "delete") await deleteState(cluster, plan.name);
        else stateVersion = await writeState(cluster, plan.pendingState, stateVersion);
        break;
      case "other-state":
        await writeState(cluster, a.state, a.version);
        break;
      case "index-mapping":
        await rest(
          cluster,
          "PUT",
          `/${seg(a.index)}/_mapping`,
          { properties: a.properties },
          { what: `add tag mappings to ${a.index}` },
        );
        break;
      case "template": {
        const path = a.template === "legacy" ? `/_template/${seg(a.name)}` : `/_index_template/${seg(a.name)}`;
        if (a.op === "delete")
          await rest(cluster, "DELETE", path, undefined, {
            allow404: true,
            what: `delete ${a.template} template ${a.name}`,
          });
        else await rest(cluster, "PUT", path, a.body, { what: `put ${a.template} template ${a.name}` });
        break;
      }
      case "index-setting": {
        const key = JSON.stringify(a.after);
        if (!settingGroups.has(key)) settingGroups.set(key, []);
        settingGroups.get(key)!.push(a.index);
        break;
      }
    }
    log(describeAction(a));
  }
  await flushSettings();
  // Items unwired or chains removed: the final record no longer holds them.
  if (!plan.removesState && !same(plan.pendingState, plan.state)) await writeState(cluster, plan.state, stateVersion);
}

export function describeAction(a: Action): string {
  switch (a.kind) {
    case "pipeline":
      return a.op === "delete"
        ? `pipeline ${a.id}: delete (version ${a.fromVersion ?? "-"})`
        : `pipeline ${a.id}: ${a.op}, version ${a.fromVersion ?? "-"} → ${a.toVersion}`;
    case "chain":
      return a.op === "delete"
        ? `pipeline ${a.id}: delete (no longer needed)`
        : `pipeline ${a.id}: ${a.op} (runs ${a.previous}, then the tagging pipeline)`;
    case "state":
      return `install record ${STATE_INDEX}: ${a.op}`;
    case "other-state":
      return `install record ${STATE_INDEX}/${a.name}: rewritten (${a.name} no longer runs through this pipeline)`;
    case "index-mapping":
      return `index ${a.index}: add mappings ${a.fields.join(", ")}`;
    case "index-setting":
      return `index ${a.index}: index.final_pipeline ${showSetting(a.before)} → ${showSetting(a.after)}${a.why === "unwire" ? " (restored)" : ""}`;
    case "template":
      return `${a.template} template ${a.name}: ${a.op}, index.final_pipeline ${showSetting(a.finalBefore)} → ${showSetting(a.finalAfter)}${a.mappingsAdded.length ? `; add mappings ${a.mappingsAdded.join(", ")}` : ""}`;
  }
}

/** A plan in JSON: actions without the (large) pipeline bodies. */
export function planJson(plan: Plan): Obj {
  return {
    name: plan.name,
    version: plan.version,
    previousVersion: plan.previousVersion ?? null,
    ruleCount: plan.ruleCount,
    hash: plan.hash,
    changes: plan.actions.length,
    actions: plan.actions.map((a) => {
      const { body: _body, properties: _props, state: _state, version: _version, ...rest } = a as Obj;
      return { ...rest, description: describeAction(a) };
    }),
    warnings: plan.warnings,
    indices: Object.keys(plan.state.indices),
    templates: Object.values(plan.state.templates).map((t) => `${t.kind}:${t.name}`),
    chains: plan.state.chains,
  };
}
