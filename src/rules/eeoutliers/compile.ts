/**
 * ee-outliers use-case files into rules: read the files (read.ts), translate each use case's
 * filter (dsl-to-ir.ts / lucene-to-ir.ts), attach its whitelist (whitelist.ts).
 *
 * A filter the live pipeline cannot evaluate keeps the use case `ok` for backfill: the rule's
 * condition is then FALSE (it tags nothing live), `backfillOnlyQuery` holds the original query
 * (as ee-outliers would run it) and `liveUnsupported` says why.
 * `run_model = 0` use cases are checked like the others and then reported `unsupported`:
 * ee-outliers does not run them, so tagging with them would surprise their owner.
 */
import { TOO_DEEP, isTooDeep } from "../../util/errors.ts";
import { readFileSync } from "node:fs";
import { techniqueOfTag } from "../../ir/attack.ts";
import { FALSE } from "../../ir/build.ts";
import { locatedMessage, type RuleLocation } from "../../ir/errors.ts";
import type { CompileResult, Node, Rule } from "../../ir/types.ts";
import type { Profile } from "../../mapping/profile.ts";
import { dslFilterToIr } from "./dsl-to-ir.ts";
import { luceneToIr } from "./lucene-to-ir.ts";
import { readUseCaseFiles, type UseCaseSpec } from "./read.ts";
import { whitelistFields, whitelistNode } from "./whitelist.ts";

export interface EeOutliersOptions {
  profile: Profile;
}

/** Reads and compiles ee-outliers files (whitelists in any of them apply to all). */
export function compileEeOutliersFiles(paths: string[], opts: EeOutliersOptions): CompileResult[] {
  const files: { path: string; text: string }[] = [];
  const out: CompileResult[] = [];
  for (const path of paths) {
    try {
      files.push({ path, text: readFileSync(path, "utf8") });
    } catch (e) {
      out.push({ status: "error", path, error: `${path}: ${(e as Error).message}` });
    }
  }
  return [...out, ...compileEeOutliersTexts(files, opts)];
}

export function compileEeOutliersTexts(
  files: { path: string; text: string }[],
  opts: EeOutliersOptions,
): CompileResult[] {
  return readUseCaseFiles(files).map((r): CompileResult => {
    if (r.status !== "ok")
      return {
        status: r.status,
        id: r.section,
        title: r.section?.replace(/^simplequery_/, ""),
        path: r.path,
        error: r.error,
        ...(r.location ? { location: r.location } : {}),
      };
    try {
      return compileUseCase(r.spec, r.warnings, opts);
    } catch (e) {
      if (!isTooDeep(e)) throw e;
      return {
        status: "error",
        id: r.spec.section,
        title: r.spec.modelName,
        path: r.spec.path,
        ...located({ path: r.spec.path, line: r.spec.line, section: r.spec.section }, TOO_DEEP),
      };
    }
  });
}

/** A located failure's `error` and `location`. */
function located(location: RuleLocation, message: string) {
  return { error: locatedMessage(location, message), location };
}

/** The query ee-outliers would run for this use case, as a bare query object. */
export function originalQuery(spec: UseCaseSpec, parsedDsl: unknown): unknown {
  if (spec.queryFilter) return { query_string: { query: spec.queryFilter.text } };
  if (Array.isArray(parsedDsl)) {
    return { bool: { filter: parsedDsl.map((q) => (q as { query: unknown }).query) } };
  }
  const o = parsedDsl as Record<string, unknown>;
  return o && typeof o === "object" && "query" in o ? o.query : o;
}

export function compileUseCase(spec: UseCaseSpec, warnings: string[], opts: EeOutliersOptions): CompileResult {
  const { profile } = opts;
  const at = (line: number, key?: string, place?: string): RuleLocation => ({
    path: spec.path,
    line,
    section: spec.section,
    ...(key !== undefined ? { key } : {}),
    ...(place !== undefined ? { place } : {}),
  });
  const base = { id: spec.section, title: spec.modelName, path: spec.path };
  const failed = (status: "error" | "unsupported", location: RuleLocation, message: string): CompileResult => ({
    status,
    ...base,
    error: locatedMessage(location, message),
    location,
  });
  let parsed: unknown;
  let translation;
  if (spec.dslFilter) {
    try {
      parsed = JSON.parse(spec.dslFilter.text);
    } catch (e) {
      return failed("error", at(spec.dslFilter.line), `es_dsl_filter is not valid JSON: ${(e as Error).message}`);
    }
    if (Array.isArray(parsed) && parsed.length === 0) {
      return failed("error", at(spec.dslFilter.line), "es_dsl_filter is an empty list");
    }
    translation = dslFilterToIr(parsed, { profile });
  } else {
    translation = luceneToIr(spec.queryFilter!.text, { profile });
  }
  const filterLine = (spec.dslFilter ?? spec.queryFilter)!.line;
  const filterKey = spec.dslFilter ? "es_dsl_filter" : "es_query_filter";
  if (!translation.ok && translation.kind === "invalid") {
    return failed("error", at(filterLine, filterKey, translation.place), translation.reason);
  }
  if (!spec.runModel) {
    return failed(
      "unsupported",
      at(spec.line),
      "run_model = 0: ee-outliers does not run this use case (set run_model = 1 to tag with it)",
    );
  }

  let condition: Node;
  let backfillOnlyQuery: unknown;
  let liveUnsupported: string | undefined;
  const ruleWarnings = [...warnings];
  if (translation.ok) {
    condition = translation.node;
    ruleWarnings.push(...translation.warnings.map((w) => locatedMessage(at(filterLine, filterKey), w)));
  } else {
    condition = FALSE;
    backfillOnlyQuery = originalQuery(spec, parsed);
    liveUnsupported = locatedMessage({ key: filterKey, place: translation.place }, translation.reason);
  }

  const fields = whitelistFields(profile, condition, spec.summary);
  const whitelist = whitelistNode(spec.whitelist, spec, fields, profile);
  const techniques = [...new Set(spec.types.map(techniqueOfTag).filter((t): t is string => t !== undefined))];

  const rule: Rule = {
    id: spec.section,
    title: spec.modelName,
    references: [],
    falsepositives: [],
    tags: spec.types.filter((t) => /^(attack|cve|car|tlp)\./i.test(t)),
    logsource: {},
    source: { format: "simplequery", path: spec.path, section: spec.section },
    index: spec.index,
    timeField: spec.timestampField ?? "@timestamp",
    historyWindowHours: spec.historyWindowHours,
    ...(spec.level ? { level: spec.level } : {}),
    condition,
    whitelist,
    backfillOnlyQuery,
    liveUnsupported,
    tagsOut: {
      type: spec.types,
      reason: spec.reason,
      summary: spec.summary,
      modelName: spec.modelName,
      modelType: "simplequery",
      techniques,
      extra: spec.extra,
    },
  };
  // Keep the rule free of undefined keys (reports and snapshots print it).
  for (const k of ["historyWindowHours", "whitelist", "backfillOnlyQuery", "liveUnsupported"] as const) {
    if (rule[k] === undefined) delete rule[k];
  }
  return ruleWarnings.length ? { status: "ok", rule, warnings: ruleWarnings } : { status: "ok", rule };
}
