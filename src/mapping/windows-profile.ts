/**
 * The machinery the built-in profiles (`winlogbeat`, `ecs`) share: Windows logsources become
 * channel/event-id guards from windows-sources.ts, Sigma fields become index fields through each
 * source's renames and then the profile's own naming, keyword search covers a fixed field list, and
 * other products are searched by field name unchanged in a generic index.
 */
import { and, or, TRUE } from "../ir/build.ts";
import type { Field, Node } from "../ir/types.ts";
import type { Logsource, LogsourceTarget, Profile, Resolved } from "./profile.ts";
import { sourceViews } from "./source-views.ts";
import { CORPUS_FIELDS } from "./windows-corpus-fields.ts";
import { PARAM_FIELDS, windowsSources, type WindowsSource } from "./windows-sources.ts";
import { normLogsource, own } from "./lookup.ts";

export interface WindowsProfileSpec {
  name: string;
  timeField: string;
  /** Index patterns for product windows. */
  windowsIndex: string[];
  /** Index patterns for every other product (and for logsources with no product). */
  otherIndex: string[];
  channelField: string;
  eventIdField: string;
  /** Where Windows' EventData and UserData values live, e.g. `winlog.event_data.` / `winlog.user_data.`. */
  eventDataPrefix: string;
  userDataPrefix: string;
  /**
   * Index field names for a Sigma field of a Windows event, after the source's rename
   * (`sigmaField` is already e.g. `NewProcessName` for Security 4688). An empty list means the
   * profile has no field for it.
   */
  windowsFieldNames(sigmaField: string, ls: Logsource): string[];
  /** Index type of a field name (see Profile.fieldType). */
  fieldType(indexField: string): Field;
  /** Fields every Windows keyword search covers besides the mapped event fields, e.g. `message`. */
  keywordExtra: string[];
  indexTemplate(): { settings?: Record<string, unknown>; mappings: Record<string, unknown> };
}

/**
 * Profile.guardCosts of the built-in profiles and sigmac files: the channel and provider fields of
 * Winlogbeat and ECS carry every event of a source, the event code and id most of one. One table for
 * every profile (each names fields the others lack), so a rule set is keyed alike under each.
 */
export const WINDOWS_GUARD_COSTS: Readonly<Record<string, number>> = {
  "winlog.channel": 150,
  "winlog.provider_name": 150,
  "event.provider": 150,
  "event.module": 150,
  "event.code": 110,
  "winlog.event_id": 100,
};

export function isWindows(ls: Logsource): boolean {
  return ls.product !== undefined && String(ls.product).toLowerCase() === "windows";
}

/** Services whose events may carry unnamed `<Data>` values (param1..N) that keyword search must see. */
function hasUnnamedData(ls: Logsource): boolean {
  if (ls.service !== undefined) return true;
  const cat = ls.category?.toLowerCase();
  if (cat === undefined) return true;
  return cat.startsWith("ps_classic_");
}

/** The CORPUS_FIELDS key for a Windows logsource; `windows` when it names neither. */
function corpusKey(ls: Logsource): string[] {
  if (ls.category) return [`category:${ls.category.toLowerCase()}`];
  if (ls.service) return [`service:${ls.service.toLowerCase()}`];
  return Object.keys(CORPUS_FIELDS);
}

export function makeWindowsProfile(spec: WindowsProfileSpec): Profile {
  const channel = spec.fieldType(spec.channelField);
  const eventId = spec.fieldType(spec.eventIdField);

  function eventIdTest(id: number): Node {
    if (eventId.type === "long") return { kind: "number", field: eventId, op: "eq", value: id };
    return { kind: "equals", field: eventId, value: String(id), cased: true };
  }

  function sourceGuard(s: WindowsSource): Node {
    const ch = or(s.channels.map((c) => ({ kind: "equals", field: channel, value: c, cased: false }) as Node));
    const ids = s.eventIds ? or(s.eventIds.map(eventIdTest)) : TRUE;
    return and([ch, ids]);
  }

  function logsource(rawLs: Logsource): Resolved<LogsourceTarget> {
    const ls = normLogsource(rawLs);
    if (!isWindows(ls)) return { index: [...spec.otherIndex], guard: TRUE };
    const r = windowsSources(ls);
    if ("unsupported" in r) return { unsupported: `${r.unsupported} in profile ${spec.name}` };
    if (r.sources === null) return { index: [...spec.windowsIndex], guard: TRUE };
    return {
      index: [...spec.windowsIndex],
      guard: or(r.sources.map(sourceGuard)),
      sources: r.sources.map((s) => ({
        label: s.label,
        channels: [...s.channels],
        ...(s.eventIds ? { eventIds: [...s.eventIds] } : {}),
      })),
      ...sourceViews(
        r.sources,
        sourceGuard,
        (name, i) => cachedField(name, ls, i),
        (i) => cachedKeywordFields(ls, i),
      ),
    };
  }

  /** `only`: the index of one of the logsource's sources, whose names alone are used (see Profile.bySource). */
  function field(sigmaField: string, rawLs: Logsource, only?: number): Resolved<Field[]> {
    const ls = normLogsource(rawLs);
    if (sigmaField.trim() === "") return { unsupported: "empty field name" };
    if (!isWindows(ls)) return [spec.fieldType(sigmaField)];
    const r = windowsSources(ls);
    if ("unsupported" in r) return { unsupported: `${r.unsupported} in profile ${spec.name}` };
    const names: string[] = [];
    const add = (n: string) => {
      if (!names.includes(n)) names.push(n);
    };
    const sources = r.sources ?? [undefined];
    for (const s of only === undefined ? sources : sources.slice(only, only + 1)) {
      const renamed = (s?.renames && own(s.renames, sigmaField)) ?? sigmaField;
      for (const one of typeof renamed === "string" ? [renamed] : renamed) {
        for (const n of spec.windowsFieldNames(one, ls)) {
          add(n);
          // UserData sources: the same name under user_data (event data only, not System fields).
          if (s?.userData && n.startsWith(spec.eventDataPrefix))
            add(spec.userDataPrefix + n.slice(spec.eventDataPrefix.length));
        }
      }
    }
    if (names.length === 0) {
      return { unsupported: `field '${sigmaField}' has no mapping in profile ${spec.name}` };
    }
    return names.map((n) => spec.fieldType(n));
  }

  function keywordFields(rawLs: Logsource, only?: number): Field[] {
    const ls = normLogsource(rawLs);
    if (!isWindows(ls)) return spec.keywordExtra.map((n) => spec.fieldType(n));
    const names = new Set<string>();
    // Keyword search is text search: numeric, boolean and ip fields are left out.
    const add = (sigmaName: string) => {
      const f = field(sigmaName, ls, only);
      if (Array.isArray(f)) for (const x of f) if (x.type === "keyword" || x.type === "text") names.add(x.name);
    };
    if (!("unsupported" in windowsSources(ls))) {
      for (const key of corpusKey(ls)) for (const f of own(CORPUS_FIELDS, key) ?? []) add(f);
      if (hasUnnamedData(ls)) add("Data");
    }
    for (const n of spec.keywordExtra) names.delete(n);
    return [...[...names].sort(), ...spec.keywordExtra].map((n) => spec.fieldType(n));
  }

  // Compiling a corpus asks the same questions thousands of times: answer each once. Callers get
  // fresh arrays, so nothing they do to a result changes the cache.
  const lsKey = (ls: Logsource) => {
    const n = normLogsource(ls);
    return `${n.product ?? ""}\u0000${n.category ?? ""}\u0000${n.service ?? ""}`;
  };
  const targets = new Map<string, Resolved<LogsourceTarget>>();
  const fieldsBy = new Map<string, Resolved<Field[]>>();
  const keywordsBy = new Map<string, Field[]>();
  function cachedField(sigmaField: string, ls: Logsource, only?: number): Resolved<Field[]> {
    const k = `${lsKey(ls)}\u0000${sigmaField}\u0000${only ?? ""}`;
    let r = fieldsBy.get(k);
    if (!r) fieldsBy.set(k, (r = field(sigmaField, ls, only)));
    return isUnsupportedResult(r) ? r : [...r];
  }
  function cachedKeywordFields(ls: Logsource, only?: number): Field[] {
    const k = `${lsKey(ls)}\u0000${only ?? ""}`;
    let r = keywordsBy.get(k);
    if (!r) keywordsBy.set(k, (r = keywordFields(ls, only)));
    return [...r];
  }

  return {
    name: spec.name,
    timeField: spec.timeField,
    logsource(ls) {
      const k = lsKey(ls);
      let r = targets.get(k);
      if (!r) targets.set(k, (r = logsource(ls)));
      return isUnsupportedResult(r) ? r : { ...r, index: [...r.index] };
    },
    field: (sigmaField, ls) => cachedField(sigmaField, ls),
    keywordFields: (ls) => cachedKeywordFields(ls),
    fieldType: spec.fieldType,
    guardCosts: WINDOWS_GUARD_COSTS,
    indexTemplate: spec.indexTemplate,
  };
}

function isUnsupportedResult<T>(r: Resolved<T>): r is { unsupported: string } {
  return typeof r === "object" && r !== null && !Array.isArray(r) && "unsupported" in r;
}

/** `Data` (the list of unnamed values) as the param fields under a prefix. */
export function paramFields(prefix: string): string[] {
  return PARAM_FIELDS.map((p) => prefix + p);
}
