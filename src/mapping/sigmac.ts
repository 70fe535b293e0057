/**
 * Profiles from sigmac-style mapping files (the `tools/config/*.yml` format of the legacy Sigma
 * converter):
 *
 *   title: …                      # optional; also order, backends, placeholders (ignored)
 *   logsources:
 *     <name>:
 *       product: windows          # product/category/service: the entry applies to a rule whose
 *       category: process_creation#   logsource has all the keys given here (case-insensitive)
 *       service: …
 *       index: winlogbeat-*       # string or list
 *       conditions:               # become the guard: AND over fields, OR over a field's values
 *         winlog.channel: Microsoft-Windows-Sysmon/Operational
 *         winlog.event_id: [1, 4688]
 *       rewrite: …                # accepted and ignored (only matters for chained configs)
 *   logsourcemerging: and         # `and` (default) or `or`: how conditions of several matching
 *                                 #   entries combine
 *   defaultindex: logs-*          # string or list; index when no matching entry names one
 *   fieldmappings:
 *     Image: winlog.event_data.Image          # one target (no value: the name unchanged)
 *     dst_ip: [destination.ip, dst.ip]        # several targets, ORed
 *     CommandLine:                            # conditional on the rule's logsource
 *       category=process_creation: process.command_line
 *       service=powershell-classic: powershell.command.value
 *       default: winlog.event_data.CommandLine
 *   keywordfields: [message]      # extension: fields a keyword searches (default: message)
 *
 * Fields with no mapping keep their Sigma name (as sigmac did). Conditional mappings may test
 * `product`, `category` and `service`; sigmac's conditions on detection values (`EventID=4688`)
 * are not supported (the field resolves as unsupported, with that reason). Field types come from
 * the `winlogbeat` profile's table (winlog.event_id long, address fields ip, message text, the rest
 * keyword), and so does the index template.
 */
import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { and, or, TRUE } from "../ir/build.ts";
import type { Field, Node } from "../ir/types.ts";
import { InputError } from "../util/errors.ts";
import type { Logsource, LogsourceTarget, Profile, Resolved } from "./profile.ts";
import { normLogsource, own } from "./lookup.ts";
import { CORPUS_FIELDS } from "./windows-corpus-fields.ts";
import { WINDOWS_GUARD_COSTS } from "./windows-profile.ts";
import { winlogbeatFieldType, winlogbeatProfile } from "./winlogbeat.ts";

type LsKey = "product" | "category" | "service";
const LS_KEYS: LsKey[] = ["product", "category", "service"];

interface LogsourceEntry {
  name: string;
  match: Partial<Record<LsKey, string>>;
  index: string[];
  /** field → accepted values (ORed); fields ANDed. */
  conditions: [string, Array<string | number | boolean>][];
}

type Mapping =
  | { kind: "list"; targets: string[] }
  | {
      kind: "conditional";
      byLogsource: { key: LsKey; value: string; targets: string[] }[];
      /** Conditions on detection values, e.g. `EventID=4688` (not supported). */
      byValue: string[];
      default?: string[];
    };

export interface SigmacConfig {
  title?: string;
  logsources: LogsourceEntry[];
  merging: "and" | "or";
  defaultIndex: string[];
  fieldmappings: Map<string, Mapping>;
  keywordFields?: string[];
}

const TOP_KEYS = [
  "title",
  "order",
  "backends",
  "logsources",
  "logsourcemerging",
  "defaultindex",
  "fieldmappings",
  "placeholders",
  "keywordfields",
];
const ENTRY_KEYS = ["product", "category", "service", "index", "conditions", "rewrite", "sources"];

/** Reads and validates a sigmac mapping file; errors name the file, line and key path. */
export function parseSigmacConfig(file: string, text: string): SigmacConfig {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new InputError(pos ? `${file}:${pos.line}:${pos.col}` : file, `invalid YAML: ${e.message.split("\n")[0]}`);
  }
  // `file:line: key.path` where line is that of the last key of the path.
  const where = (path: (string | number)[]): string => {
    if (path.length === 0) return file;
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (!isMap(node)) break;
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    }
    const range = (keyNode as { range?: [number, number, number] } | undefined)?.range;
    const at = range ? lc.linePos(range[0]) : undefined;
    return `${at && at.line > 0 ? `${file}:${at.line}` : file}: ${path.join(".")}`;
  };
  const fail = (path: (string | number)[], msg: string): never => {
    throw new InputError(where(path), msg);
  };

  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) fail([], "empty mapping file");
  if (!isObject(root)) fail([], "expected a map with `fieldmappings`, `logsources` and/or `defaultindex`");
  const top = root as Record<string, unknown>;
  for (const k of Object.keys(top)) {
    if (!TOP_KEYS.includes(k)) fail([k], `unknown key '${k}' (expected one of: ${TOP_KEYS.join(", ")})`);
  }

  const strings = (path: (string | number)[], v: unknown, what: string): string[] => {
    if (typeof v === "string" && v !== "") return [v];
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x !== "")) return v as string[];
    return fail(path, `expected ${what} (a string or a list of strings)`);
  };

  const cfg: SigmacConfig = {
    title: typeof top.title === "string" ? top.title : undefined,
    logsources: [],
    merging: "and",
    defaultIndex: [],
    fieldmappings: new Map(),
  };

  if (top.logsourcemerging !== undefined) {
    if (top.logsourcemerging !== "and" && top.logsourcemerging !== "or") {
      fail(["logsourcemerging"], "expected `and` or `or`");
    }
    cfg.merging = top.logsourcemerging as "and" | "or";
  }
  if (top.defaultindex !== undefined)
    cfg.defaultIndex = strings(["defaultindex"], top.defaultindex, "an index pattern");
  if (top.keywordfields !== undefined) cfg.keywordFields = strings(["keywordfields"], top.keywordfields, "field names");

  if (top.logsources !== undefined && top.logsources !== null) {
    if (!isObject(top.logsources)) fail(["logsources"], "expected a map of named logsource entries");
    for (const [name, e] of Object.entries(top.logsources as Record<string, unknown>)) {
      const p = ["logsources", name];
      if (!isObject(e)) fail(p, "expected a map with product/category/service, index and conditions");
      const entry = e as Record<string, unknown>;
      for (const k of Object.keys(entry)) {
        if (!ENTRY_KEYS.includes(k)) fail([...p, k], `unknown key '${k}' (expected one of: ${ENTRY_KEYS.join(", ")})`);
      }
      const match: Partial<Record<LsKey, string>> = {};
      for (const k of LS_KEYS) {
        const v = entry[k];
        if (v === undefined || v === null) continue;
        if (typeof v !== "string" || v === "") fail([...p, k], `expected a ${k} name`);
        match[k] = (v as string).toLowerCase();
      }
      const index =
        entry.index === undefined || entry.index === null
          ? []
          : strings([...p, "index"], entry.index, "an index pattern");
      const conditions: LogsourceEntry["conditions"] = [];
      if (entry.conditions !== undefined && entry.conditions !== null) {
        if (!isObject(entry.conditions)) fail([...p, "conditions"], "expected a map of field to value(s)");
        for (const [f, v] of Object.entries(entry.conditions as Record<string, unknown>)) {
          const vals = Array.isArray(v) ? v : [v];
          if (vals.length === 0 || !vals.every((x) => ["string", "number", "boolean"].includes(typeof x))) {
            fail([...p, "conditions", f], "expected a value or a list of values (strings or numbers)");
          }
          conditions.push([f, vals as Array<string | number | boolean>]);
        }
      }
      cfg.logsources.push({ name, match, index, conditions });
    }
  }

  if (top.fieldmappings !== undefined && top.fieldmappings !== null) {
    if (!isObject(top.fieldmappings)) fail(["fieldmappings"], "expected a map of Sigma field to index field(s)");
    for (const [src, target] of Object.entries(top.fieldmappings as Record<string, unknown>)) {
      const p = ["fieldmappings", src];
      if (target === null) {
        // `Field:` with no value: sigmac kept the name as it is.
        cfg.fieldmappings.set(src, { kind: "list", targets: [src] });
        continue;
      }
      if (typeof target === "string" || Array.isArray(target)) {
        cfg.fieldmappings.set(src, { kind: "list", targets: strings(p, target, "an index field name") });
        continue;
      }
      if (!isObject(target)) fail(p, "expected an index field name, a list of names, or a map of conditions");
      const m: Extract<Mapping, { kind: "conditional" }> = { kind: "conditional", byLogsource: [], byValue: [] };
      for (const [cond, t] of Object.entries(target as Record<string, unknown>)) {
        const targets = strings([...p, cond], t, "an index field name");
        if (cond === "default") {
          m.default = targets;
          continue;
        }
        const eq = cond.indexOf("=");
        if (eq <= 0) fail([...p, cond], "expected `default` or a condition `product=…`, `category=…`, `service=…`");
        const key = cond.slice(0, eq).trim();
        const value = cond
          .slice(eq + 1)
          .trim()
          .toLowerCase();
        if ((LS_KEYS as string[]).includes(key)) m.byLogsource.push({ key: key as LsKey, value, targets });
        else m.byValue.push(cond);
      }
      cfg.fieldmappings.set(src, m);
    }
  }
  return cfg;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function entryMatches(e: LogsourceEntry, ls: Logsource): boolean {
  for (const k of LS_KEYS) {
    const want = e.match[k];
    if (want !== undefined && ls[k]?.toLowerCase() !== want) return false;
  }
  return true;
}

function conditionNode(field: string, values: Array<string | number | boolean>): Node {
  const f = winlogbeatFieldType(field);
  return or(
    values.map((v): Node => {
      if (typeof v === "number" && (f.type === "long" || f.type === "double")) {
        return { kind: "number", field: f, op: "eq", value: v };
      }
      return { kind: "equals", field: f, value: String(v), cased: false };
    }),
  );
}

export function sigmacProfile(file: string, cfg: SigmacConfig): Profile {
  const name = `mapping file ${file}`;

  function logsource(rawLs: Logsource): Resolved<LogsourceTarget> {
    const ls = normLogsource(rawLs);
    const matched = cfg.logsources.filter((e) => entryMatches(e, ls));
    const index: string[] = [];
    for (const e of matched) for (const i of e.index) if (!index.includes(i)) index.push(i);
    if (index.length === 0) index.push(...(cfg.defaultIndex.length > 0 ? cfg.defaultIndex : ["*"]));
    const perEntry = matched
      .filter((e) => e.conditions.length > 0)
      .map((e) => and(e.conditions.map(([f, v]) => conditionNode(f, v))));
    const guard = perEntry.length === 0 ? TRUE : cfg.merging === "or" ? or(perEntry) : and(perEntry);
    return { index, guard };
  }

  function targetsFor(sigmaField: string, ls: Logsource): Resolved<string[]> {
    const m = cfg.fieldmappings.get(sigmaField);
    if (!m) return [sigmaField];
    if (m.kind === "list") return m.targets;
    const out: string[] = [];
    for (const c of m.byLogsource) {
      if (ls[c.key]?.toLowerCase() === c.value) for (const t of c.targets) if (!out.includes(t)) out.push(t);
    }
    if (out.length > 0) return out;
    if (m.byValue.length > 0) {
      return {
        unsupported: `field '${sigmaField}' in ${name}: conditional mapping on detection values (${m.byValue.join(", ")}) is not supported, only product=/category=/service= conditions and default`,
      };
    }
    return m.default ?? [sigmaField];
  }

  function field(sigmaField: string, rawLs: Logsource): Resolved<Field[]> {
    const ls = normLogsource(rawLs);
    if (sigmaField.trim() === "") return { unsupported: "empty field name" };
    const t = targetsFor(sigmaField, ls);
    if (!Array.isArray(t)) return t;
    return t.map((n) => winlogbeatFieldType(n));
  }

  function keywordFields(rawLs: Logsource): Field[] {
    const ls = normLogsource(rawLs);
    if (cfg.keywordFields) return cfg.keywordFields.map((n) => winlogbeatFieldType(n));
    // Same source list as the built-in profiles: the corpus's fields for Windows logsources,
    // mapped through this file, plus `message`.
    const names = new Set<string>();
    if (ls.product?.toLowerCase() === "windows") {
      const keys = ls.category
        ? [`category:${ls.category.toLowerCase()}`]
        : ls.service
          ? [`service:${ls.service.toLowerCase()}`]
          : Object.keys(CORPUS_FIELDS);
      for (const k of keys) {
        for (const f of own(CORPUS_FIELDS, k) ?? []) {
          const r = field(f, ls);
          if (Array.isArray(r)) for (const x of r) if (x.type === "keyword" || x.type === "text") names.add(x.name);
        }
      }
    }
    names.delete("message");
    return [...[...names].sort(), "message"].map((n) => winlogbeatFieldType(n));
  }

  return {
    name,
    timeField: "@timestamp",
    logsource,
    field,
    keywordFields,
    fieldType: winlogbeatFieldType,
    guardCosts: WINDOWS_GUARD_COSTS,
    indexTemplate: winlogbeatProfile.indexTemplate,
  };
}

/** Loads a sigmac mapping file as a profile; InputError naming the file when unreadable or bad. */
export function loadSigmacProfile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      file,
      code === "ENOENT" ? "no such mapping file" : `cannot read mapping file: ${(e as Error).message}`,
    );
  }
  return sigmacProfile(file, parseSigmacConfig(file, text));
}
