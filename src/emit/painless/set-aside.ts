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
 * pipeline (fixed source, no params), and `setAside` for `outliers ingest` into an index whose
 * mappings refuse such an event while no pipeline of ours runs (e.g. after uninstall: the mappings
 * stay on existing indices).
 */

export const ASIDE_FIELD = "outliers_original";

/** The fixed Painless source of the set-aside processor (ingest `ctx` is the document). */
export const SET_ASIDE_SOURCE = `
String oxsEsc(String s) {
  StringBuilder b = new StringBuilder();
  for (int i = 0; i < s.length(); i++) {
    char c = s.charAt(i);
    int n = (int) c;
    if (n == 34) { b.append('\\\\"'); }
    else if (n == 92) { b.append('\\\\\\\\'); }
    else if (n == 10) { b.append('\\\\n'); }
    else if (n == 13) { b.append('\\\\r'); }
    else if (n == 9) { b.append('\\\\t'); }
    else if (n < 32) { String h = Integer.toHexString(n); b.append('\\\\u'); for (int k = h.length(); k < 4; k++) { b.append('0'); } b.append(h); }
    else { b.append(c); }
  }
  return b.toString();
}
String oxsJson(def v) {
  if (v == null) { return 'null'; }
  if (v instanceof String) { return '"' + oxsEsc((String) v) + '"'; }
  if (v instanceof Map) {
    StringBuilder b = new StringBuilder('{');
    boolean first = true;
    for (def e : v.entrySet()) {
      if (!first) { b.append(','); }
      first = false;
      b.append('"'); b.append(oxsEsc(String.valueOf(e.getKey()))); b.append('":'); b.append(oxsJson(e.getValue()));
    }
    b.append('}');
    return b.toString();
  }
  if (v instanceof List) {
    StringBuilder b = new StringBuilder('[');
    for (int i = 0; i < v.size(); i++) { if (i > 0) { b.append(','); } b.append(oxsJson(v.get(i))); }
    b.append(']');
    return b.toString();
  }
  return String.valueOf(v);
}
String oxsText(def v) { return v instanceof String ? (String) v : oxsJson(v); }
boolean oxsHasObject(def v) {
  if (v instanceof Map) { return true; }
  if (v instanceof List) { for (def x : v) { if (x instanceof Map || x instanceof List) { return true; } } }
  return false;
}
Map oxsAside(def doc) {
  def a = doc.get('${ASIDE_FIELD}');
  if (a == null) { a = new HashMap(); doc.put('${ASIDE_FIELD}', a); }
  return a instanceof Map ? (Map) a : null;
}
void oxsMove(def doc, String name, String key) {
  Map a = oxsAside(doc);
  if (a == null) { return; }
  a.put(key, oxsText(doc.remove(name)));
}
def o = ctx.get('outliers');
if (o != null && !(o instanceof Map)) { oxsMove(ctx, 'outliers', 'outliers'); }
def th = ctx.get('threat');
if (th != null && !(th instanceof Map)) { oxsMove(ctx, 'threat', 'threat'); }
else if (th != null) {
  def tt = th.get('technique');
  if (tt != null && !(tt instanceof Map)) { Map a = oxsAside(ctx); if (a != null) { a.put('threat_technique', oxsText(th.remove('technique'))); } }
}
def tg = ctx.get('tags');
if (tg != null && oxsHasObject(tg)) { oxsMove(ctx, 'tags', 'tags'); }
`;

/** The processor, placed before the tagger; its failure is recorded and never stops the event. */
export function setAsideProcessor(onFailure: object[]): object {
  return { script: { tag: "outliers-set-aside", lang: "painless", source: SET_ASIDE_SOURCE, on_failure: onFailure } };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The same text the Painless twin writes (JSON text for objects and lists, a string as it is). */
function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The JavaScript twin of the processor: moves the conflicting values of `doc` aside in place and
 * returns their names (empty when there was nothing to move, or `outliers_original` is not an object).
 */
export function setAside(doc: Obj): string[] {
  const moved: string[] = [];
  const aside = (): Obj | undefined => {
    if (doc[ASIDE_FIELD] === undefined || doc[ASIDE_FIELD] === null) doc[ASIDE_FIELD] = {};
    const a = doc[ASIDE_FIELD];
    return isObj(a) ? a : undefined;
  };
  const move = (from: Obj, name: string, key: string, label: string) => {
    const a = aside();
    if (!a) return;
    a[key] = text(from[name]);
    delete from[name];
    moved.push(label);
  };
  const o = doc.outliers;
  if (o !== undefined && o !== null && !isObj(o)) move(doc, "outliers", "outliers", "outliers");
  const th = doc.threat;
  if (th !== undefined && th !== null && !isObj(th)) move(doc, "threat", "threat", "threat");
  else if (isObj(th) && th.technique !== undefined && th.technique !== null && !isObj(th.technique))
    move(th, "technique", "threat_technique", "threat.technique");
  const tg = doc.tags;
  if (isObj(tg) || (Array.isArray(tg) && tg.some((x) => typeof x === "object" && x !== null))) move(doc, "tags", "tags", "tags");
  return moved;
}
