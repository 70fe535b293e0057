/**
 * Sigma correlation documents (`correlation:`) into correlation rules (src/ir/correlation.ts;
 * semantics in docs/correlations.md).
 *
 * Two steps: `parseCorrelationDoc` reads one document (its own errors only); `resolveCorrelations`
 * runs once over every Sigma result of a load, resolving `rules` by name or id across files, each
 * referenced rule's group-by and value fields through the mapping profile (and `aliases`), and
 * refusing, per correlation and with the reason, what cannot run. Base rules are left as they are.
 */
import { createHash } from "node:crypto";
import { basename, extname } from "node:path";
import { FALSE } from "../../ir/build.ts";
import {
  CONDITION_OPS,
  CORRELATION_TYPES,
  GROUP_TAG_KEY,
  type ConditionOp,
  type Correlation,
  type CorrelationType,
  type RefFields,
} from "../../ir/correlation.ts";
import { techniqueOfTag } from "../../ir/attack.ts";
import { locatedMessage, locationText, RuleError, ruleProblem, type RuleLocation } from "../../ir/errors.ts";
import type { CompileResult, Field, Rule } from "../../ir/types.ts";
import { isUnsupported } from "../../mapping/profile.ts";
import type { LoadOptions } from "../load.ts";
import { NumLit, type Place, type SigmaParseFailure, str, strList } from "./parse.ts";

/** One correlation document, parsed but not yet resolved. */
export interface SigmaCorrelationDoc {
  path: string;
  docIndex: number;
  rule: Rule;
  where(place: Place): string;
}

const TIMESPAN = /^(\d+)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const VALUE_TYPES = new Set<CorrelationType>([
  "value_count",
  "value_sum",
  "value_avg",
  "value_percentile",
  "value_median",
]);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof NumLit);
}

function num(v: unknown): number | undefined {
  if (v instanceof NumLit) return v.value;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A problem at a place of the correlation document. */
function problem(status: "error" | "unsupported", place: Place, message: string): RuleError {
  return ruleProblem(status, message, { yamlPath: place });
}

/** Reads a `correlation:` document. */
export function parseCorrelationDoc(
  path: string,
  docIndex: number,
  raw: Record<string, unknown>,
  locate: (place: Place) => RuleLocation,
): { correlation: SigmaCorrelationDoc } | { failure: SigmaParseFailure } {
  const where = (place: Place) => locationText(locate(place));
  try {
    const title = str(raw.title);
    if (title === undefined) throw problem("error", ["title"], "missing title");
    const c = raw.correlation;
    if (!isObj(c)) throw problem("error", ["correlation"], "correlation must be a map");
    const type = str(c.type);
    if (type === undefined) throw problem("error", ["correlation", "type"], "missing correlation type");
    if (!(CORRELATION_TYPES as readonly string[]).includes(type))
      throw problem(
        "unsupported",
        ["correlation", "type"],
        `unknown correlation type '${type}' (${CORRELATION_TYPES.join(", ")})`,
      );
    const t = type as CorrelationType;
    const refs = strList(c.rules);
    if (!Array.isArray(c.rules) && typeof c.rules !== "string")
      throw problem("error", ["correlation", "rules"], "rules must be a list of rule names or ids");
    if (refs.length === 0) throw problem("error", ["correlation", "rules"], "rules is empty");
    const groupBy = strList(c["group-by"]);
    if (c["group-by"] !== undefined && !Array.isArray(c["group-by"]) && typeof c["group-by"] !== "string")
      throw problem("error", ["correlation", "group-by"], "group-by must be a list of field names");
    const ts = str(c.timespan);
    if (ts === undefined) throw problem("error", ["correlation", "timespan"], "missing timespan");
    const m = TIMESPAN.exec(ts.trim());
    if (!m)
      throw problem(
        "unsupported",
        ["correlation", "timespan"],
        `timespan '${ts}': expected a number and s, m, h, d or w (months and years are not fixed lengths)`,
      );
    const timespanMs = Number(m[1]) * UNIT_MS[m[2]!]!;
    if (timespanMs <= 0) throw problem("error", ["correlation", "timespan"], "timespan must be positive");
    const condition: Correlation["condition"] = [];
    let field: string | undefined;
    let percentile: number | undefined;
    const cond = c.condition;
    if (typeof cond === "string")
      throw problem(
        "unsupported",
        ["correlation", "condition"],
        "extended (boolean) correlation conditions are not supported",
      );
    if (cond !== undefined && cond !== null) {
      if (!isObj(cond)) throw problem("error", ["correlation", "condition"], "condition must be a map");
      for (const [k, v] of Object.entries(cond)) {
        if (k === "field") {
          field = str(v);
          if (field === undefined)
            throw problem("error", ["correlation", "condition", "field"], "field must be one field name");
        } else if (k === "percentile") {
          percentile = num(v);
          if (percentile === undefined || percentile < 1 || percentile > 100)
            throw problem(
              "error",
              ["correlation", "condition", "percentile"],
              "percentile must be a number from 1 to 100",
            );
        } else if ((CONDITION_OPS as readonly string[]).includes(k)) {
          const n = num(v);
          if (n === undefined) throw problem("error", ["correlation", "condition", k], `${k} needs a number`);
          condition.push({ op: k as ConditionOp, value: n });
        } else
          throw problem(
            "error",
            ["correlation", "condition", k],
            `unknown condition key '${k}' (${CONDITION_OPS.join(", ")}, field, percentile)`,
          );
      }
    }
    if (condition.length === 0 && t !== "temporal" && t !== "temporal_ordered")
      throw problem("error", ["correlation", "condition"], `${t} needs a condition (gt, gte, lt, lte, eq or neq)`);
    if (VALUE_TYPES.has(t) && field === undefined)
      throw problem("error", ["correlation", "condition"], `${t} needs condition.field`);
    if (!VALUE_TYPES.has(t) && field !== undefined)
      throw problem("error", ["correlation", "condition", "field"], `${t} takes no field`);
    if (t === "value_percentile" && percentile === undefined)
      throw problem("error", ["correlation", "condition"], "value_percentile needs condition.percentile (1 to 100)");
    if (t !== "value_percentile" && percentile !== undefined)
      throw problem("error", ["correlation", "condition", "percentile"], `${t} takes no percentile`);
    if (t === "temporal_ordered" && condition.length > 0 && !isAllRules(condition, refs.length))
      throw problem(
        "unsupported",
        ["correlation", "condition"],
        "temporal_ordered counts only the whole sequence of its rules; a condition other than all rules is not supported",
      );
    const aliases: Correlation["aliases"] = {};
    if (c.aliases !== undefined && c.aliases !== null) {
      if (!isObj(c.aliases)) throw problem("error", ["correlation", "aliases"], "aliases must be a map");
      for (const [alias, mp] of Object.entries(c.aliases)) {
        if (!isObj(mp))
          throw problem("error", ["correlation", "aliases", alias], "an alias must map rule names to field names");
        const out: Record<string, string> = {};
        for (const [r, f] of Object.entries(mp)) {
          const s = str(f);
          if (s === undefined) throw problem("error", ["correlation", "aliases", alias, r], "expected a field name");
          out[r] = s;
        }
        aliases[alias] = out;
      }
    }
    const gen = c.generate ?? raw.generate;
    if (gen !== undefined && typeof gen !== "boolean")
      throw problem("error", ["correlation", "generate"], "generate must be true or false");
    let id = str(raw.id);
    if (id === undefined || id.trim() === "") id = derivedId(path, docIndex);
    const tags = strList(raw.tags);
    const techniques: string[] = [];
    for (const tg of tags) {
      const tid = techniqueOfTag(tg);
      if (tid && !techniques.includes(tid)) techniques.push(tid);
    }
    const summary = `Sigma hit - ${title}`;
    const correlation: Correlation = {
      type: t,
      refs,
      ruleIds: [],
      groupBy,
      timespan: ts.trim(),
      timespanMs,
      condition,
      ...(field !== undefined ? { field } : {}),
      ...(percentile !== undefined ? { percentile } : {}),
      aliases,
      generate: gen === true,
      fields: {},
    };
    const rule: Rule = {
      id,
      name: str(raw.name),
      title,
      description: str(raw.description),
      status: str(raw.status),
      level: str(raw.level),
      author: str(raw.author),
      references: strList(raw.references),
      falsepositives: strList(raw.falsepositives),
      tags,
      logsource: {},
      source: { format: "sigma", path, section: String(docIndex) },
      index: [],
      timeField: "@timestamp",
      condition: FALSE,
      tagsOut: {
        type: ["Sigma hit", ...tags],
        reason: summary,
        summary,
        modelName: basename(path, extname(path)),
        modelType: "sigma",
        techniques,
        extra: { [GROUP_TAG_KEY]: "" },
      },
      correlation,
    };
    return { correlation: { path, docIndex, rule, where } };
  } catch (e) {
    if (e instanceof RuleError && e.location?.yamlPath) {
      const location = locate(e.location.yamlPath);
      return { failure: { path, docIndex, status: e.status, error: locatedMessage(location, e.message), location } };
    }
    throw e;
  }
}

function isAllRules(cond: Correlation["condition"], n: number): boolean {
  return (
    cond.length === 1 &&
    ((cond[0]!.op === "gte" && cond[0]!.value === n) || (cond[0]!.op === "eq" && cond[0]!.value === n))
  );
}

function derivedId(path: string, docIndex: number): string {
  const h = createHash("sha1")
    .update(`${path.replace(/\\/g, "/")}#${docIndex}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A pending correlation result (references unresolved); `resolveCorrelations` completes it. */
export function pendingResult(doc: SigmaCorrelationDoc): CompileResult {
  return { status: "ok", rule: doc.rule };
}

/**
 * Resolves every correlation among `results` (all Sigma results of one load): references by id or
 * name, fields per referenced rule, the time field and index patterns of its events. A correlation
 * that cannot run becomes an `unsupported`/`error` result with the reason; the others are untouched.
 */
export function resolveCorrelations(results: CompileResult[], opts: LoadOptions): CompileResult[] {
  if (!results.some((r) => r.status === "ok" && r.rule.correlation)) return results;
  const byId = new Map<string, Rule>();
  const byName = new Map<string, Rule[]>();
  for (const r of results) {
    if (r.status !== "ok") continue;
    byId.set(r.rule.id, r.rule);
    if (r.rule.name) byName.set(r.rule.name, [...(byName.get(r.rule.name) ?? []), r.rule]);
  }
  // Refused ids and names (a correlation referencing a refused rule is refused too).
  const refusedIds = new Map<string, string>();
  for (const r of results) if (r.status !== "ok" && r.id) refusedIds.set(r.id, r.error);
  const failed = new Map<string, { status: "error" | "unsupported"; error: string }>();
  const done = new Set<string>();

  const lookup = (c: Rule, ref: string): Rule => {
    const named = byName.get(ref) ?? [];
    const byI = byId.get(ref);
    const found = byI ? [byI, ...named.filter((x) => x !== byI)] : named;
    if (found.length === 0) {
      const why = refusedIds.get(ref);
      throw problem(
        why ? "unsupported" : "error",
        ["correlation", "rules"],
        why ? `referenced rule '${ref}' did not compile: ${why}` : `referenced rule '${ref}' not found (by name or id)`,
      );
    }
    if (found.length > 1)
      throw problem(
        "error",
        ["correlation", "rules"],
        `'${ref}' names ${found.length} rules (${found.map((f) => f.id).join(", ")})`,
      );
    if (found[0] === c) throw problem("error", ["correlation", "rules"], "a correlation cannot reference itself");
    return found[0]!;
  };

  /** The single index field a Sigma field name is for the events of `r` (a base rule, or a correlation's leaves). */
  const fieldOf = (r: Rule, sigmaField: string, place: Place): Field => {
    if (r.correlation) {
      resolve(r, []);
      const leaves = leafRules(r);
      let one: Field | undefined;
      for (const l of leaves) {
        const f = fieldOf(l, sigmaField, place);
        if (one && (one.name !== f.name || one.type !== f.type))
          throw problem(
            "unsupported",
            place,
            `'${sigmaField}' is ${one.name} in some events of correlation ${r.id} and ${f.name} in others`,
          );
        one = f;
      }
      return one!;
    }
    if (r.source.format !== "sigma") return opts.profile.fieldType(sigmaField);
    const res = opts.profile.field(sigmaField, r.logsource);
    if (isUnsupported(res)) throw problem("unsupported", place, `'${sigmaField}' for rule ${r.id}: ${res.unsupported}`);
    if (res.length !== 1)
      throw problem(
        "unsupported",
        place,
        `'${sigmaField}' maps to ${res.length} index fields for rule ${r.id} (${res.map((f) => f.name).join(", ")}); name one with aliases`,
      );
    return res[0]!;
  };

  const leafRules = (r: Rule): Rule[] =>
    r.correlation ? r.correlation.ruleIds.flatMap((id) => leafRules(byId.get(id)!)) : [r];

  const resolve = (r: Rule, stack: string[]): void => {
    if (done.has(r.id)) return;
    const prior = failed.get(r.id);
    if (prior)
      throw problem(
        prior.status,
        ["correlation", "rules"],
        `references correlation ${r.id}, which is refused: ${prior.error}`,
      );
    if (stack.includes(r.id))
      throw problem("error", ["correlation", "rules"], `a cycle of correlations: ${[...stack, r.id].join(" -> ")}`);
    const c = r.correlation!;
    const refRules = c.refs.map((ref) => lookup(r, ref));
    const ids = refRules.map((x) => x.id);
    if (new Set(ids).size !== ids.length)
      throw problem("error", ["correlation", "rules"], "a rule is referenced twice");
    for (const x of refRules) if (x.correlation) resolve(x, [...stack, r.id]);
    // Aliases are keyed by rule name or id.
    for (const [alias, mp] of Object.entries(c.aliases))
      for (const key of Object.keys(mp))
        if (!refRules.some((x) => x.id === key || x.name === key || c.refs.includes(key)))
          throw problem("error", ["correlation", "aliases", alias, key], `'${key}' is not one of the referenced rules`);
    const fields: Record<string, RefFields> = {};
    refRules.forEach((x, i) => {
      const fieldName = (g: string) => {
        const a = c.aliases[g];
        if (!a) return g;
        return a[x.id] ?? (x.name !== undefined ? a[x.name] : undefined) ?? a[c.refs[i]!] ?? g;
      };
      fields[x.id] = {
        groupBy: c.groupBy.map((g, gi) => fieldOf(x, fieldName(g), ["correlation", "group-by", gi])),
        ...(c.field !== undefined ? { value: fieldOf(x, c.field, ["correlation", "condition", "field"]) } : {}),
      };
    });
    const leaves = refRules.flatMap(leafRules);
    const timeFields = [...new Set(leaves.map((l) => l.timeField))];
    if (timeFields.length > 1)
      throw problem(
        "unsupported",
        ["correlation", "rules"],
        `the referenced rules use different time fields (${timeFields.join(", ")})`,
      );
    c.ruleIds = ids;
    c.fields = fields;
    r.timeField = timeFields[0]!;
    r.index = [...new Set(leaves.flatMap((l) => l.index))];
    done.add(r.id);
  };

  return results.map((res) => {
    if (res.status !== "ok" || !res.rule.correlation) return res;
    const r = res.rule;
    try {
      resolve(r, []);
      return res;
    } catch (e) {
      if (!(e instanceof RuleError && e.location?.yamlPath)) throw e;
      const location: RuleLocation = { path: r.source.path, yamlPath: e.location.yamlPath };
      const error = locatedMessage(location, e.message);
      failed.set(r.id, { status: e.status, error });
      return { status: e.status, id: r.id, title: r.title, path: r.source.path, error, location };
    }
  });
}
