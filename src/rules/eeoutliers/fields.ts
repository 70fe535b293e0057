/**
 * Index field names as ee-outliers queries write them, resolved through the mapping profile.
 *
 * sigmac and analysts address the whole value of a string field as `<field>.keyword` (the
 * text + keyword multi-field of Logstash/Beats templates). In the representation a field is
 * named once with its type, and exact/wildcard/regex predicates on a `text` field read its
 * keyword sub-field, so `X.keyword` becomes field `X`: exact on the whole value when `X` is
 * `text` (with its keyword sub-field) or `keyword` (where `X.keyword` is what the query meant).
 */
import type { Field } from "../../ir/types.ts";
import type { Profile } from "../../mapping/profile.ts";

export interface ResolvedField {
  field: Field;
  /** True when the query addressed the whole value (`.keyword`, or a keyword-typed field). */
  exact: boolean;
}

/** Metadata fields a document cannot be matched on at ingest time. */
const METADATA = new Set(["_id", "_index", "_type", "_routing", "_seq_no", "_version", "_score", "_source", "_ignored"]);

export function isMetadataField(name: string): boolean {
  return METADATA.has(name);
}

export function resolveField(profile: Profile, name: string): ResolvedField {
  if (name.endsWith(".keyword")) {
    const base = name.slice(0, -".keyword".length);
    const f = profile.fieldType(base);
    if (f.type === "text") return { field: { ...f, keywordSubfield: f.keywordSubfield ?? "keyword" }, exact: true };
    if (f.type === "keyword") return { field: f, exact: true };
    // `.keyword` of a number/ip/date/boolean field: the profile does not know it as a multi-field;
    // treat the name as a keyword field of its own.
    const own = profile.fieldType(name);
    return { field: own.type === "text" ? own : { name, type: "keyword" }, exact: own.type !== "text" };
  }
  const f = profile.fieldType(name);
  return { field: f, exact: f.type !== "text" };
}

/**
 * The fields a term without a field name, and a whitelist entry, search: every keyword field the
 * profile knows for Windows events plus its generic keyword fields (e.g. `message`). ee-outliers
 * searches all fields of the event; live matching needs the list named.
 */
export function searchFields(profile: Profile): Field[] {
  const byName = new Map<string, Field>();
  for (const f of [...profile.keywordFields({ product: "windows" }), ...profile.keywordFields({})]) {
    if (!byName.has(f.name)) byName.set(f.name, f);
  }
  return [...byName.values()];
}
