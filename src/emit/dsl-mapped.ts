/**
 * Mapping-aware emission (backfill, untag, doctor): the query DSL of src/emit/dsl.ts compiled for the
 * target indices' real mappings.
 *
 * The truth is the event's `_source`: the Painless matcher decides on it, live and in backfill.
 * The mapping profile only ASSUMED how fields are indexed; an index a SOC already has may say
 * otherwise (ES's dynamic text + `.keyword` with ignore_above 256, Winlogbeat's keyword with
 * ignore_above 1024, a field missing or typed differently in some indices). Given the indices' real
 * mappings (`FieldIndex`), each predicate is compiled for its field as really indexed:
 * - a string predicate runs on the field's keyword value: the field itself (keyword, wildcard) or
 *   the keyword sub-field of a text (or typed) field, whatever its name;
 * - where the index cannot answer exactly, the query WIDENS (m.upper) or, under a `not`, narrows
 *   (so that the negation widens): text-only fields, a type other than the rules assume, objects
 *   whose values are not all mapped → "the field has some value" (or everything) / nothing; a keyword
 *   with an `ignore_above` (the matcher has none: it reads values of any length from `_source`) → also
 *   the events whose value was too long to be indexed (the field, or the text field, without an
 *   indexed keyword value);
 * - a field no index maps, where every value would have been mapped, holds no value: no match;
 * - indices that index a field differently each get their own clause (`_index` terms).
 * The widened query only selects candidates; the script decides, so tags never change.
 * Known limit: an ARRAY mixing values under and over a keyword's ignore_above has an indexed value,
 * so the "too long" widening cannot see its long element (single values, which Windows event data
 * always is, are exact).
 */
import type { Field, Node, Predicate } from "../ir/types.ts";
import { isStringField } from "../ir/semantics.ts";
import { describeIndexed, keywordPathOf, type FieldIndex, type IndexedField, type KeywordPath } from "./field-index.ts";
import { andOf, MATCH_ALL, MATCH_NONE, mergeKey, orOf, predicateQuery } from "./dsl.ts";

type Q = Record<string, unknown>;

/** The matcher's keyword limit (match-plan/ops.ts DEFAULT_IGNORE_ABOVE): none, it sees values of any length. */
const MATCHER_IGNORE_ABOVE = Number.POSITIVE_INFINITY;

export interface Mapped {
  fields: FieldIndex;
  /** true: a superset of the events the matcher would tag; false: a subset (under a `not`). */
  upper: boolean;
  /** Told each time a predicate could not be compiled exactly for a field. */
  widened?: (field: string, why: string) => void;
}

export function flip(m: Mapped): Mapped {
  return { ...m, upper: !m.upper };
}

function exists(path: string): Q {
  return { exists: { field: path } };
}

/** Some superset of the events holding a value in `f` (for widened predicates). */
function presence(f: IndexedField): Q {
  switch (f.kind) {
    case "absent":
      return MATCH_NONE;
    case "unknown":
      return MATCH_ALL;
    case "keyword":
      return Number.isFinite(f.ignoreAbove) ? MATCH_ALL : exists(f.path);
    case "text":
      return exists(f.path);
    case "typed":
      return f.ignoreMalformed ? MATCH_ALL : exists(f.path);
  }
}

/** Events whose value may be too long for the keyword path (not indexed there). */
function tooLong(f: IndexedField): Q {
  if (f.kind === "keyword") return andOf([], [exists(f.path)]);
  if ((f.kind === "text" || (f.kind === "typed" && !f.ignoreMalformed)) && f.sub)
    return andOf([exists(f.path)], [exists(f.sub.path)]);
  if (f.kind === "typed" && f.sub) return andOf([], [exists(f.sub.path)]);
  return MATCH_ALL;
}

/** The predicate cannot match a value longer than `limit` (so values cut by ignore_above do not matter). */
function lengthBounded(p: Predicate, limit: number): boolean {
  if (p.kind === "equals") return p.value.length <= limit;
  if (p.kind === "number") return p.op === "eq" && String(p.value).length <= limit;
  return false;
}

function containsScript(q: unknown): boolean {
  if (Array.isArray(q)) return q.some(containsScript);
  if (q && typeof q === "object") return Object.entries(q).some(([k, v]) => k === "script" || containsScript(v));
  return false;
}

function sameType(real: string, assumed: Field["type"]): boolean {
  return real === assumed;
}

/** The real field a predicate compiles on (with its keyword path), or why it cannot compile exactly. */
function realField(p: Predicate & { field: Field }, f: IndexedField): { field: Field; kw?: KeywordPath } | string {
  const pf = p.field;
  if (p.kind === "cidr")
    return f.kind === "typed" && f.type === "ip"
      ? { field: { name: f.path, type: "ip" } }
      : `${describeIndexed(f)}, not ip`;
  if (isStringField(pf)) {
    const kw = keywordPathOf(f);
    if (!kw) return `${describeIndexed(f)}: no keyword value to compare`;
    return { field: { name: kw.path, type: "keyword" }, kw };
  }
  if (f.kind === "typed" && sameType(f.type, pf.type)) return { field: { name: f.path, type: pf.type } };
  return `${describeIndexed(f)} where the rules assume ${pf.type}`;
}

/** One single-field predicate on one way of indexing its field. */
function onIndexed(p: Predicate & { field: Field }, f: IndexedField, m: Mapped): Q {
  const widen = (why: string, to: Q) => {
    m.widened?.(p.field.name, why);
    return m.upper ? to : MATCH_NONE;
  };
  if (f.kind === "absent") return MATCH_NONE;
  if (f.kind === "unknown") return widen(describeIndexed(f), MATCH_ALL);
  const real = realField(p, f);
  if (typeof real === "string") return widen(real, presence(f));
  const q = predicateQuery({ ...p, field: real.field } as Predicate);
  const kw = real.kw;
  if (!kw) return q;
  if (kw.wildcard && containsScript(q))
    return widen(`${kw.path} is a wildcard field (no doc-value script)`, presence(f));
  if (kw.ignoreAbove < MATCHER_IGNORE_ABOVE && !lengthBounded(p, kw.ignoreAbove)) {
    m.widened?.(p.field.name, `${kw.path} has ignore_above ${kw.ignoreAbove}`);
    return m.upper ? orOf([q, tooLong(f)]) : q;
  }
  if (kw.ignoreAbove > MATCHER_IGNORE_ABOVE && !lengthBounded(p, MATCHER_IGNORE_ABOVE) && !m.upper) {
    // The index holds values the matcher ignores (longer than 8191): a subset needs them out.
    m.widened?.(p.field.name, `${kw.path} indexes values longer than ${MATCHER_IGNORE_ABOVE}`);
    return MATCH_NONE;
  }
  return q;
}

function onFieldVariants(p: Predicate & { field: Field }, m: Mapped, one: (f: IndexedField) => Q): Q {
  const vs = m.fields.variants(p.field.name);
  if (vs.length === 1) return one(vs[0]!.field);
  return orOf(vs.map((v) => andOf([{ terms: { _index: v.indices } }, one(v.field)])));
}

/** A predicate compiled for the real mappings (a superset, or under `not` a subset, of the matcher's events). */
export function mappedPredicateQuery(p: Predicate, m: Mapped): Q {
  switch (p.kind) {
    case "keyword":
      return orOf(
        p.fields.map((f) => mappedPredicateQuery({ kind: "wildcard", field: f, parts: p.parts, cased: p.cased }, m)),
      );
    case "exists":
      if (!p.exists) return andOf([], [mappedPredicateQuery({ ...p, exists: true }, flip(m))]);
      return onFieldVariants(p, m, (f) => onIndexed(p, f, m));
    case "fieldref": {
      const a = m.fields.variants(p.field.name);
      const b = m.fields.variants(p.other.name);
      const ka = a.length === 1 ? keywordPathOf(a[0]!.field) : undefined;
      const kb = b.length === 1 ? keywordPathOf(b[0]!.field) : undefined;
      const ok = (k?: KeywordPath) => k && !k.wildcard;
      if (ka && kb && ok(ka) && ok(kb)) {
        const q = predicateQuery({
          ...p,
          field: { name: ka.path, type: "keyword" },
          other: { name: kb.path, type: "keyword" },
        });
        if (ka.ignoreAbove >= MATCHER_IGNORE_ABOVE && kb.ignoreAbove >= MATCHER_IGNORE_ABOVE) return q;
        // A value over ignore_above is in neither doc value: those events are candidates too.
        m.widened?.(p.field.name, "field reference on keyword fields with ignore_above");
        return m.upper ? orOf([q, tooLong(a[0]!.field), tooLong(b[0]!.field)]) : q;
      }
      if (a.every((v) => v.field.kind === "absent") || b.every((v) => v.field.kind === "absent")) return MATCH_NONE;
      m.widened?.(p.field.name, "field reference on fields not both keyword");
      return m.upper ? MATCH_ALL : MATCH_NONE;
    }
    default:
      return onFieldVariants(p, m, (f) => onIndexed(p, f, m));
  }
}

/** `terms` merging in mapped mode: only an equality that compiles exactly on one real field. */
export function mappedMergeKey(n: Node, m: Mapped): { field: string; value: string | number } | undefined {
  if (n.kind !== "equals" && n.kind !== "number") return undefined;
  const vs = m.fields.variants(n.field.name);
  if (vs.length !== 1) return undefined;
  const f = vs[0]!.field;
  if (f.kind === "absent" || f.kind === "unknown") return undefined;
  const real = realField(n, f);
  if (typeof real === "string") return undefined;
  if (real.kw && (real.kw.wildcard || !lengthBounded(n, Math.min(real.kw.ignoreAbove, MATCHER_IGNORE_ABOVE))))
    return undefined;
  return mergeKey({ ...n, field: real.field } as Node);
}
