/**
 * A parsed Sigma rule plus a mapping profile into a `Rule`: the detection becomes one boolean tree
 * over index-field predicates, ANDed with the logsource's guard.
 *
 * - a map is the AND of its items, a list of maps the OR of the maps;
 * - an item's values are ORed (ANDed with `|all`); expansions (windash, base64offset, expand) are
 *   always ORed;
 * - values with no field (keyword lists, `|all:` keys) become `keyword` predicates over the
 *   profile's keyword fields;
 * - `null` is `exists: false`; `''` is `equals ""`; a value that is only `*` is `exists: true`;
 * - numbers on numeric fields are `number` eq, elsewhere `equals` with the text as written;
 * - strings are `equals`/`prefix`/`suffix`/`contains`/`wildcard` (wildcardShape), case-insensitive
 *   unless `cased`; base64 encodings are case-sensitive.
 *
 * The rule's model name (`outliers.model_name`) is the file's base name without extension (sigmac
 * wrote `sigma_<name>` as the ee-outliers section name; the emitter adds that prefix there); when
 * a file holds several rule documents, each gets `_<n>`, n counting the rule documents from 1.
 */
import { TOO_DEEP, isTooDeep } from "../../util/errors.ts";
import { createHash } from "node:crypto";
import { basename, extname } from "node:path";
import { techniqueOfTag } from "../../ir/attack.ts";
import { locatedMessage, RuleError, ruleProblem } from "../../ir/errors.ts";
import { and, or, not, wildcardShape } from "../../ir/build.ts";
import type { CompileResult, Field, Node, Rule, WildcardPart } from "../../ir/types.ts";
import { isUnsupported, type Logsource, type Profile, type SourceView } from "../../mapping/profile.ts";
import { perSource } from "./per-source.ts";
import { evalCondition, parseCondition } from "./condition.ts";
import { applyModifier, MODIFIERS, type ItemState, type SigmaValue } from "./modifiers.ts";
import { NumLit, type Place, type SigmaRule } from "./parse.ts";
import { parseSigmaString, parseSigmaStringWithPlaceholders, type ValuePart } from "./values.ts";

export interface ConvertOptions {
  profile: Profile;
  placeholders?: Record<string, string[]>;
}

/** A problem at a place in the rule (its YAML path); `unsupported` when the rule is valid but cannot be compiled. */
function problem(status: "error" | "unsupported", place: Place, message: string): RuleError {
  return ruleProblem(status, message, { yamlPath: place });
}

const NUMERIC = new Set(["long", "double"]);
interface Ctx {
  rule: SigmaRule;
  opts: ConvertOptions;
  ls: Logsource;
  fieldCache: Map<string, Field[]>;
  keywordFields?: Field[];
  /** One source of the logsource, whose field names alone are used (Profile.bySource). */
  source?: SourceView;
}

/** The detection as one tree: every search identifier compiled (errors in unused ones reported too), conditions ORed. */
function detectionNode(ctx: Ctx): Node {
  const rule = ctx.rule;
  const names = [...rule.detection.searches.keys()];
  const nodes = new Map<string, Node>();
  for (const name of names) nodes.set(name, convertSearch(ctx, rule.detection.searches.get(name), ["detection", name]));

  const conds: Node[] = [];
  rule.detection.conditions.forEach((c, i) => {
    const place: Place =
      rule.detection.conditions.length > 1 ? ["detection", "condition", i] : ["detection", "condition"];
    try {
      conds.push(evalCondition(parseCondition(c), names, (n) => nodes.get(n)!));
    } catch (e) {
      if (e instanceof RuleError && !e.location)
        throw e.status === "unsupported"
          ? problem("unsupported", place, e.message)
          : problem("error", place, `${e.message} in '${c}'`);
      throw e;
    }
  });
  return or(conds);
}

/**
 * `ordinal`: this rule's position (1-based) among the `count` rule documents of its file, for the
 * model name of multi-document files.
 */
export function convertSigmaRule(
  rule: SigmaRule,
  opts: ConvertOptions,
  ordinal = { index: 1, count: 1 },
): CompileResult {
  const warnings: string[] = [];
  const meta = { id: rule.id, title: rule.title, path: rule.path };
  try {
    const target = opts.profile.logsource(rule.logsource);
    if (isUnsupported(target)) throw problem("unsupported", ["logsource"], target.unsupported);
    const ctx: Ctx = { rule, opts, ls: rule.logsource, fieldCache: new Map() };
    const condition = perSource(
      target,
      (source) => detectionNode({ ...ctx, fieldCache: new Map(), source }),
      () => detectionNode(ctx),
    );
    if (rule.detection.timeframe !== undefined) {
      warnings.push(
        `${rule.where(["detection", "timeframe"])}: timeframe ignored (no aggregation; each event is matched on its own)`,
      );
    }

    let id = rule.id;
    if (id === undefined || id.trim() === "") {
      id = derivedId(rule.path, rule.docIndex);
      warnings.push(`${rule.where([])}: no id; using '${id}' derived from the file path`);
    }
    const base = basename(rule.path, extname(rule.path));
    const modelName = ordinal.count > 1 ? `${base}_${ordinal.index}` : base;
    const techniques: string[] = [];
    for (const t of rule.tags) {
      const tid = techniqueOfTag(t);
      if (tid && !techniques.includes(tid)) techniques.push(tid);
    }
    const summary = `Sigma hit - ${rule.title}`;
    const out: Rule = {
      id,
      ...(rule.name !== undefined ? { name: rule.name } : {}),
      title: rule.title,
      description: rule.description,
      status: rule.status,
      level: rule.level,
      author: rule.author,
      references: rule.references,
      falsepositives: rule.falsepositives,
      tags: rule.tags,
      logsource: { ...rule.logsource },
      source: { format: "sigma", path: rule.path, section: String(rule.docIndex) },
      index: target.index,
      timeField: opts.profile.timeField,
      condition,
      tagsOut: {
        type: ["Sigma hit", ...rule.tags],
        reason: summary,
        summary,
        modelName,
        modelType: "sigma",
        techniques,
        extra: {},
      },
    };
    return warnings.length ? { status: "ok", rule: out, warnings } : { status: "ok", rule: out };
  } catch (e) {
    // Every rule error leaves the reader here: its location gets the file and line.
    if (e instanceof RuleError && e.location?.yamlPath) {
      const location = rule.locate(e.location.yamlPath);
      return { status: e.status, ...meta, error: locatedMessage(location, e.message), location };
    }
    const location = rule.locate([]);
    if (isTooDeep(e)) return { status: "error", ...meta, error: locatedMessage(location, TOO_DEEP), location };
    return {
      status: "error",
      ...meta,
      error: locatedMessage(location, `internal error: ${(e as Error)?.stack ?? e}`),
      location,
    };
  }
}

/** A stable id for a rule without one: a UUID-shaped hash of its path and document number. */
export function derivedId(path: string, docIndex: number): string {
  const h = createHash("sha1")
    .update(`${path.replace(/\\/g, "/")}#${docIndex}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof NumLit);
}

function convertSearch(ctx: Ctx, v: unknown, place: Place): Node {
  if (isMap(v)) return convertMap(ctx, v, place);
  if (Array.isArray(v)) {
    if (v.length === 0) throw problem("error", place, "empty list");
    const alts: Node[] = [];
    const keywords: unknown[] = [];
    v.forEach((item, i) => {
      if (isMap(item)) alts.push(convertMap(ctx, item, [...place, i]));
      else keywords.push(item);
    });
    // Plain values in a list are keywords, ORed.
    if (keywords.length) alts.push(convertItem(ctx, undefined, [], keywords, place));
    return or(alts);
  }
  if (v === null || v === undefined) throw problem("error", place, "empty search identifier");
  // A single plain value: a keyword.
  return convertItem(ctx, undefined, [], [v], place);
}

function convertMap(ctx: Ctx, m: Record<string, unknown>, place: Place): Node {
  const keys = Object.keys(m);
  if (keys.length === 0) throw problem("error", place, "empty map");
  const items: Node[] = [];
  for (const key of keys) {
    const [field, ...mods] = key.split("|");
    const val = m[key];
    const values = Array.isArray(val) ? flatten(val) : [val];
    if (Array.isArray(val) && values.length === 0) throw problem("error", [...place, key], "empty value list");
    items.push(convertItem(ctx, field === "" ? undefined : field!.trim(), mods, values, [...place, key]));
  }
  return and(items);
}

function flatten(a: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of a)
    if (Array.isArray(x)) out.push(...flatten(x));
    else out.push(x);
  return out;
}

function toValue(raw: unknown, withPlaceholders: boolean, place: Place): SigmaValue {
  if (typeof raw === "string") {
    return { t: "str", parts: withPlaceholders ? parseSigmaStringWithPlaceholders(raw) : parseSigmaString(raw), raw };
  }
  if (typeof raw === "number") return { t: "num", value: raw, src: String(raw) };
  if (raw instanceof NumLit) return { t: "num", value: raw.value, src: raw.src };
  if (typeof raw === "boolean") return { t: "bool", value: raw };
  if (raw === null || raw === undefined) return { t: "null" };
  throw problem(
    "error",
    place,
    `a value must be a string, number, boolean or null, not a ${Array.isArray(raw) ? "list" : "map"}`,
  );
}

/** One detection item: a field (or none, for keywords), its modifiers and its values. */
function convertItem(ctx: Ctx, field: string | undefined, mods: string[], rawValues: unknown[], place: Place): Node {
  const state: ItemState = { field, all: false, negate: false, placeholders: ctx.opts.placeholders };
  const chain = mods.map((name) => {
    const m = MODIFIERS.get(name.trim().toLowerCase());
    if (!m) throw problem("error", place, `unknown modifier '${name}'`);
    return m;
  });
  const expand = chain.some((m) => m.name === "expand");
  let values: SigmaValue[] = rawValues.map((r) => toValue(r, expand, place));
  try {
    const applied: string[] = [];
    for (const m of chain) {
      const next: SigmaValue[] = [];
      for (const v of values) {
        // null stays null (`field|contains: null` is still "no value").
        if (v.t === "null") next.push(v);
        else next.push(...applyModifier(m, v, state, applied));
      }
      values = next;
      applied.push(m.name);
    }
  } catch (e) {
    if (e instanceof RuleError && !e.location) throw problem(e.status, place, e.message);
    throw e;
  }

  const anyCased = chain.some((m) => m.name === "cased");
  let build: (v: SigmaValue) => Node;
  if (field === undefined) {
    const fields = keywordFields(ctx, place);
    build = (v) => keywordNode(v, fields, anyCased, place);
  } else {
    const fields = resolveField(ctx, field, place);
    // Alternative fields (Sysmon Image / 4688 NewProcessName) never occur together, so "no value"
    // means none of them has one: AND for null / exists:false, OR for everything else (profile.ts).
    build = (v) => {
      const nodes = fields.map((f) => valueNode(ctx, v, f, anyCased, place));
      return v.t === "null" || (v.t === "exists" && !v.value) ? and(nodes) : or(nodes);
    };
  }
  const nodes = values.map((v) => {
    const n = build(v);
    return state.negate ? not(n) : n;
  });
  return state.all ? and(nodes) : or(nodes);
}

function resolveField(ctx: Ctx, name: string, place: Place): Field[] {
  let f = ctx.fieldCache.get(name);
  if (!f) {
    const r = ctx.source ? ctx.source.field(name) : ctx.opts.profile.field(name, ctx.ls);
    if (isUnsupported(r)) throw problem("unsupported", place, r.unsupported);
    if (r.length === 0)
      throw problem("unsupported", place, `field '${name}' has no index field in profile '${ctx.opts.profile.name}'`);
    f = r;
    ctx.fieldCache.set(name, f);
  }
  return f;
}

function keywordFields(ctx: Ctx, place: Place): Field[] {
  if (!ctx.keywordFields)
    ctx.keywordFields = ctx.source ? ctx.source.keywordFields() : ctx.opts.profile.keywordFields(ctx.ls);
  if (ctx.keywordFields.length === 0) {
    throw problem(
      "unsupported",
      place,
      `keyword search (a value with no field) but profile '${ctx.opts.profile.name}' names no keyword fields for this logsource`,
    );
  }
  return ctx.keywordFields;
}

function finalParts(v: Extract<SigmaValue, { t: "str" }>, place: Place): WildcardPart[] {
  const out: WildcardPart[] = [];
  for (const p of v.parts as ValuePart[]) {
    if ("ph" in p) throw problem("error", place, `placeholder %${p.ph}% left after expansion`);
    out.push(p);
  }
  return out;
}

/**
 * A keyword is a full-text search: it is found anywhere in a field's value, as sigmac's and
 * pySigma's Elasticsearch backends search keywords (`*value*`). Stars already at either end stay.
 */
function unanchored(parts: WildcardPart[]): WildcardPart[] {
  const out = [...parts];
  if (!(out[0] && "any" in out[0])) out.unshift({ any: true });
  if (!(out[out.length - 1] && "any" in out[out.length - 1]!)) out.push({ any: true });
  return out;
}

function keywordNode(v: SigmaValue, fields: Field[], anyCased: boolean, place: Place): Node {
  switch (v.t) {
    case "expansion":
      return or(v.values.map((x) => keywordNode(x, fields, anyCased, place)));
    case "str":
      return { kind: "keyword", fields, parts: unanchored(finalParts(v, place)), cased: v.cased ?? anyCased };
    case "num":
      return { kind: "keyword", fields, parts: unanchored([{ lit: v.src }]), cased: false };
    case "bool":
      return { kind: "keyword", fields, parts: unanchored([{ lit: String(v.value) }]), cased: false };
    case "re":
      throw problem("unsupported", place, "a regular expression with no field is not supported");
    default:
      throw problem("error", place, `a ${v.t} value needs a field`);
  }
}

function valueNode(ctx: Ctx, v: SigmaValue, f: Field, anyCased: boolean, place: Place): Node {
  switch (v.t) {
    case "expansion":
      return or(v.values.map((x) => valueNode(ctx, x, f, anyCased, place)));
    case "null":
      return { kind: "exists", field: f, exists: false };
    case "exists":
      return { kind: "exists", field: f, exists: v.value };
    case "num":
      if (NUMERIC.has(f.type)) return { kind: "number", field: f, op: "eq", value: v.value };
      return { kind: "equals", field: f, value: v.src, cased: false };
    case "bool":
      return { kind: "equals", field: f, value: String(v.value), cased: false };
    case "cmp":
      return { kind: "number", field: f, op: v.op, value: v.value };
    case "re":
      return { kind: "regex", field: f, regex: { pattern: v.pattern, flags: { ...v.flags } } };
    case "cidr":
      return { kind: "cidr", field: f, cidr: v.cidr };
    case "fieldref": {
      const others = resolveField(ctx, v.field, place);
      return or(others.map((o) => ({ kind: "fieldref", field: f, other: o, cased: anyCased }) as Node));
    }
    case "str": {
      const parts = finalParts(v, place);
      const cased = v.cased ?? anyCased;
      if (parts.length > 0 && parts.every((p) => "any" in p)) return { kind: "exists", field: f, exists: true };
      const shape = wildcardShape(parts);
      if (shape.kind === "wildcard") return { kind: "wildcard", field: f, parts, cased };
      if (shape.kind === "equals" && NUMERIC.has(f.type) && /^[-+]?\d+(\.\d+)?$/.test(shape.value)) {
        return { kind: "number", field: f, op: "eq", value: Number(shape.value) };
      }
      return { kind: shape.kind, field: f, value: shape.value, cased };
    }
  }
}
