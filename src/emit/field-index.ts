/**
 * How the fields of the representation are REALLY indexed on a set of indices: the input the DSL
 * emitter (src/emit/dsl.ts, `Mapped`) takes to compile each predicate for the field as it is, not
 * as the mapping profile assumed. The rule representation stays mapping-free; the cluster side
 * (src/cluster/connection/field-discovery.ts) builds a FieldIndex from the indices' `_mapping`.
 */

/** A keyword-valued path: a `keyword` (or `wildcard`) field, or the keyword sub-field of a text field. */
export interface KeywordPath {
  /** Full path queried, e.g. `winlog.event_data.Image.keyword`. */
  path: string;
  /** Values longer (UTF-16 units) are not indexed; Infinity when unlimited. */
  ignoreAbove: number;
  /** `wildcard` field type: term/prefix/wildcard/regexp work, our doc-value scripts do not. */
  wildcard?: boolean;
}

export type IndexedField =
  /** Not mapped, and every value an event held would have been mapped: no event has a value. */
  | { kind: "absent" }
  /** Not mapped, but events may hold values that are not indexed (dynamic false, disabled object, nested). */
  | { kind: "unknown"; why: string }
  /** A keyword-like field itself (keyword, constant_keyword, wildcard). */
  | ({ kind: "keyword" } & KeywordPath)
  /** text / match_only_text; `sub` is its keyword sub-field of any name, when it has one. */
  | { kind: "text"; path: string; sub?: KeywordPath }
  /** long/double/ip/date/boolean (and other) typed fields; `sub` a keyword sub-field when there is one. */
  | {
      kind: "typed";
      type: "long" | "double" | "ip" | "date" | "boolean" | "other";
      esType: string;
      path: string;
      ignoreMalformed: boolean;
      sub?: KeywordPath;
    };

/** One way a field is indexed, and the concrete indices that index it so (null: every index searched). */
export interface FieldVariant {
  indices: string[] | null;
  field: IndexedField;
}

export interface FieldIndex {
  /** The concrete indices the target's patterns resolve to. */
  indices: string[];
  /** The ways `name` is indexed across those indices (one entry when they all agree). */
  variants(name: string): FieldVariant[];
}

/** A FieldIndex built from per-index lookups, grouping indices that index a field identically. */
export function fieldIndexOf(indices: string[], lookup: (index: string, name: string) => IndexedField): FieldIndex {
  const cache = new Map<string, FieldVariant[]>();
  return {
    indices,
    variants(name) {
      let v = cache.get(name);
      if (v) return v;
      if (indices.length === 0) v = [{ indices: null, field: { kind: "absent" } }];
      else {
        const groups = new Map<string, FieldVariant>();
        for (const ix of indices) {
          const f = lookup(ix, name);
          const key = JSON.stringify(f);
          const g = groups.get(key);
          if (g) g.indices!.push(ix);
          else groups.set(key, { indices: [ix], field: f });
        }
        v = [...groups.values()];
        if (v.length === 1) v = [{ indices: null, field: v[0]!.field }];
      }
      cache.set(name, v);
      return v;
    },
  };
}

/** The keyword path string predicates can use on a field, if any. */
export function keywordPathOf(f: IndexedField): KeywordPath | undefined {
  if (f.kind === "keyword") return f;
  if (f.kind === "text" || f.kind === "typed") return f.sub;
  return undefined;
}

/** One line saying how a field is indexed (doctor, warnings). */
export function describeIndexed(f: IndexedField): string {
  const lim = (k: KeywordPath) => (Number.isFinite(k.ignoreAbove) ? `, ignore_above ${k.ignoreAbove}` : "");
  switch (f.kind) {
    case "absent":
      return "not mapped (no event holds it)";
    case "unknown":
      return `not mapped (${f.why})`;
    case "keyword":
      return `${f.wildcard ? "wildcard" : "keyword"}${lim(f)}`;
    case "text":
      return f.sub ? `text with keyword sub-field ${f.sub.path}${lim(f.sub)}` : "text only (no keyword sub-field)";
    case "typed":
      return `${f.esType}${f.sub ? ` with keyword sub-field ${f.sub.path}${lim(f.sub)}` : ""}`;
  }
}
