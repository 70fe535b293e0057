/**
 * Elasticsearch query DSL (ee-outliers `es_dsl_filter`) into the rule representation, for the
 * subset sigmac writes and analysts use. The translation follows what Elasticsearch answers for
 * the query, so that the live pipeline tags what the query finds. Where the answer depends on
 * analysed text, dates, scoring-only constructs of other kinds or the cluster's state, the
 * translation reports `unsupported` with the reason, and the use case keeps its original query
 * for backfill only (see docs/ee-outliers.md).
 */
import { and, not, or } from "../../ir/build.ts";
import type { Node, WildcardPart } from "../../ir/types.ts";
import type { Profile } from "../../mapping/profile.ts";
import {
  DOC_NUMBER_SCRIPT,
  DOC_STRING_SCRIPT,
  FIELDREF_SCRIPT,
  REGEX_QUERY_SCRIPT,
} from "../../shared-scripts/dsl-scripts.ts";
import { isMetadataField, resolveField } from "./fields.ts";
import { luceneRegexToIr } from "./lucene-regexp.ts";
import { luceneToIrNode } from "./lucene-to-ir.ts";
import { relocated, RuleError, ruleProblem, RuleUnsupported } from "../../ir/errors.ts";
import {
  atLeast,
  exactNode,
  existsNode,
  minimumShouldMatch,
  prefixNode,
  rangeNode,
  regexNode,
  wildcardQueryNode,
  type Scalar,
  type Translation,
} from "./predicates.ts";

export interface DslContext {
  profile: Profile;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/**
 * The value of `es_dsl_filter` (already JSON-parsed): `{"query": …}`, a bare query, or, as
 * ee-outliers accepts (sigmac writes it for rules with several queries), an array of
 * `{"query": …}` that must all match.
 */
export function dslFilterToIr(value: unknown, ctx: DslContext): Translation {
  const queries = Array.isArray(value) ? value : [value];
  const warnings: string[] = [];
  try {
    const nodes = queries.map((q, i) => {
      const where = Array.isArray(value) ? `[${i}]` : "";
      if (isObj(q) && "query" in q) return translate(q.query, `${where}${where ? "." : ""}query`, ctx, warnings);
      if (Array.isArray(value)) throw new RuleError('expected {"query": …}', { place: where });
      return translate(q, "", ctx, warnings);
    });
    return { ok: true, node: and(nodes), warnings };
  } catch (e) {
    return failure(e);
  }
}

/** One query clause (bare query object). */
export function dslToIr(query: unknown, ctx: DslContext): Translation {
  const warnings: string[] = [];
  try {
    return { ok: true, node: translate(query, "", ctx, warnings), warnings };
  } catch (e) {
    return failure(e);
  }
}

/** The error as a failed translation; `place` is where in the query it is (none: the query as a whole). */
function failure(e: unknown): Translation {
  if (!(e instanceof RuleError)) throw e;
  const kind = e instanceof RuleUnsupported ? "unsupported" : "invalid";
  const place = e.location?.place;
  return { ok: false, kind, reason: e.message, ...(place ? { place } : {}) };
}

/** An error at `path` in the query ("" is the query as a whole). */
function problemAt(status: "error" | "unsupported", path: string, message: string): RuleError {
  return ruleProblem(status, message, path ? { place: path } : undefined);
}

/** Gives an error without a place the innermost place in the query it came from. */
function located<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RuleError && e.location?.place === undefined)
      throw relocated(e, e.message, { ...e.location, place: path });
    throw e;
  }
}

function single(path: string, body: unknown): [string, unknown] {
  if (!isObj(body)) throw problemAt("error", path, "expected an object");
  const keys = Object.keys(body).filter((k) => k !== "boost" && k !== "_name");
  if (keys.length !== 1)
    throw problemAt("error", path, `expected exactly one field, got ${keys.length ? keys.join(", ") : "none"}`);
  return [keys[0]!, body[keys[0]!]];
}

function fieldOf(ctx: DslContext, name: string) {
  if (isMetadataField(name))
    throw new RuleUnsupported(`${name} is assigned by the cluster and cannot be evaluated at ingest time`);
  return resolveField(ctx.profile, name);
}

function clauses(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function translate(q: unknown, path: string, ctx: DslContext, warnings: string[]): Node {
  if (!isObj(q)) throw problemAt("error", path, "a query must be an object");
  const types = Object.keys(q);
  if (types.length !== 1)
    throw problemAt(
      "error",
      path,
      `a query object must have exactly one query type, got ${types.join(", ") || "none"}`,
    );
  const type = types[0]!;
  const body = q[type];
  const here = path ? `${path}.${type}` : type;
  return located(here, () => leaf(type, body, here, ctx, warnings));
}

function leaf(type: string, body: unknown, here: string, ctx: DslContext, warnings: string[]): Node {
  switch (type) {
    case "match_all":
      return { kind: "const", value: true };
    case "match_none":
      return { kind: "const", value: false };
    case "bool":
      return bool(body, here, ctx, warnings);
    case "constant_score": {
      if (!isObj(body) || !("filter" in body)) throw new RuleError("constant_score needs a filter");
      return translate(body.filter, `${here}.filter`, ctx, warnings);
    }
    case "dis_max": {
      if (!isObj(body)) throw new RuleError("dis_max needs queries");
      return or(clauses(body.queries).map((c, i) => translate(c, `${here}.queries[${i}]`, ctx, warnings)));
    }
    case "boosting": {
      // `negative` only lowers scores; matching is `positive`.
      if (!isObj(body)) throw new RuleError("boosting needs positive");
      return translate(body.positive, `${here}.positive`, ctx, warnings);
    }
    case "term": {
      const [name, spec] = single(here, body);
      return located(`${here}.${name}`, () => {
        const { value, opts } = valueAndOptions(spec, "value");
        return exactNode(fieldOf(ctx, name), value, !opts.case_insensitive, "term");
      });
    }
    case "terms": {
      if (!isObj(body)) throw new RuleError("terms needs a field");
      const names = Object.keys(body).filter((k) => k !== "boost" && k !== "_name");
      if (names.length !== 1) throw new RuleError(`expected exactly one field, got ${names.join(", ") || "none"}`);
      const name = names[0]!;
      const values = body[name];
      return located(`${here}.${name}`, () => {
        if (isObj(values)) throw new RuleUnsupported("terms lookup reads another document of the cluster");
        if (!Array.isArray(values) || !values.every(isScalar)) throw new RuleError("terms needs an array of values");
        const rf = fieldOf(ctx, name);
        return or(values.map((v) => exactNode(rf, v, true, "terms")));
      });
    }
    case "match":
    case "match_phrase": {
      const [name, spec] = single(here, body);
      return located(`${here}.${name}`, () => {
        const { value, opts } = valueAndOptions(spec, "query");
        const rf = fieldOf(ctx, name);
        if (rf.field.type === "text" && !rf.exact) {
          throw new RuleUnsupported(`${type} on analysed text field ${name} matches tokens, not the whole value`);
        }
        if (opts.analyzer !== undefined) throw new RuleUnsupported(`${type} with a custom analyzer`);
        if (opts.fuzziness !== undefined && opts.fuzziness !== 0 && opts.fuzziness !== "0")
          throw new RuleUnsupported("fuzzy match");
        // On keyword, numeric, boolean and ip fields match is an exact term query.
        return exactNode(rf, value, true, type);
      });
    }
    case "wildcard": {
      const [name, spec] = single(here, body);
      return located(`${here}.${name}`, () => {
        const { value, opts } = valueAndOptions(spec, "value", "wildcard");
        if (typeof value !== "string") throw new RuleError("wildcard needs a string");
        return wildcardQueryNode(fieldOf(ctx, name), value, !opts.case_insensitive);
      });
    }
    case "prefix": {
      const [name, spec] = single(here, body);
      return located(`${here}.${name}`, () => {
        const { value, opts } = valueAndOptions(spec, "value");
        return prefixNode(fieldOf(ctx, name), String(value), !opts.case_insensitive);
      });
    }
    case "regexp": {
      const [name, spec] = single(here, body);
      return located(`${here}.${name}`, () => {
        const { value, opts } = valueAndOptions(spec, "value");
        if (typeof value !== "string") throw new RuleError("regexp needs a string");
        const r = luceneRegexToIr(value, {
          caseInsensitive: !!opts.case_insensitive,
          flags: typeof opts.flags === "string" ? opts.flags : undefined,
        });
        if (!r.ok) throw r.invalid ? new RuleError(r.unsupported) : new RuleUnsupported(r.unsupported);
        warnings.push(...r.warnings.map((w) => `${here}.${name}: ${w}`));
        return regexNode(fieldOf(ctx, name), r.regex);
      });
    }
    case "exists": {
      if (!isObj(body) || typeof body.field !== "string") throw new RuleError("exists needs a field");
      const name = body.field;
      if (name.includes("*"))
        throw new RuleUnsupported(`exists on a field pattern ${name} depends on the index mapping`);
      return existsNode(fieldOf(ctx, name));
    }
    case "range": {
      const [name, spec] = single(here, body);
      return located(`${here}.${name}`, () => {
        if (!isObj(spec)) throw new RuleError("range needs bounds");
        const b: Record<string, Scalar | null | undefined> = {};
        for (const [k, v] of Object.entries(spec)) {
          if (v !== null && !isScalar(v)) throw new RuleError(`${k}: bound must be a value`);
          if (k === "from") b[spec.include_lower === false ? "gt" : "gte"] = v;
          else if (k === "to") b[spec.include_upper === false ? "lt" : "lte"] = v;
          else if (["gt", "gte", "lt", "lte"].includes(k)) b[k] = v;
          else if (k === "format" || k === "time_zone") throw new RuleUnsupported(`date range (${k})`);
          else if (k === "relation") throw new RuleUnsupported("range relation applies to range fields");
          else if (!["boost", "_name", "include_lower", "include_upper"].includes(k))
            throw new RuleError(`unknown range option '${k}'`);
        }
        return rangeNode(fieldOf(ctx, name), b);
      });
    }
    case "query_string": {
      if (!isObj(body) || typeof body.query !== "string") throw new RuleError("query_string needs a query");
      const r = luceneToIrNode(body.query, {
        profile: ctx.profile,
        defaultOperator: String(body.default_operator ?? "OR").toUpperCase() === "AND" ? "AND" : "OR",
        defaultFields: Array.isArray(body.fields)
          ? body.fields.map(String)
          : typeof body.default_field === "string"
            ? [body.default_field]
            : undefined,
      });
      for (const opt of ["analyzer", "quote_analyzer", "fuzziness", "minimum_should_match", "quote_field_suffix"]) {
        if (opt in body) throw new RuleUnsupported(`query_string option ${opt}`);
      }
      warnings.push(...r.warnings.map((w) => `${here}: ${w}`));
      return r.node;
    }
    case "script":
      return ownScript(body, here, ctx);
    case "ids":
      throw new RuleUnsupported("ids cannot be evaluated at ingest time, ids are assigned by the cluster");
    default:
      throw new RuleUnsupported(`query type '${type}' is not evaluated live`);
  }
}

function valueAndOptions(spec: unknown, ...valueKeys: string[]): { value: Scalar; opts: Obj } {
  if (isScalar(spec)) return { value: spec, opts: {} };
  if (isObj(spec)) {
    for (const k of valueKeys) {
      const v = spec[k];
      if (isScalar(v)) return { value: v, opts: spec };
    }
  }
  throw new RuleError(`expected a value or {${valueKeys.map((k) => `"${k}"`).join(" | ")}: …}`);
}

function bool(body: unknown, here: string, ctx: DslContext, warnings: string[]): Node {
  if (!isObj(body)) throw new RuleError("bool needs an object");
  for (const k of Object.keys(body)) {
    if (
      ![
        "must",
        "filter",
        "should",
        "must_not",
        "minimum_should_match",
        "boost",
        "_name",
        "adjust_pure_negative",
      ].includes(k)
    ) {
      throw new RuleError(`unknown bool clause '${k}'`);
    }
  }
  const list = (k: string) => clauses(body[k]).map((c, i) => translate(c, `${here}.${k}[${i}]`, ctx, warnings));
  const required = [...list("must"), ...list("filter")];
  const should = list("should");
  const mustNot = list("must_not");
  // Elasticsearch 7+: should clauses are optional when must/filter is present, otherwise one must match.
  let k = required.length > 0 ? 0 : should.length > 0 ? 1 : 0;
  const msm = body.minimum_should_match;
  if (msm !== undefined && msm !== null) {
    if (!isScalar(msm)) throw new RuleError("minimum_should_match must be a number or a string");
    k = minimumShouldMatch(msm, should.length);
  }
  const parts: Node[] = [...required];
  if (should.length > 0) parts.push(atLeast(k, should));
  else if (k > 0) parts.push({ kind: "const", value: false });
  if (mustNot.length) parts.push(not(or(mustNot)));
  return and(parts);
}

/**
 * The fixed scripts src/emit/dsl.ts writes for predicates the query DSL has no query for (files
 * written by `outliers compile --target ee-outliers` contain them): recognised by their exact
 * source, their meaning read from params. Any other script cannot be evaluated live.
 */
function ownScript(body: unknown, here: string, ctx: DslContext): Node {
  const s = isObj(body) && isObj(body.script) ? body.script : undefined;
  const params = s && isObj(s.params) ? s.params : undefined;
  const source = s?.source;
  if (!params || typeof source !== "string") throw new RuleUnsupported("script queries are not evaluated live");
  const field = (k: string) => {
    const v = params[k];
    if (typeof v !== "string") throw new RuleError(`script param ${k} must be a field name`);
    return fieldOf(ctx, v).field;
  };
  if (source === REGEX_QUERY_SCRIPT) {
    // A regex the emitter runs by script (no cheap Lucene form); `re` holds the regex itself.
    const re = params.re;
    if (!isObj(re) || typeof re.pattern !== "string" || !isObj(re.flags))
      throw new RuleUnsupported("regex script query without its regex (params.re)");
    const fl = re.flags;
    return {
      kind: "regex",
      field: field("f"),
      regex: { pattern: re.pattern, flags: { i: fl.i === true, m: fl.m === true, s: fl.s === true } },
    };
  }
  if (source === FIELDREF_SCRIPT) {
    return { kind: "fieldref", field: field("a"), other: field("b"), cased: params.cased === true };
  }
  if (source === DOC_NUMBER_SCRIPT) {
    const op = params.op;
    if (op !== "gt" && op !== "gte" && op !== "lt" && op !== "lte") throw new RuleError(`script op ${String(op)}`);
    if (typeof params.value !== "number") throw new RuleError("script value must be a number");
    return { kind: "number", field: field("field"), op, value: params.value };
  }
  if (source === DOC_STRING_SCRIPT) {
    const f = field("field");
    const value = params.value;
    const cased = params.cased === true;
    if (typeof value !== "string") throw new RuleError("script value must be a string");
    switch (params.op) {
      case "eq":
        return { kind: "equals", field: f, value, cased };
      case "prefix":
      case "suffix":
      case "contains":
        return { kind: params.op, field: f, value, cased };
      case "glob": {
        const mask = String(params.mask ?? "");
        if (mask.length !== value.length) throw new RuleError("script glob mask does not fit its value");
        const parts: WildcardPart[] = [];
        let lit = "";
        for (let i = 0; i < value.length; i++) {
          if (mask[i] === "0") lit += value[i];
          else {
            if (lit) parts.push({ lit });
            lit = "";
            parts.push(mask[i] === "1" ? { any: true } : { one: true });
          }
        }
        if (lit) parts.push({ lit });
        return { kind: "wildcard", field: f, parts, cased };
      }
    }
    throw new RuleError(`script op ${String(params.op)}`);
  }
  throw new RuleUnsupported("script queries are not evaluated live");
}
