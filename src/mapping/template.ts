/**
 * Index templates for the profiles: the typed fields a profile declares, the tag fields this tool
 * writes (docs/contract.md), and dynamic templates that index every other value as a keyword.
 */
import type { Field, FieldType } from "../ir/types.ts";

/**
 * Longest string a keyword field indexes, counted as Elasticsearch counts it: Java `String.length()`,
 * i.e. UTF-16 code units (the same as JavaScript's and Painless' `length`). Lucene refuses terms
 * over 32,766 bytes and 32766 / 4 = 8191 always fits (a code unit is at most 3 bytes in UTF-8). A
 * longer value is kept in `_source` but not indexed: it matches no keyword predicate (nor
 * `exists`) in a query; the matchers read `_source` and see it (see Profile.indexTemplate).
 */
export const IGNORE_ABOVE = 8191;

export const KEYWORD_SUBFIELD = "keyword";

export type TemplateBody = { settings?: Record<string, unknown>; mappings: Record<string, unknown> };

/** A Field value for an index field name and type, with the sub-field our templates give it. */
export function typedField(name: string, type: FieldType): Field {
  if (type === "text" || type === "ip") return { name, type, keywordSubfield: KEYWORD_SUBFIELD };
  return { name, type };
}

function mappingFor(type: FieldType): Record<string, unknown> {
  const kw = { type: "keyword", ignore_above: IGNORE_ABOVE };
  switch (type) {
    case "keyword":
      return kw;
    case "text":
      return { type: "text", fields: { [KEYWORD_SUBFIELD]: kw } };
    case "ip":
      // Windows writes `-` or hex blobs where an address is missing; keep the document, index the
      // text in the keyword sub-field for string predicates, and skip the ip value.
      return { type: "ip", ignore_malformed: true, fields: { [KEYWORD_SUBFIELD]: kw } };
    case "long":
    case "double":
      return { type, ignore_malformed: true };
    case "boolean":
      return { type: "boolean" };
    case "date":
      return { type: "date" };
  }
}

/** Puts a mapping at a dotted path inside a `properties` tree. */
function setPath(props: Record<string, unknown>, dotted: string, mapping: Record<string, unknown>): void {
  const parts = dotted.split(".");
  let cur = props;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const node = (cur[key] ??= { properties: {} }) as { properties?: Record<string, unknown> };
    node.properties ??= {};
    cur = node.properties;
  }
  cur[parts[parts.length - 1]!] = mapping;
}

/** The fields this tool writes on matching events (docs/contract.md, "The tags on a matching event"). */
const TAG_FIELDS: Record<string, FieldType> = {
  "outliers.rule_id": "keyword",
  "outliers.type": "keyword",
  "outliers.reason": "keyword",
  "outliers.summary": "keyword",
  "outliers.model_name": "keyword",
  "outliers.model_type": "keyword",
  "outliers.error": "keyword",
  "outliers.level": "keyword",
  "outliers.max_level": "keyword",
  "threat.technique.id": "keyword",
  tags: "keyword",
};

/**
 * A template body: `@timestamp` date, the tag fields, `outliers.total_outliers` integer, `outliers.added`
 * not indexed, the
 * profile's typed fields, and every other value (string, number, boolean) a keyword, so that what
 * a profile calls keyword is indexed as one whatever the JSON type of the value.
 */
export function buildTemplate(typed: Record<string, FieldType>, timeField = "@timestamp"): TemplateBody {
  const properties: Record<string, unknown> = {};
  setPath(properties, timeField, { type: "date" });
  for (const [name, type] of Object.entries(TAG_FIELDS)) setPath(properties, name, mappingFor(type));
  setPath(properties, "outliers.total_outliers", { type: "integer" });
  setPath(properties, "outliers.max_severity", { type: "integer" });
  // The tagger's provenance record (read by untag from _source): never indexed, as the live install
  // maps it (src/cluster/live/tag-mappings.ts). Indexed dynamically, its ~30 values per tagged event
  // cost more to index than all the tags (BENCHMARKS.md, live tagging per phase).
  setPath(properties, "outliers.added", { type: "object", enabled: false });
  for (const [name, type] of Object.entries(typed)) setPath(properties, name, mappingFor(type));
  const kw = { type: "keyword", ignore_above: IGNORE_ABOVE };
  return {
    settings: {
      number_of_shards: 1,
      number_of_replicas: 0,
      // Windows events carry many distinct EventData names.
      "mapping.total_fields.limit": 10000,
    },
    mappings: {
      date_detection: false,
      dynamic_templates: ["string", "long", "double", "boolean"].map((t) => ({
        [`${t}_as_keyword`]: { match_mapping_type: t, mapping: kw },
      })),
      properties,
    },
  };
}
