/**
 * What an index accepts of a document's shape, checked before the document is sent (issue 17.3):
 * Elasticsearch parses a document recursively, one call per level, so one line nested 10,000 deep
 * kills a node's write thread (StackOverflowError in DocumentParser) before its mapping depth limit is
 * ever checked. `limitProblem` walks a parsed document iteratively (no recursion, whatever its depth)
 * and names the first limit it breaks:
 *
 * - `index.mapping.depth.limit` (20 by default): a field `a.b.c` (3 names, dotted keys counted by
 *   their parts) is 3 deep; an object is one deeper than its path (Elasticsearch: "Limit of mapping
 *   depth [20] has been exceeded due to object field …" for an object at 20 names);
 * - arrays within arrays add no mapping depth but are parsed recursively too: at most
 *   `MAX_EXTRA_ARRAY_NESTING` levels of arrays on top of the depth limit;
 * - `index.mapping.total_fields.limit` (1000): a document with more distinct fields (objects
 *   included) than that can never be indexed there;
 * - `index.mapping.field_name_length.limit` (unlimited by default): the length of each field name.
 *
 * `scan` checks events against the defaults (what an index with default settings accepts), `ingest`
 * against the settings of its target (src/cluster/ingest/limits.ts).
 */
import { LosslessNumber } from "./json-numbers.ts";

export interface MappingLimits {
  depth: number;
  totalFields: number;
  fieldNameLength: number;
  /** Where these limits come from, for messages: "index winlogbeat-x" or "Elasticsearch's defaults". */
  from: string;
}

export const DEFAULT_LIMITS: MappingLimits = {
  depth: 20,
  totalFields: 1000,
  fieldNameLength: Number.MAX_SAFE_INTEGER,
  from: "the engine's defaults",
};

/** Levels of arrays directly within arrays allowed beyond the depth limit. */
export const MAX_EXTRA_ARRAY_NESTING = 10;

/** Paths named in messages are cut after this many names. */
const PATH_SHOWN = 8;

type Item = { v: object; segs: number; nest: number; path: string };

function isObject(v: unknown): v is object {
  return typeof v === "object" && v !== null && !(v instanceof LosslessNumber);
}

function shown(path: string, segs: number): string {
  if (segs <= PATH_SHOWN) return path;
  return `${path.split(".").slice(0, PATH_SHOWN).join(".")}… (${segs} names)`;
}

function join(path: string, key: string, segs: number): string {
  // Paths are kept only as far as messages show them: a 10,000-deep document costs no long strings.
  if (segs > PATH_SHOWN + 1) return path;
  return path ? `${path}.${key}` : key;
}

/** Levels of objects `fieldsIfFlat` looks into before it leaves a document to the full walk. */
const QUICK_LEVELS = 4;

/**
 * The names in `v` and below (each its own field) when the document is surely within every limit's
 * reach of a quick look: objects at most QUICK_LEVELS deep, no arrays, no dotted names, names no longer
 * than `maxName`; -1 otherwise (the full walk then decides). Most events (a Winlogbeat document from
 * .evtx) are this; counting them costs no paths and no stack.
 */
function fieldsIfFlat(v: object, level: number, maxName: number): number {
  if (level > QUICK_LEVELS) return -1;
  let n = 0;
  for (const k in v) {
    if (k.length > maxName || k.includes(".")) return -1;
    n++;
    const child = (v as Record<string, unknown>)[k];
    if (typeof child === "object" && child !== null && !(child instanceof LosslessNumber)) {
      if (Array.isArray(child)) return -1;
      const m = fieldsIfFlat(child, level + 1, maxName);
      if (m < 0) return -1;
      n += m;
    }
  }
  return n;
}

/** Why `doc` breaks `limits`, or undefined when it fits. Iterative: safe on any depth. */
export function limitProblem(doc: unknown, limits: MappingLimits = DEFAULT_LIMITS): string | undefined {
  if (!isObject(doc)) return undefined;
  // Objects at most QUICK_LEVELS deep under the document hold values at most QUICK_LEVELS + 1 names deep.
  if (limits.depth > QUICK_LEVELS + 1 && !Array.isArray(doc)) {
    const n = fieldsIfFlat(doc, 1, limits.fieldNameLength);
    if (n >= 0 && n <= limits.totalFields) return undefined;
  }
  const maxNest = limits.depth + MAX_EXTRA_ARRAY_NESTING;
  const depthMsg = (path: string, segs: number, depth: number) =>
    `nested deeper than index.mapping.depth.limit ${limits.depth} (${limits.from}) allows: ${shown(path, segs)} is ${depth} deep`;
  const stack: Item[] = [{ v: doc, segs: 0, nest: 0, path: "" }];
  let fields = 0;
  while (stack.length) {
    const { v, segs, nest, path } = stack.pop()!;
    if (nest > maxNest)
      return `nested more than ${maxNest} levels (objects and arrays) at ${shown(path, segs) || "the top"}; index.mapping.depth.limit is ${limits.depth} (${limits.from})`;
    if (Array.isArray(v)) {
      for (const x of v) if (isObject(x)) stack.push({ v: x, segs, nest: nest + 1, path });
      continue;
    }
    // An object at `segs` names is segs + 1 deep (the document itself is 1).
    if (segs + 1 > limits.depth) return depthMsg(path, segs, segs + 1);
    for (const k in v) {
      let n = 1;
      if (k.includes(".")) {
        const parts = k.split(".");
        n = parts.length;
        for (const p of parts)
          if (p.length > limits.fieldNameLength)
            return `field name ${p.slice(0, 40)}… is ${p.length} characters; index.mapping.field_name_length.limit is ${limits.fieldNameLength} (${limits.from})`;
      } else if (k.length > limits.fieldNameLength)
        return `field name ${k.slice(0, 40)}… is ${k.length} characters; index.mapping.field_name_length.limit is ${limits.fieldNameLength} (${limits.from})`;
      fields += n;
      const child = (v as Record<string, unknown>)[k];
      const s = segs + n;
      if (isObject(child)) stack.push({ v: child, segs: s, nest: nest + 1, path: join(path, k, s) });
      else if (child !== null && child !== undefined && s > limits.depth) return depthMsg(join(path, k, s), s, s);
    }
  }
  // `fields` counts every name met (an upper bound of the distinct ones): count exactly only when it is over.
  if (fields > limits.totalFields) {
    const distinct = distinctFields(doc);
    if (distinct > limits.totalFields)
      return `${distinct} distinct fields; index.mapping.total_fields.limit is ${limits.totalFields} (${limits.from})`;
  }
  return undefined;
}

/** Distinct field paths (objects included, array positions merged), counted iteratively. */
function distinctFields(doc: object): number {
  const seen = new Set<string>();
  const stack: { v: object; path: string }[] = [{ v: doc, path: "" }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (Array.isArray(v)) {
      for (const x of v) if (isObject(x)) stack.push({ v: x, path });
      continue;
    }
    for (const k in v) {
      let p = path;
      for (const part of k.split(".")) {
        p = p ? `${p}.${part}` : part;
        seen.add(p);
      }
      const child = (v as Record<string, unknown>)[k];
      if (isObject(child)) stack.push({ v: child, path: p });
    }
  }
  return seen.size;
}
