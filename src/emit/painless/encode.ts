/**
 * The compiled rules as compact `params` for the fixed Painless matcher (src/painless/matcher.painless). Nothing here
 * reaches script source. Layout of the params object (keys: PARAM in layout.ts):
 *
 *   f   fields:  [[sourcePath, typeCode, ignoreAbove], …]      typeCode: see TYPE
 *   r   rules:   [[condition, whitelist|null], …]             nodes below
 *   m   meta:    [[id, type, reason, summaryParts, modelName, modelType, techniques, extras|null], …]
 *   xk  every extra `outliers.` key of the set (keeps extra lists aligned with rule_id)
 *   a   rules that are candidates for every event (no index key)
 *   dk  index dimensions [[fieldIdx, mode], …] ([fieldIdx, 3, gramLength(, 1 when every key holds a
 *       non-ASCII character)] for grams)   mode 0 folded value, 1 folded base name after the
 *       last `\`, 2 integer value of a long field, 3 folded value contains the key (a gram)
 *   dm  per dimension: {key: [ruleIdx, …]}
 *   dg  per dimension: every rule of a gram dimension (mode 3), the candidates of a value longer
 *       than gl (GRAM_SCAN_LIMIT) characters; empty for the other modes
 *   dp  per source path: the dimensions on it, {path: [dimIdx, …]} (the event's fields select them)
 *   gf  a 65,536-bit filter of every gram key (gramHash), 8 bits per character: the matcher looks a
 *       gram up only when its bit is set
 *   gl  GRAM_SCAN_LIMIT
 *   x   regex programs (src/ir/regex), referenced by index
 *   mc  number of memo slots: a compound subtree that occurs more than once in the set (the logsource
 *       guards, shared by hundreds of rules) becomes [MEMO, slot, node], evaluated once per event
 *
 * Every code and key above is named once in layout.ts (OP, VIEW, CMP, MODE, DIM, PARAM, FIELD, META),
 * the table the Painless files take their names from.
 *
 * Nodes are lists headed by an op code (OP). Predicates are translated exactly as src/emit/dsl.ts
 * translates them (empty prefix → exists, equals on ip → address equality, …), so both sides see the
 * same predicate after normalisation.
 */
import type { Field, Node, Predicate, Rule, WildcardPart } from "../../ir/types.ts";
import { wildcardShape } from "../../ir/build.ts";
import { cidrNetwork, ipBytes, isCidr, isIp } from "../../ir/ip.ts";
import { caseless, DECIMAL, foldAscii, globParams, isStringField } from "../../ir/semantics.ts";
import { CMP, META, MODE, OP, TYPE, VIEW } from "./layout.ts";
import { regexProgram } from "./regex.ts";

export { OP, TYPE } from "./layout.ts";

/** String ops an OR of several on one field folds into one ANYSTR node. */
const FOLDABLE: ReadonlySet<number> = new Set([OP.EQ, OP.CONTAINS, OP.PREFIX, OP.SUFFIX]);

const CMP_OF = { eq: CMP.EQ, gt: CMP.GT, gte: CMP.GTE, lt: CMP.LT, lte: CMP.LTE } as const;

/** The keyword `ignore_above` of the profiles' index templates (values longer are not indexed). */
export const DEFAULT_IGNORE_ABOVE = 8191;

export class EncodeError extends Error {
  override name = "EncodeError";
}

export type Enc = unknown[];

export interface Params {
  f: [string, number, number][];
  r: [Enc, Enc | null][];
  m: unknown[][];
  xk: string[];
  a: number[];
  dk: ([number, number] | [number, 3, number] | [number, 3, number, 1])[];
  dm: Record<string, number[]>[];
  dg: number[][];
  dp: Record<string, number[]>;
  gf: string;
  gl: number;
  x: unknown[];
  mc: number;
}

export interface EncodeOptions {
  ignoreAbove?: number;
}

export { foldAscii, isStringField } from "../../ir/semantics.ts";
export { ipBytes } from "../../ir/ip.ts";

/** The view string predicates (and exists, fieldref) compare: keyword text, or the typed doc value's text. */
export function stringView(f: Field): number {
  return isStringField(f) ? 0 : TYPE[f.type];
}

class Encoder {
  fields: [string, number, number][] = [];
  fieldIdx = new Map<string, number>();
  regexes: unknown[] = [];
  constructor(private ignoreAbove: number) {}

  /** A field's value view: `type` (default: what string predicates compare, see stringView). */
  field(f: Field, type: number = stringView(f)): number {
    const key = `${f.name}\u0000${type}`;
    let i = this.fieldIdx.get(key);
    if (i === undefined) {
      i = this.fields.length;
      this.fields.push([f.name, type, type === VIEW.KEYWORD || type === VIEW.DATE ? this.ignoreAbove : -1]);
      this.fieldIdx.set(key, i);
    }
    return i;
  }

  str(op: number, f: Field, value: string, cased: boolean): Enc {
    const exact = cased || caseless(value);
    return [op, this.field(f), exact ? 1 : 0, exact ? value : foldAscii(value)];
  }

  exists(f: Field): Enc {
    return [OP.EXISTS, this.field(f)];
  }

  equals(f: Field, value: string, cased: boolean): Enc {
    if (isStringField(f)) return this.str(OP.EQ, f, value, cased);
    switch (f.type) {
      case "ip":
        return isIp(value) ? [OP.CIDR, this.field(f, TYPE.ip), ipBytes(value), 128] : [OP.FALSE];
      case "long":
      case "double":
        return DECIMAL.test(value.trim()) ? [OP.NUM, this.field(f), CMP_OF.eq, Number(value)] : [OP.FALSE];
      case "boolean": {
        const v = cased ? value : value.toLowerCase();
        return v === "true" || v === "false" ? [OP.BOOL, this.field(f), v === "true" ? 1 : 0] : [OP.FALSE];
      }
      default:
        return this.str(OP.EQ, f, value, cased);
    }
  }

  pattern(f: Field, parts: WildcardPart[], cased: boolean): Enc {
    const shape = wildcardShape(parts);
    switch (shape.kind) {
      case "equals":
        return this.equals(f, shape.value, cased);
      case "prefix":
        return shape.value === "" ? this.exists(f) : this.str(OP.PREFIX, f, shape.value, cased);
      case "suffix":
        return shape.value === "" ? this.exists(f) : this.str(OP.SUFFIX, f, shape.value, cased);
      case "contains":
        return shape.value === "" ? this.exists(f) : this.str(OP.CONTAINS, f, shape.value, cased);
      default: {
        const { value: pat, mask } = globParams(parts);
        const exact = cased || caseless(pat.replace(/\*/g, ""));
        const enc: Enc = [OP.GLOB, this.field(f), exact ? 1 : 0, exact ? pat : foldAscii(pat), mask];
        // Only `*` wildcards: the literal segments between them, matched with indexOf (no per-character
        // loop, so long values stay far from Painless' loop limit).
        if (!mask.includes("2")) {
          const segs: string[] = [""];
          for (const p of parts) {
            if ("lit" in p) segs[segs.length - 1] += exact ? p.lit : foldAscii(p.lit);
            else segs.push("");
          }
          enc.push(segs);
        }
        return enc;
      }
    }
  }

  predicate(p: Predicate): Enc {
    switch (p.kind) {
      case "equals":
        return this.equals(p.field, p.value, p.cased);
      case "prefix":
        return p.value === "" ? this.exists(p.field) : this.str(OP.PREFIX, p.field, p.value, p.cased);
      case "suffix":
        return p.value === "" ? this.exists(p.field) : this.str(OP.SUFFIX, p.field, p.value, p.cased);
      case "contains":
        return p.value === "" ? this.exists(p.field) : this.str(OP.CONTAINS, p.field, p.value, p.cased);
      case "wildcard":
        return this.pattern(p.field, p.parts, p.cased);
      case "keyword": {
        if (p.fields.length === 0) return [OP.FALSE];
        // Per field path, so that the matcher looks only at the fields the event holds.
        const byPath: Record<string, Enc[]> = Object.create(null);
        for (const f of p.fields) (byPath[f.name] ??= []).push(this.pattern(f, p.parts, p.cased));
        return keywordNode(byPath);
      }
      case "exists":
        return p.exists ? this.exists(p.field) : [OP.NOT, this.exists(p.field)];
      case "fieldref":
        return [OP.FIELDREF, this.field(p.field), this.field(p.other), p.cased ? 1 : 0];
      case "number": {
        const f = p.field;
        if (!Number.isFinite(p.value)) throw new EncodeError(`${f.name}: number ${p.value} is not finite`);
        if (f.type === "long" || f.type === "double") return [OP.NUM, this.field(f, TYPE[f.type]), CMP_OF[p.op], p.value];
        if (isStringField(f))
          return p.op === "eq" ? [OP.EQ, this.field(f), 1, String(p.value)] : [OP.KNUM, this.field(f), CMP_OF[p.op], p.value];
        switch (f.type) {
          case "boolean":
            if (p.op === "eq") return p.value === 1 || p.value === 0 ? [OP.BOOL, this.field(f), p.value] : [OP.FALSE];
            throw new EncodeError(`${f.name}: numeric comparison on a boolean field`);
          default:
            throw new EncodeError(`${f.name}: numeric comparison on a field of type ${f.type}`);
        }
      }
      case "regex": {
        if (!isStringField(p.field))
          throw new EncodeError(`${p.field.name}: regular expression on a field of type ${p.field.type}`);
        const prog = regexProgram(p.regex);
        if ("unsupported" in prog) throw new EncodeError(`${p.field.name}|re: ${prog.unsupported}`);
        this.regexes.push(prog.program);
        return [OP.REGEX, this.field(p.field), this.regexes.length - 1, prog.folded ? 1 : 0];
      }
      case "cidr": {
        if (p.field.type !== "ip") throw new EncodeError(`${p.field.name}|cidr: the field is mapped as ${p.field.type}, not ip`);
        if (!isCidr(p.cidr)) throw new EncodeError(`${p.field.name}|cidr: '${p.cidr}' is not an IPv4 or IPv6 network`);
        const net = cidrNetwork(p.cidr);
        return [OP.CIDR, this.field(p.field, TYPE.ip), net.bytes, net.bits];
      }
    }
  }

  node(n: Node): Enc {
    switch (n.kind) {
      case "and":
        return [OP.AND, ...n.children.map((c) => this.node(c))];
      case "or":
        return orNode(n.children.map((c) => this.node(c)));
      case "not":
        return [OP.NOT, this.node(n.child)];
      case "const":
        return [n.value ? OP.TRUE : OP.FALSE];
      default:
        return this.predicate(n);
    }
  }
}

/**
 * An OR, with its keyword searches merged into one KEYWORD node ({path: [per-field nodes]}, whose
 * per-field lists become ORs) and the same string test on the same field over several values folded
 * into one ANYSTR node [ANYSTR, op, field, exact, [values…]]: one step of the matcher per field
 * instead of one per value.
 */
function orNode(kids: Enc[]): Enc {
  const out: Enc[] = [];
  let keyword: Record<string, Enc[]> | undefined;
  const groups = new Map<string, Enc[]>();
  for (const k of kids) {
    if (k[0] === OP.KEYWORD) {
      keyword ??= Object.create(null) as Record<string, Enc[]>;
      for (const [path, node] of Object.entries(k[1] as Record<string, Enc>)) (keyword[path] ??= []).push(node);
    } else if (FOLDABLE.has(k[0] as number) && k.length === 4) {
      const g = `${k[0]}:${k[1]}:${k[2]}`;
      if (!groups.has(g)) {
        groups.set(g, []);
        out.push(["group", g]);
      }
      groups.get(g)!.push(k);
    } else out.push(k);
  }
  const flat = out.map((k) => {
    if (k[0] !== "group") return k;
    const members = groups.get(k[1] as string)!;
    if (members.length === 1) return members[0]!;
    const [op, fi, exact] = members[0]!;
    return [OP.ANYSTR, op, fi, exact, members.map((m) => m[3])];
  });
  if (keyword) flat.push(keywordNode(keyword));
  return flat.length === 1 ? flat[0]! : [OP.OR, ...flat];
}

/** Java's `31 * h + c` over the gram's UTF-16 units (int overflow), low 16 bits: the matcher's hash. */
export function gramHash(gram: string): number {
  let h = 0;
  for (let i = 0; i < gram.length; i++) h = (Math.imul(h, 31) + gram.charCodeAt(i)) | 0;
  return h & 0xffff;
}

/** The bit filter of `gf`: bit gramHash(g) set for every key g; characters 0–255 only (valid JSON text). */
function gramFilter(keys: string[]): string {
  const bits = new Uint8Array(8192);
  for (const k of keys) {
    const h = gramHash(k);
    bits[h >> 3]! |= 1 << (h & 7);
  }
  let out = "";
  for (const b of bits) out += String.fromCharCode(b);
  return out;
}

/** [KEYWORD, {path: node}]: true when a field the event holds satisfies its node (absent fields never do). */
function keywordNode(byPath: Record<string, Enc[]>): Enc {
  const out: Record<string, Enc> = Object.create(null);
  for (const [path, list] of Object.entries(byPath)) out[path] = list.length === 1 ? list[0]! : orNode(list);
  return [OP.KEYWORD, out];
}

// ---------------------------------------------------------------------------------------------
// Index keys: a rule is a candidate for an event only when the event holds one of its keys.
//
// Modes: 0 the folded value equals the key, 1 the folded base name after the last `\` equals it,
// 2 the integer value of a long field equals it, 3 the folded value CONTAINS the key, a GRAM of
// GRAM_LENGTH characters taken from a literal the value must contain (contains, prefix, suffix,
// wildcard segments), or of SHORT_GRAM_LENGTH (or 1) for a shorter literal (an emoji is two UTF-16
// units, some symbols one).
// Each gram length is its own dimension. Keys are necessary conditions only (the matcher still
// evaluates the rule), so folding a case-sensitive literal keeps a superset.

interface Key {
  field: Field;
  mode: (typeof MODE)[keyof typeof MODE];
  key: string;
}

/** Gram lengths are 4, 2 and 1: the matcher's gram hash (matcher.painless, oxDim) is unrolled for these. */
export const GRAM_LENGTH = 4;
export const SHORT_GRAM_LENGTH = 2;
/**
 * Values longer than this are not scanned gram by gram: every rule of the field's gram index becomes
 * a candidate instead (a superset, and the script stays far from Painless' loop limit).
 */
export const GRAM_SCAN_LIMIT = 4096;

/**
 * What a key costs: roughly how often an event holds it, in percent of the events of its logsource.
 * A rule's key set costs the sum of its keys; the cheapest set wins, and a rule whose every choice
 * costs more than its logsource guard is keyed by the guard. Channel and provider carry every event
 * of a source, an event id most of one; a whole value or a base name is rare (VALUE_COST); a gram
 * costs more the more literals of the rule set share it (a proxy for how common its text is: `.exe`,
 * `\win`).
 */
const VALUE_COST = 0.05;
const GUARD_COST: Record<string, number> = {
  "winlog.channel": 150,
  "winlog.provider_name": 150,
  "event.provider": 150,
  "event.module": 150,
  "event.code": 110,
  "winlog.event_id": 100,
};

/** Per gram, how many distinct literals of the rule set contain it (see GUARD_COST). */
export type GramCounts = Map<string, number>;

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * A literal's grams: of GRAM_LENGTH, or of SHORT_GRAM_LENGTH (or 1) when it is shorter than that or
 * has no whole GRAM_LENGTH gram (an emoji sequence can have none that does not split a pair).
 */
function gramsOf(lit: string): string[] {
  for (const n of [GRAM_LENGTH, SHORT_GRAM_LENGTH, 1]) {
    if (n > lit.length) continue;
    const out: string[] = [];
    for (let i = 0; i + n <= lit.length; i++) {
      // Never half a surrogate pair at either end: such a key is no text (and breaks JSON writers).
      if (isLowSurrogate(lit.charCodeAt(i)) || isHighSurrogate(lit.charCodeAt(i + n - 1))) continue;
      out.push(lit.slice(i, i + n));
    }
    if (out.length) return out;
  }
  return [];
}

/** The literal runs a string predicate requires in the value (folded), or null when it has none. */
function requiredLiterals(p: Predicate): string[] | null {
  if (!("field" in p) || !isStringField(p.field)) return null;
  switch (p.kind) {
    case "contains":
    case "prefix":
    case "suffix":
      return [foldAscii(p.value)];
    case "wildcard":
      return p.parts.flatMap((x) => ("lit" in x ? [foldAscii(x.lit)] : []));
    default:
      return null;
  }
}

/** Counts, for the gram cost model, the literals of every rule in the set. */
export function countGrams(rules: Rule[]): GramCounts {
  const literals = new Set<string>();
  const visit = (n: Node): void => {
    if (n.kind === "and" || n.kind === "or") n.children.forEach(visit);
    else if (n.kind === "not") visit(n.child);
    else if (n.kind !== "const") for (const l of requiredLiterals(n) ?? []) literals.add(l);
  };
  for (const r of rules) visit(r.condition);
  const counts: GramCounts = new Map();
  for (const l of literals) for (const g of new Set(gramsOf(l))) counts.set(g, (counts.get(g) ?? 0) + 1);
  return counts;
}

function gramCost(counts: GramCounts, gram: string): number {
  // A gram of one literal only is as rare as a whole value; each other literal sharing it adds.
  // Non-ASCII text (emoji, look-alike letters) is rare in Windows events, whatever the rule set
  // shares (variation selectors, skin-tone modifiers). Short ASCII grams are common text, whatever
  // the rules say: a 2-gram at least 1, a single character as common as the guard.
  const shared = Math.max(0, (counts.get(gram) ?? 1) - 1);
  if (/[^\x00-\x7f]/.test(gram)) return Math.min(100, 0.01 * (1 + shared));
  const c = Math.min(100, VALUE_COST + 0.2 * shared);
  return gram.length >= GRAM_LENGTH ? c : Math.max(c, gram.length === 1 ? 100 : 1);
}

function keyOfPredicate(p: Predicate, grams: GramCounts): Key[] | null {
  const f = "field" in p ? p.field : undefined;
  if (!f) return null;
  const stringField = isStringField(f);
  let kind: string = p.kind;
  let value: string | undefined = "value" in p && typeof p.value === "string" ? p.value : undefined;
  if (p.kind === "wildcard") {
    const s = wildcardShape(p.parts);
    if (s.kind !== "wildcard") {
      kind = s.kind;
      value = s.value;
    }
  }
  if (p.kind === "number") {
    if (p.op !== "eq") return null;
    if (f.type === "long" && Number.isSafeInteger(p.value)) return [{ field: f, mode: MODE.LONG, key: String(p.value) }];
    if (f.type !== "double" && stringField) return [{ field: f, mode: MODE.VALUE, key: foldAscii(String(p.value)) }];
    return null;
  }
  if (!stringField) return null;
  if (kind === "equals" && value !== undefined) return [{ field: f, mode: MODE.VALUE, key: foldAscii(value) }];
  if (kind === "suffix" && value !== undefined && value.length > 1 && value[0] === "\\" && !value.slice(1).includes("\\"))
    return [{ field: f, mode: MODE.BASENAME, key: foldAscii(value.slice(1)) }];
  // The rarest gram of the literals the value must contain.
  let best: string | undefined;
  let bestCost = Infinity;
  for (const lit of requiredLiterals(p) ?? [])
    for (const g of gramsOf(lit)) {
      const c = gramCost(grams, g);
      if (c < bestCost) [best, bestCost] = [g, c];
    }
  return best === undefined ? null : [{ field: f, mode: MODE.GRAM, key: best }];
}

function cost(keys: Key[], grams: GramCounts): number {
  let c = 0;
  for (const k of keys) c += k.mode === MODE.GRAM ? gramCost(grams, k.key) : (GUARD_COST[k.field.name] ?? VALUE_COST);
  return c;
}

/**
 * The cheapest set of keys one of which every event matching `n` must hold; null when none is known.
 * `grams` (countGrams of the rule set) prices gram keys; without it every gram costs the minimum.
 */
export function indexKeys(n: Node, grams: GramCounts = new Map()): Key[] | null {
  switch (n.kind) {
    case "const":
      return n.value ? null : [];
    case "not":
      return null;
    case "or": {
      const all: Key[] = [];
      for (const c of n.children) {
        const k = indexKeys(c, grams);
        if (k === null) return null;
        all.push(...k);
      }
      return all;
    }
    case "and": {
      let best: Key[] | null = null;
      let bestCost = Infinity;
      for (const c of n.children) {
        const k = indexKeys(c, grams);
        if (k === null) continue;
        const ck = cost(k, grams);
        if (ck < bestCost) [best, bestCost] = [k, ck];
      }
      return best;
    }
    default:
      return keyOfPredicate(n, grams);
  }
}

// ---------------------------------------------------------------------------------------------
// Tags

/** `{field}` placeholders (ee-outliers: `\{([^\}]*)\}`) split out: [lit, field, lit, …, lit]. */
export function summaryParts(template: string): string[] {
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    parts.push(template.slice(last, m.index), m[1]!);
    last = m.index! + m[0].length;
  }
  parts.push(template.slice(last));
  return parts;
}

/** ATT&CK technique ids: the rule's own list plus `attack.tNNNN[.NNN]` tags, upper-cased, unique. */
export function techniquesOf(rule: Rule): string[] {
  const out: string[] = [];
  const add = (t: string) => {
    const u = t.toUpperCase();
    if (!out.includes(u)) out.push(u);
  };
  for (const t of rule.tagsOut.techniques) add(t);
  for (const t of rule.tags) {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
    if (m) add(m[1]!);
  }
  return out;
}

/**
 * A rule's `outliers.type` entries: its type list, each entry on its own, as ee-outliers writes a
 * use case's comma-separated `outlier_type` (split, trimmed, appended; see docs/tags.md).
 */
export function typeEntries(rule: Rule): string[] {
  return rule.tagsOut.type.map((t) => t.trim()).filter((t) => t.length > 0);
}

export function ruleMeta(rule: Rule): unknown[] {
  const t = rule.tagsOut;
  const extras = Object.keys(t.extra ?? {}).length ? t.extra : null;
  const meta: unknown[] = [];
  meta[META.ID] = rule.id;
  meta[META.TYPES] = typeEntries(rule);
  meta[META.REASON] = t.reason;
  meta[META.SUMMARY] = summaryParts(t.summary);
  meta[META.MODEL_NAME] = t.modelName;
  meta[META.MODEL_TYPE] = t.modelType;
  meta[META.TECHNIQUES] = techniquesOf(rule);
  meta[META.EXTRAS] = extras;
  return meta;
}

export interface Encoded {
  params: Params;
  /** Rules encoded, in params order. */
  rules: Rule[];
  /** Rules left out, with the reason. */
  skipped: { id: string; reason: string }[];
}

/** Encodes rules (those with `liveUnsupported` or that cannot be encoded are skipped and listed). */
export function encodeRules(rules: Rule[], opts: EncodeOptions = {}): Encoded {
  const enc = new Encoder(opts.ignoreAbove ?? DEFAULT_IGNORE_ABOVE);
  const params: Params = { f: enc.fields, r: [], m: [], xk: [], a: [], dk: [], dm: [], dg: [], dp: Object.create(null) as Record<string, number[]>, gf: "", gl: GRAM_SCAN_LIMIT, x: enc.regexes, mc: 0 };
  const kept: Rule[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const dims = new Map<string, number>();
  const seen = new Set<string>();
  const grams = countGrams(rules);
  for (const rule of rules) {
    if (rule.liveUnsupported) {
      skipped.push({ id: rule.id, reason: rule.liveUnsupported });
      continue;
    }
    if (seen.has(rule.id)) {
      skipped.push({ id: rule.id, reason: "duplicate rule id" });
      continue;
    }
    let cond: Enc;
    let wl: Enc | null;
    const mark = { f: enc.fields.length, x: enc.regexes.length };
    try {
      cond = enc.node(rule.condition);
      wl = rule.whitelist ? enc.node(rule.whitelist) : null;
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      // Fields registered by the failed rule stay (harmless); its regex programs are dropped.
      enc.regexes.length = mark.x;
      skipped.push({ id: rule.id, reason: e.message });
      continue;
    }
    seen.add(rule.id);
    const ri = params.r.length;
    params.r.push([cond, wl]);
    params.m.push(ruleMeta(rule));
    for (const k of Object.keys(rule.tagsOut.extra ?? {})) if (!params.xk.includes(k)) params.xk.push(k);
    kept.push(rule);
    const keys = indexKeys(rule.condition, grams);
    if (keys === null) {
      params.a.push(ri);
      continue;
    }
    for (const k of keys) {
      const fi = enc.field(k.field, k.mode === MODE.LONG ? TYPE.long : stringView(k.field));
      // A gram dimension per gram length: [fieldIdx, 3, length].
      const dimKey = k.mode === MODE.GRAM ? `${fi}:3:${k.key.length}` : `${fi}:${k.mode}`;
      let d = dims.get(dimKey);
      if (d === undefined) {
        d = params.dk.length;
        params.dk.push(k.mode === MODE.GRAM ? [fi, MODE.GRAM, k.key.length] : [fi, k.mode]);
        params.dm.push(Object.create(null) as Record<string, number[]>);
        params.dg.push([]);
        dims.set(dimKey, d);
      }
      const list = (params.dm[d]![k.key] ??= []);
      if (list[list.length - 1] !== ri) list.push(ri);
      const every = params.dg[d]!;
      if (k.mode === MODE.GRAM && every[every.length - 1] !== ri) every.push(ri);
    }
  }
  // A gram dimension whose every key holds a non-ASCII character: [fieldIdx, 3, length, 1], so that
  // the matcher skips its scan on the (usual) all-ASCII value.
  params.dk.forEach((dim, d) => {
    if (dim[1] === MODE.GRAM && Object.keys(params.dm[d]!).every((k) => /[^\x00-\x7f]/.test(k))) params.dk[d] = [dim[0], MODE.GRAM, dim[2]!, 1];
  });
  params.dk.forEach(([fi], d) => (params.dp[params.f[fi]![0]] ??= []).push(d));
  params.gf = gramFilter(params.dk.flatMap((dim, d) => (dim[1] === MODE.GRAM ? Object.keys(params.dm[d]!) : [])));
  params.mc = memoize(params.r);
  return { params, rules: kept, skipped };
}

/** Replaces compound subtrees seen more than once across the rules by memo nodes; returns the slot count. */
function memoize(rules: [Enc, Enc | null][]): number {
  const compound = (n: Enc) => n[0] === OP.AND || n[0] === OP.OR || n[0] === OP.NOT;
  const count = new Map<string, number>();
  const visit = (n: Enc): string => {
    if (!compound(n)) return JSON.stringify(n);
    const key = `[${n[0]},${n.slice(1).map((c) => visit(c as Enc)).join(",")}]`;
    count.set(key, (count.get(key) ?? 0) + 1);
    return key;
  };
  for (const [c, w] of rules) {
    visit(c);
    if (w) visit(w);
  }
  const slots = new Map<string, number>();
  const rewrite = (n: Enc): { enc: Enc; key: string } => {
    if (!compound(n)) return { enc: n, key: JSON.stringify(n) };
    const kids = n.slice(1).map((c) => rewrite(c as Enc));
    const key = `[${n[0]},${kids.map((k) => k.key).join(",")}]`;
    const enc: Enc = [n[0], ...kids.map((k) => k.enc)];
    if ((count.get(key) ?? 0) < 2) return { enc, key };
    let slot = slots.get(key);
    if (slot === undefined) slots.set(key, (slot = slots.size));
    return { enc: [OP.MEMO, slot, enc], key };
  };
  for (const r of rules) {
    r[0] = rewrite(r[0]).enc;
    if (r[1]) r[1] = rewrite(r[1]).enc;
  }
  return slots.size;
}
