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

/** What every step of `planInstall` reads and adds to: the discovery, the options, and the plan so far. */
interface Planning {
  d: InstallDiscovery;
  opts: InstallOptions;
  name: string;
  patterns: string[];
  now: string;
  /** This install's record as it stands on the cluster. */
  old?: InstallState;
  actions: Action[];
  warnings: string[];
  /** Wiring pipeline id → the final pipeline it runs before ours. */
  chains: Map<string, string>;
  /** The setting names a pipeline of another install stacked on ours (its chain runs ours first). */
  stackedOnUs: (v: string | undefined) => boolean;
}

/**
 * The plan of an install from what `discoverInstall` read (install-discovery.ts): makes no request.
 * Throws UsageError when a pipeline of that name exists that outliers did not install. The steps:
 * the tagging pipeline, the existing indices, the index templates (and our own for bare patterns),
 * Fleet hook warnings, what the patterns no longer name, the wiring pipelines, then the record and
 * the order of the actions.
 */
export function planInstall(d: InstallDiscovery, opts: InstallOptions): Plan {
  const old = d.state;
  // Another install stacked on ours: what it wires stays as it is, and our record of what was there
  // before it stays too (uninstall.ts splices us out later).
  const othersStates = old ? d.otherStates : [];
  const p: Planning = {
    d,
    opts,
    name: opts.name,
    patterns: opts.patterns,
    now: (opts.now ?? new Date()).toISOString(),
    old,
    actions: [],
    warnings: [],
    chains: new Map(),
    stackedOnUs: (v) =>
      v !== undefined &&
      !isOurs(opts.name, v) &&
      spliceOut(opts.name, v, othersStates, () => ({ present: false })) !== undefined,
  };
  const noIngestNode = warnNoIngestNode(p);
  const { version, previousVersion } = planTaggingPipeline(p);
  const indices = planIndices(p);
  const templates = planTemplates(p);
  warnIntegrationHooks(p, templates);
  const unwire = planUnwire(p, indices, templates);
  const staleChains = planChains(p);
  return finishPlan(p, { version, previousVersion, indices, templates, unwire, staleChains, noIngestNode });
}

/** Without an ingest node, every write to an index with a final pipeline is rejected: the plan says so (applyPlan refuses it). */
function warnNoIngestNode(p: Planning): boolean {
  if (p.d.ingestNodes !== 0) return false;
  p.warnings.push(
    "no node of this cluster has the ingest role: wiring a pipeline would make every write to the wired indices fail; install refuses to apply",
  );
  return true;
}

/** The tagging pipeline: created, updated when its rules or body changed, else left alone. */
function planTaggingPipeline(p: Planning): { version: number; previousVersion?: number } {
  const { d, name, old, now } = p;
  const { compiled } = p.opts;
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
    tool_version: changed ? p.opts.toolVersion : existingMeta!.tool_version,
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
    p.actions.push({
      kind: "pipeline",
      id: name,
      op: existing ? "update" : "create",
      fromVersion: previousVersion,
      toVersion: version,
      body: pipelineDocument(d.info, compiled, meta, version),
    });
  return { version, previousVersion };
}

/** Existing indices: the tag fields mapped, `index.final_pipeline` set to ours (or a chain running theirs first). */
function planIndices(p: Planning): Record<string, IndexRecord> {
  const { name, old, chains } = p;
  const newIndices: Record<string, IndexRecord> = {};
  for (const [index, info] of p.d.indices) {
    const rec = old?.indices[index];
    const cur = info.final;
    if (p.stackedOnUs(cur.value)) {
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
    const add = missingTagMappings(info.properties, p.opts.extraKeys);
    for (const b of add.blocked)
      p.warnings.push(`index ${index}: ${b} cannot be mapped (a parent field is not an object); left alone`);
    if (add.fields.length)
      p.actions.push({ kind: "index-mapping", index, fields: add.fields, properties: add.properties });
    if (cur.value !== target)
      p.actions.push({ kind: "index-setting", index, before: cur, after: sv(target), why: "wire" });
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
  if (p.d.indices.size === 0)
    p.warnings.push(`no open index matches ${p.patterns.join(",")} yet; only templates are wired`);
  return newIndices;
}

/** The user's index templates that lie inside the patterns, then our own legacy template for bare patterns. */
function planTemplates(p: Planning): Record<string, TemplateRecord> {
  const newTemplates: Record<string, TemplateRecord> = {};
  const others = p.d.templates.filter((t) => !(t.kind === "legacy" && t.name === ownTemplateName(p.name)));
  for (const t of others) {
    const rec = wireTemplate(p, t, others);
    if (rec) newTemplates[templateKey(t.kind, t.name)] = rec;
  }
  const own = planOwnTemplate(p, others);
  if (own) newTemplates[templateKey("legacy", ownTemplateName(p.name))] = own;
  return newTemplates;
}

/** One user template: wired when all its patterns lie inside ours (else a warning when it touches them). */
function wireTemplate(p: Planning, t: TemplateInfo, others: TemplateInfo[]): TemplateRecord | undefined {
  const { name, patterns, old, chains } = p;
  if (t.patterns.length === 0) return undefined;
  if (t.patterns.some((tp) => !reachable(tp, patterns))) return undefined; // a template for '.' indices: never ours to wire
  const covered = t.patterns.every((tp) => patterns.some((pat) => globCovers(pat, tp)));
  if (!covered) {
    const touches = t.patterns.some((tp) => patterns.some((pat) => globOverlaps(pat, tp)));
    if (touches)
      p.warnings.push(
        `${t.kind} template ${t.name} (${t.patterns.join(",")}) reaches beyond ${patterns.join(",")}: not wired; new indices it creates are not tagged`,
      );
    return undefined;
  }
  const rec = old?.templates[templateKey(t.kind, t.name)];
  const ownFinal = getIndexSetting(ownSettings(t), "final_pipeline");
  if (p.stackedOnUs(ownFinal.value)) {
    if (rec?.previous_final) chains.set(chainName(name, rec.previous_final), rec.previous_final);
    return rec;
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
      p.warnings.push(
        `legacy template ${t.name}: not wired, its indices may take index.final_pipeline from legacy template ${giver.name} (lower order), which setting it here would override`,
      );
      return undefined;
    }
  }
  const before = wiredByUs ? rec!.before : t.body;
  const prevFinal = wiredByUs ? rec!.previous_final : effectiveFinal(t, p.d.components).value;
  const previous = prevFinal && prevFinal !== "_none" && !isOurs(name, prevFinal) ? prevFinal : undefined;
  const target = previous ? chainName(name, previous) : name;
  if (previous) chains.set(target, previous);
  const add = missingTagMappings(effectiveProperties(t, p.d.components), p.opts.extraKeys);
  for (const b of add.blocked)
    p.warnings.push(
      `${t.kind} template ${t.name}: ${b} cannot be mapped (a parent field is not an object); left alone`,
    );
  const body = wiredBody(t.kind, t.body, target, add.properties);
  if (!same(body, t.body))
    p.actions.push({
      kind: "template",
      template: t.kind,
      name: t.name,
      op: "update",
      finalBefore: ownFinal,
      finalAfter: sv(target),
      mappingsAdded: add.fields,
      body,
    });
  return {
    kind: t.kind,
    name: t.name,
    before,
    after: body,
    ...(previous ? { previous_final: previous } : {}),
    mappings_added: [...new Set([...(rec?.mappings_added ?? []), ...add.fields])],
  };
}

/** Our own legacy template `<name>-wiring` for the patterns that no template touches at all. */
function planOwnTemplate(p: Planning, others: TemplateInfo[]): TemplateRecord | undefined {
  const { name, old } = p;
  const ownName = ownTemplateName(name);
  const bare = p.patterns.filter((pat) => !others.some((t) => t.patterns.some((tp) => globOverlaps(pat, tp))));
  const ownCurrent = p.d.templates.find((t) => t.kind === "legacy" && t.name === ownName);
  const ownRec = old?.templates[templateKey("legacy", ownName)];
  if (ownCurrent && ownRec && p.stackedOnUs(getIndexSetting(ownCurrent.body.settings, "final_pipeline").value))
    return ownRec;
  if (!bare.length) return undefined;
  const tagMappings = missingTagMappings(undefined, p.opts.extraKeys);
  const body: Obj = {
    order: 0,
    index_patterns: bare,
    settings: { index: { final_pipeline: name } },
    mappings: { properties: tagMappings.properties },
    aliases: {},
  };
  if (!ownCurrent || !same(ownCurrent.body, body))
    p.actions.push({
      kind: "template",
      template: "legacy",
      name: ownName,
      op: ownCurrent ? "update" : "create",
      finalBefore: getIndexSetting(ownCurrent?.body.settings, "final_pipeline"),
      finalAfter: sv(name),
      mappingsAdded: tagMappings.fields,
      body,
    });
  return { kind: "legacy", name: ownName, before: null, after: body, mappings_added: tagMappings.fields };
}

/**
 * Fleet integration pipelines call `<type>-<dataset>@custom`. We wire through the final pipeline
 * instead (it also covers indices without such a hook, and keeps Fleet's final pipeline), and say so:
 * Fleet rewrites its own index templates when an integration is upgraded, so install must be re-run then.
 */
function warnIntegrationHooks(p: Planning, newTemplates: Record<string, TemplateRecord>): void {
  const defaults = new Set<string>();
  for (const info of p.d.indices.values()) if (info.default) defaults.add(info.default);
  for (const t of p.d.templates) {
    if (t.kind === "legacy" && t.name === ownTemplateName(p.name)) continue;
    const def = getIndexSetting(ownSettings(t), "default_pipeline").value;
    if (def && Object.keys(newTemplates).includes(templateKey(t.kind, t.name))) defaults.add(def);
  }
  for (const def of [...defaults].sort()) {
    const hooks = entry(p.d.hooks, def) ?? [];
    if (hooks.length)
      p.warnings.push(
        `default pipeline ${def} has the integration hook ${hooks.join(", ")}: outliers wires index.final_pipeline instead (chaining any final pipeline); re-run install after upgrading the integration, as Fleet rewrites its templates`,
      );
  }
}

/** Items wired before that the patterns no longer name: what was there is put back. */
function planUnwire(
  p: Planning,
  newIndices: Record<string, IndexRecord>,
  newTemplates: Record<string, TemplateRecord>,
): Action[] {
  const { old, d } = p;
  const unwire: Action[] = [];
  if (!old) return unwire;
  for (const [index, rec] of Object.entries(old.indices)) {
    if (newIndices[index]) continue;
    const cur = d.recorded.get(index);
    if (!cur) continue; // deleted since
    if (cur.value === rec.after)
      unwire.push({ kind: "index-setting", index, before: cur, after: rec.before, why: "unwire" });
    else
      p.warnings.push(`index ${index}: index.final_pipeline changed since install (${showSetting(cur)}); left as is`);
  }
  // Indices a wired template created (in no record) that the patterns no longer name.
  for (const a of strayIndices(
    d.finals,
    p.name,
    old.chains,
    new Set([...Object.keys(old.indices), ...d.indices.keys()]),
  ))
    unwire.push(a);
  for (const [key, rec] of Object.entries(old.templates)) {
    if (newTemplates[key]) continue;
    unwire.push(
      ...templateRestore(
        rec,
        d.templates.find((t) => templateKey(t.kind, t.name) === key),
        p.warnings,
      ),
    );
  }
  return unwire;
}

/** Wiring pipelines: those needed are created or updated; returns the ones no longer needed (deleted last). */
function planChains(p: Planning): [string, string][] {
  for (const [id, previous] of [...p.chains].sort()) {
    const body = chainDocument(p.d.info, p.name, previous);
    const cur = entry(p.d.pipelines, id);
    if (!cur || !same(cur, body)) p.actions.push({ kind: "chain", id, op: cur ? "update" : "create", previous, body });
  }
  return Object.entries(p.old?.chains ?? {}).filter(([id]) => !p.chains.has(id));
}

/** The install record after the plan, the record written before it (with what is still to unwire), and the actions in order. */
function finishPlan(
  p: Planning,
  s: {
    version: number;
    previousVersion?: number;
    indices: Record<string, IndexRecord>;
    templates: Record<string, TemplateRecord>;
    unwire: Action[];
    staleChains: [string, string][];
    noIngestNode: boolean;
  },
): Plan {
  const { name, old, now, actions } = p;
  const { compiled } = p.opts;
  const base: Omit<InstallState, "updated_at" | "tool_version"> = {
    name,
    version: s.version,
    hash: compiled.hash,
    patterns: p.patterns,
    installed_at: old?.installed_at ?? now,
    chains: Object.fromEntries([...p.chains].sort()),
    indices: s.indices,
    templates: s.templates,
  };
  const unchangedState = old !== undefined && same({ ...old, updated_at: undefined, tool_version: undefined }, base);
  const state: InstallState = unchangedState ? old! : { ...base, tool_version: p.opts.toolVersion, updated_at: now };
  const pendingState: InstallState = {
    ...state,
    chains: { ...Object.fromEntries(s.staleChains), ...state.chains },
    indices: {
      ...Object.fromEntries(Object.entries(old?.indices ?? {}).filter(([i]) => !s.indices[i])),
      ...state.indices,
    },
    templates: {
      ...Object.fromEntries(Object.entries(old?.templates ?? {}).filter(([k]) => !s.templates[k])),
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
    ...s.unwire,
    ...s.staleChains.map(([id, previous]) => ({ kind: "chain", id, op: "delete", previous }) as Action),
  ];
  return {
    name,
    version: s.version,
    previousVersion: s.previousVersion,
    ruleCount: compiled.ruleIds.length,
    hash: compiled.hash,
    actions: ordered,
    warnings: p.warnings,
    state,
    pendingState,
    noIngestNode: s.noIngestNode,
    stateVersion: p.d.stateVersion,
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
  const restore = (body: Obj): Action[] => [
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
  if (same(current.body, rec.after)) return restore(rec.before);
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
    return restore(body);
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
