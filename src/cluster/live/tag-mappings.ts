/**
 * Mappings for the fields the tags write (docs/contract.md), added to wired indices and templates only where
 * a field is not mapped yet: additive, never conflicting with what is there. Without them, dynamic
 * mapping would make `outliers.*` text fields, and an index with `dynamic: strict` would reject tagged
 * events.
 */

type Props = Record<string, any>;

/** Leaf field path → its mapping. Long free-text fields get `ignore_above` so that a huge value can never reject an event. */
export const TAG_FIELDS: Record<string, Record<string, unknown>> = {
  "outliers.type": { type: "keyword" },
  "outliers.reason": { type: "keyword", ignore_above: 8191 },
  "outliers.summary": { type: "keyword", ignore_above: 8191 },
  "outliers.model_name": { type: "keyword" },
  "outliers.model_type": { type: "keyword" },
  "outliers.rule_id": { type: "keyword" },
  "outliers.total_outliers": { type: "integer" },
  "outliers.error": { type: "keyword", ignore_above: 8191 },
  // The rule's Sigma level per hit, the event's highest, and its severity 1–5 (docs/tags.md "Levels").
  "outliers.level": { type: "keyword" },
  "outliers.max_level": { type: "keyword" },
  "outliers.max_severity": { type: "integer" },
  "threat.technique.id": { type: "keyword" },
  // The tagger's provenance record for untag: kept in _source, never indexed (its keys are dynamic).
  "outliers.added": { type: "object", enabled: false },
  tags: { type: "keyword" },
};

/**
 * Where a field path stands in a mapping's `properties`: mapped (by a leaf, or under a parent mapped
 * as a leaf or as a disabled object, which we must not touch), or free to add.
 */
function lookup(props: Props | undefined, path: string): "free" | "mapped" | "blocked" {
  const parts = path.split(".");
  let cur: Props | undefined = props;
  for (let k = 0; k < parts.length; k++) {
    // A literal dotted name in the mapping (`"outliers.type": {...}`) counts as mapped too.
    const rest = parts.slice(k).join(".");
    if (cur && cur[rest]) return "mapped";
    const node = cur?.[parts[k]!];
    if (!node) return "free";
    if (k === parts.length - 1) return "mapped";
    const isObject =
      node.properties !== undefined || node.type === undefined || node.type === "object" || node.type === "nested";
    if (!isObject || node.enabled === false) return "blocked";
    cur = node.properties ?? {};
  }
  return "free";
}

export interface MappingAddition {
  /** Field paths to add, in TAG_FIELDS order. */
  fields: string[];
  /** Paths that cannot be mapped because a parent is mapped as a leaf (reported, left alone). */
  blocked: string[];
  /** A `properties` object holding only the additions (nested objects), for PUT _mapping. */
  properties: Props;
}

/**
 * How the keyword tag fields are mapped: `keyword` (ours), or `ee-outliers`: the same keyword field
 * with a `keyword` sub-field, so dashboards built for ee-outliers' dynamic text + `.keyword` layout
 * (`outliers.type.keyword`, `tags.keyword`) keep working (docs/tags.md).
 */
export type TagLayout = "keyword" | "ee-outliers";

export const TAG_LAYOUTS: readonly TagLayout[] = ["keyword", "ee-outliers"];

function withLayout(leaf: Record<string, unknown>, layout: TagLayout): Record<string, unknown> {
  if (layout !== "ee-outliers" || leaf.type !== "keyword") return { ...leaf };
  return { ...leaf, fields: { keyword: { type: "keyword", ignore_above: leaf.ignore_above ?? 8191 } } };
}

/** The additions a mapping (its top-level `properties`) needs. */
export function missingTagMappings(
  properties: Props | undefined,
  extraKeys: string[] = [],
  layout: TagLayout = "keyword",
): MappingAddition {
  const fields: string[] = [];
  const blocked: string[] = [];
  const out: Props = {};
  // ee-outliers use cases' extra keys are written as `outliers.<key>` lists of strings.
  const extras = Object.fromEntries(
    extraKeys
      .filter((k) => /^[^.]+$/.test(k) && !(`outliers.${k}` in TAG_FIELDS))
      .map((k) => [`outliers.${k}`, { type: "keyword", ignore_above: 8191 }]),
  );
  for (const [path, leaf] of Object.entries({ ...TAG_FIELDS, ...extras })) {
    const where = lookup(properties, path);
    if (where === "blocked") blocked.push(path);
    if (where !== "free") continue;
    fields.push(path);
    const parts = path.split(".");
    let cur = out;
    for (let k = 0; k < parts.length - 1; k++) {
      cur[parts[k]!] ??= { properties: {} };
      cur = cur[parts[k]!].properties;
    }
    cur[parts[parts.length - 1]!] = withLayout(leaf, layout);
  }
  return { fields, blocked, properties: out };
}

/** A copy of `mappings` with the additions merged in (for index templates, whose whole body is PUT). */
export function mergeProperties(mappings: Props | undefined, add: Props): Props {
  const base: Props = structuredClone(mappings ?? {});
  const merge = (into: Props, from: Props) => {
    for (const [k, v] of Object.entries(from)) {
      if (!into[k]) into[k] = structuredClone(v);
      else if (v.properties) {
        into[k].properties ??= {};
        merge(into[k].properties, v.properties);
      }
    }
  };
  base.properties ??= {};
  merge(base.properties, add);
  return base;
}

/**
 * Puts the missing tag-field mappings on each concrete index (backing indices of a data stream
 * included) before a run writes its first tag, so dynamic mapping never makes them text fields and
 * a `dynamic: strict` index accepts the tags. Returns what was added, per index.
 */
export async function ensureTagMappings(
  put: (index: string, properties: Props) => Promise<void>,
  mappings: Map<string, Props>,
  extraKeys: string[],
  layout: TagLayout,
): Promise<{ index: string; fields: string[]; blocked: string[] }[]> {
  const out: { index: string; fields: string[]; blocked: string[] }[] = [];
  for (const [index, m] of mappings) {
    const add = missingTagMappings(m?.properties, extraKeys, layout);
    if (add.fields.length) await put(index, add.properties);
    if (add.fields.length || add.blocked.length) out.push({ index, fields: add.fields, blocked: add.blocked });
  }
  return out;
}
