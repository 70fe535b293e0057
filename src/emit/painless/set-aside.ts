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

import { loadPainless } from "../../painless/load.ts";
import setAsideText from "../../painless/set-aside.painless" with { type: "text" };

export const ASIDE_FIELD = "outliers_original";

/** The fixed Painless source of the set-aside processor (ingest `ctx` is the document). */
export const SET_ASIDE_SOURCE = "\n" + loadPainless("set-aside.painless", setAsideText);

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
