/**
 * ee-outliers configuration files into use-case specifications: the `[simplequery_…]` sections
 * with their keys checked, the whitelists, and per section the problems found, each naming the
 * file, the section and the line. One bad section never stops the others.
 *
 * Whitelists (ee-outliers documentation/WHITELIST.md and its settings code):
 * - `[whitelist_literals]` and `[whitelist_regexps]` in any loaded file apply to every use case;
 * - `[whitelist_literals_<section>]` / `[whitelist_regexps_<section>]` (e.g.
 *   `[whitelist_literals_simplequery_dummy_test]`) apply to that use case only;
 * - keys named `whitelist_literals…` / `whitelist_regexps…` inside a use-case section are entries
 *   of that use case's whitelist (ee-outliers reserves the `whitelist_` prefix for per-model
 *   whitelists and never copies such keys into the outlier).
 * Each entry is a comma-separated list whose parts must all match (literal: some value of the
 * event equals the part exactly; regexp: some value matches it with Python `re.match`, i.e.
 * anchored at the start, case-insensitive).
 */
import { parseIni, type IniFile, type IniKey, type IniSection } from "./configparser.ts";
import { isLevel, LEVELS } from "../../ir/levels.ts";
import { locatedMessage, type RuleLocation } from "../../ir/errors.ts";

export interface WhitelistEntry {
  kind: "literal" | "regexp";
  /** The comma-separated parts, trimmed; all must match. */
  parts: string[];
  where: string;
}

export interface UseCaseSpec {
  path: string;
  section: string;
  line: number;
  /** Section name without `simplequery_`. */
  modelName: string;
  dslFilter?: { text: string; line: number };
  queryFilter?: { text: string; line: number };
  index: string[];
  types: string[];
  reason: string;
  summary: string;
  runModel: boolean;
  timestampField?: string;
  historyWindowHours?: number;
  /** `level = high`: the Sigma level the use case's hits carry (outliers.level); unset: the default. */
  level?: string;
  extra: Record<string, string>;
  whitelist: WhitelistEntry[];
}

export type UseCaseRead =
  | { status: "ok"; spec: UseCaseSpec; warnings: string[] }
  | { status: "error" | "unsupported"; path: string; section?: string; error: string; location?: RuleLocation };

/** Keys of a simplequery section that ee-outliers itself uses (never copied under `outliers.`). */
const KNOWN = new Set([
  "es_query_filter",
  "es_dsl_filter",
  "es_index",
  "outlier_type",
  "outlier_reason",
  "outlier_summary",
  "run_model",
  "test_model",
  "timestamp_field",
  "history_window_days",
  "history_window_hours",
  "should_notify",
  "use_derived_fields",
  "highlight_match",
  "process_documents_chronologically",
  "level",
]);

/** Section prefixes of ee-outliers model types this tool does not run (they are statistical). */
const OTHER_MODELS = ["metrics", "terms", "sudden_appearance", "word2vec", "beaconing", "autoencoder", "svm", "test"];

/** configparser's `getboolean`. */
function bool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (["1", "yes", "true", "on"].includes(s)) return true;
  if (["0", "no", "false", "off"].includes(s)) return false;
  return undefined;
}

function entries(sec: IniSection, kind: "literal" | "regexp", path: string): WhitelistEntry[] {
  return [...sec.keys.values()].map((k) => entry(kind, k, `${path}:${k.line}: [${sec.name}] ${k.key}`));
}

function entry(kind: "literal" | "regexp", k: IniKey, where: string): WhitelistEntry {
  return { kind, parts: k.value.split(",").map((p) => p.trim()), where };
}

/**
 * Reads several files together: whitelists in any of them are global, a use case may have its
 * per-model whitelist section in another file, and a section name may be used only once.
 */
export function readUseCaseFiles(files: { path: string; text: string }[]): UseCaseRead[] {
  const parsed: IniFile[] = files.map((f) => parseIni(f.path, f.text));
  const out: UseCaseRead[] = [];
  const global: WhitelistEntry[] = [];
  const perModel = new Map<string, WhitelistEntry[]>();
  const firstSeen = new Map<string, string>();

  for (const file of parsed) {
    for (const e of file.errors) out.push({ status: "error", path: file.path, error: e });
    for (const sec of file.sections) {
      const n = sec.name;
      if (n === "whitelist_literals" || n === "whitelist_regexps") {
        global.push(...entries(sec, n === "whitelist_literals" ? "literal" : "regexp", file.path));
      } else if (n.startsWith("whitelist_literals_") || n.startsWith("whitelist_regexps_")) {
        const lit = n.startsWith("whitelist_literals_");
        const target = n.slice(lit ? "whitelist_literals_".length : "whitelist_regexps_".length);
        perModel.set(target, [...(perModel.get(target) ?? []), ...entries(sec, lit ? "literal" : "regexp", file.path)]);
      } else continue;
      for (const e of sec.errors) out.push({ status: "error", path: file.path, section: n, error: e });
    }
  }

  for (const file of parsed) {
    for (const sec of file.sections) {
      const name = sec.name;
      const location: RuleLocation = { path: file.path, line: sec.line, section: name };
      if (name.startsWith("whitelist_") || name === "DEFAULT") continue;
      if (!name.startsWith("simplequery_")) {
        const other = OTHER_MODELS.find((p) => name.startsWith(p + "_"));
        if (other) {
          out.push({
            status: "unsupported",
            path: file.path,
            section: name,
            error: locatedMessage(
              location,
              `${other} models are statistical ee-outliers models and are not supported (only simplequery use cases are)`,
            ),
            location,
          });
        }
        // Other sections ([general], [notifier], [assets], [derivedfields], …) are ee-outliers settings.
        continue;
      }
      const prev = firstSeen.get(name);
      if (prev) {
        out.push({
          status: "error",
          path: file.path,
          section: name,
          error: locatedMessage(location, `use case already defined at ${prev}`),
          location,
        });
        continue;
      }
      firstSeen.set(name, `${file.path}:${sec.line}`);
      if (sec.errors.length) {
        out.push({ status: "error", path: file.path, section: name, error: sec.errors.join("; ") });
        continue;
      }
      out.push(readSection(file.path, sec, global, perModel.get(name) ?? []));
    }
  }
  return out;
}

function readSection(path: string, sec: IniSection, global: WhitelistEntry[], perModel: WhitelistEntry[]): UseCaseRead {
  const name = sec.name;
  const place = `${path}:${sec.line}: [${name}]`;
  const fail = (msg: string, line?: number): UseCaseRead => {
    const location: RuleLocation = { path, line: line ?? sec.line, section: name };
    return { status: "error", path, section: name, error: locatedMessage(location, msg), location };
  };
  const get = (k: string) => sec.keys.get(k);
  const warnings: string[] = [];

  const dsl = get("es_dsl_filter");
  const qs = get("es_query_filter");
  if (dsl && qs) {
    // ee-outliers silently lets es_dsl_filter win; two filters are almost always a mistake.
    return fail(
      `both es_dsl_filter (line ${dsl.line}) and es_query_filter (line ${qs.line}) are set; keep one (ee-outliers would ignore es_query_filter)`,
      qs.line,
    );
  }
  if (!dsl && !qs) return fail("no es_dsl_filter or es_query_filter");
  if (dsl && dsl.value.trim() === "") return fail("es_dsl_filter is empty", dsl.line);

  const run = get("run_model");
  let runModel = true;
  if (run) {
    const b = bool(run.value);
    if (b === undefined) return fail(`run_model must be 0 or 1, got ${JSON.stringify(run.value)}`, run.line);
    runModel = b;
  }
  const test = get("test_model");
  if (test && bool(test.value) === undefined)
    return fail(`test_model must be 0 or 1, got ${JSON.stringify(test.value)}`, test.line);

  let historyWindowHours: number | undefined;
  for (const [k, mult] of [
    ["history_window_days", 24],
    ["history_window_hours", 1],
  ] as const) {
    const e = get(k);
    if (!e) continue;
    if (!/^\s*\d+\s*$/.test(e.value))
      return fail(`${k} must be a whole number, got ${JSON.stringify(e.value)}`, e.line);
    historyWindowHours = (historyWindowHours ?? 0) + Number(e.value) * mult;
  }

  for (const k of ["outlier_type", "outlier_reason", "outlier_summary"]) {
    if (!get(k)) warnings.push(`${place}: ${k} is missing (ee-outliers requires it)`);
  }
  const types = (get("outlier_type")?.value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const reason = get("outlier_reason")?.value ?? "";
  const summary = get("outlier_summary")?.value ?? reason;

  const levelKey = get("level");
  const level = levelKey?.value.trim().toLowerCase() || undefined;
  if (levelKey && !isLevel(level))
    return fail(`level must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(levelKey.value)}`, levelKey.line);

  const extra: Record<string, string> = {};
  const own: WhitelistEntry[] = [];
  for (const e of sec.keys.values()) {
    if (KNOWN.has(e.key)) continue;
    if (e.key.startsWith("whitelist_literals")) own.push(entry("literal", e, `${path}:${e.line}: [${name}] ${e.key}`));
    else if (e.key.startsWith("whitelist_regexps"))
      own.push(entry("regexp", e, `${path}:${e.line}: [${name}] ${e.key}`));
    else if (e.key.startsWith("whitelist_"))
      warnings.push(
        `${path}:${e.line}: [${name}]: key ${e.key} ignored (whitelist_ keys are whitelists: whitelist_literals… or whitelist_regexps…)`,
      );
    else extra[e.key] = e.value;
  }

  const spec: UseCaseSpec = {
    path,
    section: name,
    line: sec.line,
    modelName: name.slice("simplequery_".length),
    dslFilter: dsl ? { text: dsl.value, line: dsl.line } : undefined,
    queryFilter: qs ? { text: qs.value, line: qs.line } : undefined,
    index: (get("es_index")?.value ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    types,
    reason,
    summary,
    runModel,
    timestampField: get("timestamp_field")?.value.trim() || undefined,
    historyWindowHours,
    ...(level ? { level } : {}),
    extra,
    whitelist: [...global, ...perModel, ...own],
  };
  return { status: "ok", spec, warnings };
}
