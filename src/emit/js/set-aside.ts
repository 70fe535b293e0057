/**
 * Setting aside what an event already carries where our tags go. An event that arrives with a
 * scalar (or list) `outliers`, a scalar `threat` or `threat.technique`, or an object `tags` (or a
 * list holding objects) cannot be indexed once our tag mappings exist (`outliers` and `threat`
 * objects, `tags` a keyword), and the tagger could not tag it. Such a value is moved to
 * `outliers_original.<name>` (`threat.technique` to `outliers_original.threat_technique`) as a
 * string: a string as it is, a number or boolean as its text, an object or list as its JSON text,
 * so that the moved values of different events never clash with each other's mappings. The event is
 * then indexed and tagged as usual. docs/tags.md documents it.
 *
 * Two twins with the same rules: a processor of its own placed before the tagger in the live
 * pipeline (src/emit/painless/set-aside.painless, fixed source, no params), and `setAside` here, for
 * `outliers scan`/`test` and for `outliers ingest` into an index whose mappings refuse such an event
 * while no pipeline of ours runs (e.g. after uninstall: the mappings stay on existing indices).
 */

import { javaNumberText } from "./values.ts";

export const ASIDE_FIELD = "outliers_original";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * An object's keys in the order both twins write them: sorted by UTF-16 code units (Java's
 * `String.compareTo`, JavaScript's default sort), so the text is the same whatever map an engine
 * parses the event into (Elasticsearch 7.10 and OpenSearch 3 iterate the same keys differently).
 */
export function keyOrder(keys: string[]): string[] {
  return [...keys].sort();
}

/** oxsEsc: `"` `\\` \n \r \t escaped short, other control characters as \u00xx. */
function esc(s: string): string {
  let b = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) b += '\\"';
    else if (c === 92) b += "\\\\";
    else if (c === 10) b += "\\n";
    else if (c === 13) b += "\\r";
    else if (c === 9) b += "\\t";
    else if (c < 32) b += `\\u${c.toString(16).padStart(4, "0")}`;
    else b += s[i];
  }
  return b;
}

/** oxsJson: the JSON text the Painless twin writes (Java number texts, keys sorted). */
function json(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return `"${esc(v)}"`;
  if (typeof v === "number") return javaNumberText(v);
  if (Array.isArray(v)) return `[${v.map(json).join(",")}]`;
  if (isObj(v))
    return `{${keyOrder(Object.keys(v))
      .map((k) => `"${esc(k)}":${json(v[k])}`)
      .join(",")}}`;
  return String(v);
}

/** oxsText: a string as it is, anything else as its JSON text. */
function text(v: unknown): string {
  return typeof v === "string" ? v : json(v);
}

/**
 * The JavaScript twin of the processor: moves the conflicting values of `doc` aside in place and
 * returns their names (empty when there was nothing to move, or `outliers_original` is not an object).
 */
export function setAside(doc: Obj): string[] {
  const moved: string[] = [];
  const a0 = doc[ASIDE_FIELD];
  if (a0 !== undefined && a0 !== null && !asideShape(a0)) {
    doc[ASIDE_FIELD] = { [ASIDE_FIELD]: text(a0) };
    moved.push(ASIDE_FIELD);
  }
  const aside = (): Obj | undefined => {
    if (doc[ASIDE_FIELD] === undefined || doc[ASIDE_FIELD] === null) doc[ASIDE_FIELD] = {};
    const a = doc[ASIDE_FIELD];
    return isObj(a) ? a : undefined;
  };
  const move = (from: Obj, name: string, key: string, label: string) => {
    const a = aside();
    if (!a) return;
    let k = key;
    while (Object.hasOwn(a, k)) k += "_";
    a[k] = text(from[name]);
    delete from[name];
    moved.push(label);
  };
  const o = doc.outliers;
  if (o !== undefined && o !== null && !isObj(o)) move(doc, "outliers", "outliers", "outliers");
  else if (isObj(o)) {
    for (const k of LIST_KEYS) if (hasObject(o[k])) move(o, k, `outliers_${k}`, `outliers.${k}`);
    for (const k of ["total_outliers", "max_severity"]) {
      const v = o[k];
      if (v !== undefined && v !== null && typeof v !== "number") move(o, k, `outliers_${k}`, `outliers.${k}`);
    }
    if (o.added !== undefined && o.added !== null && !isObj(o.added))
      move(o, "added", "outliers_added", "outliers.added");
  }
  const th = doc.threat;
  if (th !== undefined && th !== null && !isObj(th)) move(doc, "threat", "threat", "threat");
  else if (isObj(th) && th.technique !== undefined && th.technique !== null && !isObj(th.technique))
    move(th, "technique", "threat_technique", "threat.technique");
  else if (isObj(th) && isObj(th.technique) && hasObject(th.technique.id))
    move(th.technique, "id", "threat_technique_id", "threat.technique.id");
  if (hasObject(doc.tags)) move(doc, "tags", "tags", "tags");
  return moved;
}

/** The `outliers.*` keys the tags write as keyword lists (an object there is moved aside). */
const LIST_KEYS = ["rule_id", "type", "reason", "summary", "model_name", "model_type", "level", "error", "max_level"];

/** oxsHasObject: an object, or a list holding an object or list. */
function hasObject(v: unknown): boolean {
  return isObj(v) || (Array.isArray(v) && v.some((x) => typeof x === "object" && x !== null));
}

/** oxsAsideShape: `outliers_original` as the set-aside writes it: an object of strings, keys without dots. */
function asideShape(v: unknown): boolean {
  if (!isObj(v)) return false;
  return Object.entries(v).every(([k, x]) => k !== "" && !k.includes(".") && typeof x === "string");
}
