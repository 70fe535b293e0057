/**
 * Mapping discovery: how the target indices (or data streams) REALLY index each field, read from
 * `GET <patterns>/_mapping` before backfill, untag and doctor. The answer is a FieldIndex
 * (src/emit/field-index.ts), the input the DSL emitter compiles predicates against; the rules
 * themselves never change.
 */
import { fieldIndexOf, type FieldIndex, type IndexedField, type KeywordPath } from "../../emit/field-index.ts";
import { call, type Cluster } from "./client.ts";

type Props = Record<string, any>;

interface Leaf {
  def: Props;
}
interface ObjectNode {
  dynamic?: unknown;
  enabled?: boolean;
  nested?: boolean;
}

/** One index's mapping, flattened: leaf paths (multi-fields included) and object paths. */
export interface FlatMapping {
  leaves: Map<string, Leaf>;
  objects: Map<string, ObjectNode>;
  /** Top-level `dynamic` (true when unset). */
  dynamic: unknown;
}

export function flatten(mappings: Props | undefined): FlatMapping {
  const leaves = new Map<string, Leaf>();
  const objects = new Map<string, ObjectNode>();
  const walk = (props: Props | undefined, prefix: string) => {
    for (const [k, v] of Object.entries(props ?? {})) {
      const path = prefix + k;
      const isObject = v.properties !== undefined || v.type === undefined || v.type === "object" || v.type === "nested";
      if (isObject) {
        objects.set(path, { dynamic: v.dynamic, enabled: v.enabled, nested: v.type === "nested" });
        walk(v.properties, path + ".");
      } else {
        leaves.set(path, { def: v });
        for (const [sub, sv] of Object.entries((v.fields ?? {}) as Props)) leaves.set(`${path}.${sub}`, { def: sv });
      }
    }
  };
  walk(mappings?.properties, "");
  return { leaves, objects, dynamic: mappings?.dynamic ?? true };
}

const LONG = new Set(["long", "integer", "short", "byte", "unsigned_long"]);
const DOUBLE = new Set(["double", "float", "half_float", "scaled_float"]);
const KEYWORD = new Set(["keyword", "constant_keyword", "wildcard"]);
const TEXT = new Set(["text", "match_only_text"]);

function limit(def: Props): number {
  if (def.type === "wildcard") return def.ignore_above ?? Number.POSITIVE_INFINITY;
  return typeof def.ignore_above === "number" ? def.ignore_above : Number.POSITIVE_INFINITY;
}

/** The keyword sub-field of a field definition (prefer one named `keyword`), whatever its name. */
function keywordSub(path: string, def: Props): KeywordPath | undefined {
  const subs = Object.entries((def.fields ?? {}) as Props).filter(([, s]) => KEYWORD.has(s.type));
  if (subs.length === 0) return undefined;
  const [name, s] = subs.find(([n]) => n === "keyword") ?? subs[0]!;
  return { path: `${path}.${name}`, ignoreAbove: limit(s), ...(s.type === "wildcard" ? { wildcard: true } : {}) };
}

/** How `name` is indexed in one flattened mapping. */
export function indexedField(flat: FlatMapping, name: string): IndexedField {
  let leaf = flat.leaves.get(name);
  let path = name;
  if (leaf?.def.type === "alias" && typeof leaf.def.path === "string") {
    path = leaf.def.path;
    leaf = flat.leaves.get(path);
  }
  if (leaf) {
    const def = leaf.def;
    const t = String(def.type);
    if (KEYWORD.has(t))
      return { kind: "keyword", path, ignoreAbove: limit(def), ...(t === "wildcard" ? { wildcard: true } : {}) };
    const sub = keywordSub(path, def);
    if (TEXT.has(t)) return sub ? { kind: "text", path, sub } : { kind: "text", path };
    const type = LONG.has(t)
      ? "long"
      : DOUBLE.has(t)
        ? "double"
        : t === "ip"
          ? "ip"
          : t === "date" || t === "date_nanos"
            ? "date"
            : t === "boolean"
              ? "boolean"
              : "other";
    return {
      kind: "typed",
      type,
      esType: t,
      path,
      ignoreMalformed: def.ignore_malformed === true,
      ...(sub ? { sub } : {}),
    };
  }
  // Not mapped: could an event hold a value here anyway?
  const parts = name.split(".");
  let dynamic: unknown = flat.dynamic;
  for (let k = 1; k < parts.length; k++) {
    const prefix = parts.slice(0, k).join(".");
    if (flat.leaves.has(prefix)) return { kind: "absent" }; // a leaf there: an object value would be refused
    const o = flat.objects.get(prefix);
    if (!o) break;
    if (o.enabled === false) return { kind: "unknown", why: `${prefix} is an object with enabled: false` };
    if (o.nested) return { kind: "unknown", why: `${prefix} is nested` };
    if (o.dynamic !== undefined) dynamic = o.dynamic;
  }
  if (dynamic === false || dynamic === "false") return { kind: "unknown", why: "dynamic mapping is off there" };
  if (dynamic === "runtime") return { kind: "unknown", why: "dynamic: runtime" };
  return { kind: "absent" };
}

export interface Discovery {
  /** Concrete indices the patterns resolve to (backing indices of data streams included). */
  indices: string[];
  flat: Map<string, FlatMapping>;
  /** Each index's `mappings` as the cluster gave them. */
  raw: Map<string, Props>;
  fields: FieldIndex;
}

/** A Discovery from a `_mapping` response body (tests read fixtures through this). */
export function discoveryFromMappings(body: Record<string, { mappings?: Props }>): Discovery {
  const flat = new Map<string, FlatMapping>();
  const raw = new Map<string, Props>();
  for (const [ix, v] of Object.entries(body ?? {})) {
    let m = v?.mappings ?? {};
    // include_type_name style (`{"_doc": {...}}`) from old clusters
    if (!m.properties && Object.keys(m).length === 1 && typeof Object.values(m)[0] === "object")
      m = Object.values(m)[0] as Props;
    flat.set(ix, flatten(m));
    raw.set(ix, m);
  }
  const indices = [...flat.keys()].sort();
  return { indices, flat, raw, fields: fieldIndexOf(indices, (ix, name) => indexedField(flat.get(ix)!, name)) };
}

/** Reads the mappings of everything `patterns` names (open indices; none is no error). */
export async function discoverFields(cluster: Cluster, patterns: string[]): Promise<Discovery> {
  const body: any = await call(cluster, "read the indices' mappings", () =>
    cluster.client.indices.getMapping({ index: patterns, ignore_unavailable: true, allow_no_indices: true } as any),
  );
  return discoveryFromMappings(body);
}

/**
 * Where the rule ids of our tags are indexed as keywords, per group of indices: `outliers.rule_id`
 * (our keyword mapping) or its `.keyword` sub-field (ee-outliers' text + keyword). Indices that do
 * not map it yet get `outliers.rule_id` (the keyword mapping the backfill puts there first).
 */
export interface IdField {
  field: string;
  /** null: every index. */
  indices: string[] | null;
}

export function ruleIdFields(d: Discovery): IdField[] {
  const out: IdField[] = [];
  for (const v of d.fields.variants("outliers.rule_id")) {
    const f = v.field;
    const field =
      f.kind === "keyword"
        ? f.path
        : f.kind === "text" || f.kind === "typed"
          ? (f.sub?.path ?? "outliers.rule_id")
          : "outliers.rule_id";
    const same = out.find((o) => o.field === field);
    if (same) same.indices = same.indices && v.indices ? [...same.indices, ...v.indices] : null;
    else out.push({ field, indices: v.indices });
  }
  return out;
}

/** A query: the event carries one of `ids` (in whichever field each index holds them). */
export function carriesRule(idFields: IdField[], ids: string[] | null): object {
  const one = (f: IdField): object => {
    const q = ids ? { terms: { [f.field]: ids } } : { exists: { field: f.field } };
    return f.indices ? { bool: { filter: [{ terms: { _index: f.indices } }, q] } } : q;
  };
  return idFields.length === 1 ? one(idFields[0]!) : { bool: { should: idFields.map(one), minimum_should_match: 1 } };
}
