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
  /**
   * The query addressed the keyword sub-field of a non-string field (e.g. an `ip` field with a
   * `keyword` sub-field): values compare as strings; emitters query the sub-field.
   */
  asKeyword?: boolean;
}

/** Metadata fields a document cannot be matched on at ingest time. */
const METADATA = new Set([
  "_id",
  "_index",
  "_type",
  "_routing",
  "_seq_no",
  "_version",
  "_score",
  "_source",
  "_ignored",
]);

export function isMetadataField(name: string): boolean {
  return METADATA.has(name);
}

export function resolveField(profile: Profile, name: string): ResolvedField {
  if (name.endsWith(".keyword")) {
    const base = name.slice(0, -".keyword".length);
    const f = profile.fieldType(base);
    if (f.type === "text") return { field: { ...f, keywordSubfield: f.keywordSubfield ?? "keyword" }, exact: true };
    if (f.type === "keyword") return { field: f, exact: true };
    if (f.keywordSubfield === "keyword") return { field: f, exact: true, asKeyword: true };
    // `.keyword` of a number/ip/date/boolean field: the profile does not know it as a multi-field;
    // treat the name as a keyword field of its own.
    const own = profile.fieldType(name);
    return { field: own.type === "text" ? own : { name, type: "keyword" }, exact: own.type !== "text" };
  }
  const f = profile.fieldType(name);
  return { field: f, exact: f.type !== "text" };
}

/** Fields tagging writes; a whitelist or a bare term is about the event as it arrived. */
const OWN_FIELDS = /^(outliers|threat|tags)(\.|$)/;

/**
 * The fields a term without a field name, and a whitelist entry, search: every keyword field the
 * profile knows for Windows events, its generic keyword fields (e.g. `message`), and the string
 * fields its index template names explicitly (e.g. `winlog.computer_name`). ee-outliers searches
 * every field of the event; live matching needs the list named.
 */
export function searchFields(profile: Profile): Field[] {
  const byName = new Map<string, Field>();
  const add = (f: Field) => {
    if ((f.type === "keyword" || f.type === "text") && !OWN_FIELDS.test(f.name) && !byName.has(f.name))
      byName.set(f.name, f);
  };
  [...profile.keywordFields({ product: "windows" }), ...profile.keywordFields({})].forEach(add);
  const walk = (props: unknown, prefix: string) => {
    if (!props || typeof props !== "object") return;
    for (const [k, v] of Object.entries(props as Record<string, { type?: string; properties?: unknown }>)) {
      const name = prefix + k;
      if (v.properties) walk(v.properties, name + ".");
      else if (v.type === "keyword" || v.type === "text") add(profile.fieldType(name));
    }
  };
  walk(profile.indexTemplate().mappings.properties, "");
  return [...byName.values()];
}
