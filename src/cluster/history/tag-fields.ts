/**
 * Which field to aggregate on for a tag field, as the indices really map it. Our installs map tag
 * fields as `keyword` (tag-mappings.ts); indices tagged before that (or by ee-outliers itself) got
 * Elasticsearch's dynamic mapping, `text` with a `.keyword` sub-field. One pattern can hold both,
 * so the answer is a list of groups: the indices that map the field one way, and the field to use
 * there. Read from `_field_caps`, never assumed.
 */
import { call, type Cluster } from "../connection/client.ts";

export interface FieldGroup {
  /** The indices of this group, or the caller's patterns when every index maps the field the same way. */
  index: string[];
  /** The aggregatable field: the tag field itself, or its `.keyword` sub-field. */
  field: string;
}

type Caps = Record<string, Record<string, { aggregatable?: boolean; indices?: string[] }>>;

/** Per tag field, the groups to aggregate on (an empty list when no index maps the field aggregatably), and the indices the patterns matched. */
export async function aggregatableGroups(
  cluster: Cluster,
  index: string[],
  fields: string[],
): Promise<Map<string, FieldGroup[]> & { indices?: string[] }> {
  const asked = fields.flatMap((f) => [f, `${f}.keyword`]);
  const r: { fields?: Caps; indices?: string[] } = await call<any>(cluster, "read field capabilities", () =>
    // `fields` in the query string: the 8.x client would send it in the body, which 7.x ignores.
    cluster.client.fieldCaps(
      { index, ignore_unavailable: true, allow_no_indices: true } as any,
      { querystring: { fields: asked.join(",") } } as any,
    ),
  );
  const out: Map<string, FieldGroup[]> & { indices?: string[] } = new Map<string, FieldGroup[]>();
  for (const f of fields) out.set(f, groupsFor(r.fields ?? {}, f, index));
  out.indices = r.indices ?? [];
  return out;
}

/** The groups of one field from a `_field_caps` answer (exported for unit tests). */
export function groupsFor(caps: Caps, field: string, patterns: string[]): FieldGroup[] {
  const own = caps[field] ?? {};
  const sub = caps[`${field}.keyword`] ?? {};
  const ownTypes = Object.entries(own).filter(([t]) => t !== "unmapped");
  const subAggregatable = Object.entries(sub).some(([t, c]) => t !== "unmapped" && c.aggregatable);
  if (ownTypes.length === 0) return subAggregatable ? [{ index: patterns, field: `${field}.keyword` }] : [];
  if (ownTypes.length === 1) {
    const [, c] = ownTypes[0]!;
    if (c.aggregatable) return [{ index: patterns, field }];
    return subAggregatable ? [{ index: patterns, field: `${field}.keyword` }] : [];
  }
  // Mixed: `_field_caps` lists the indices of each type.
  const groups: FieldGroup[] = [];
  for (const [, c] of ownTypes) {
    const idx = c.indices ?? [];
    if (idx.length === 0) continue;
    if (c.aggregatable) groups.push({ index: idx, field });
    else if (subAggregatable) groups.push({ index: idx, field: `${field}.keyword` });
  }
  return groups;
}
