/**
 * The tagger in JavaScript: writes on an event exactly the tags the live pipeline's Painless tagger
 * (`outliersTag` in src/emit/painless/source.ts, layout in docs/tags.md) writes for the same rules in
 * the same order: `tags` + "outlier", `outliers.*` one entry per rule, `outliers.total_outliers`,
 * `threat.technique.id`, and the provenance `outliers.added` that `untag` reads. A rule already in
 * `outliers.rule_id` is skipped; `reason`/`summary`/`model_name`/`model_type` are padded with "" to
 * the length of `rule_id` first (rules another writer recorded). Values that clash with the tag
 * fields are set aside before (src/local/scan.ts, as the live pipeline's set-aside processor). Rule metadata comes from the same `ruleMeta` the pipeline's params
 * are built from. Java exception texts (in `outliers.error`) are not reproduced word for word.
 */
import { valuesAt } from "../../ir/field-values.ts";
import type { Rule } from "../../ir/types.ts";
import { ruleMeta } from "../match-plan/rule-meta.ts";
import { javaNumberText } from "./values.ts";

type Obj = Record<string, unknown>;

/** One rule's metadata: [id, types, reason, summaryParts, modelName, modelType, techniques, extras|null, level]. */
export type RuleMeta = [
  string,
  string[],
  string,
  string[],
  string,
  string,
  string[],
  Record<string, string> | null,
  string,
];

export interface TagSet {
  meta: RuleMeta[];
  /** Every extra `outliers.` key of the rule set, so extra lists stay aligned with rule_id. */
  extraKeys: string[];
}

export function tagSet(rules: Rule[]): TagSet {
  const extraKeys: string[] = [];
  for (const r of rules)
    for (const k of Object.keys(r.tagsOut.extra ?? {})) if (!extraKeys.includes(k)) extraKeys.push(k);
  return { meta: rules.map((r) => ruleMeta(r) as RuleMeta), extraKeys };
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** oxList: the list under `k`, a scalar wrapped into one, created when missing. */
function list(m: Obj, k: string): unknown[] {
  const v = m[k];
  if (Array.isArray(v)) return v;
  const l: unknown[] = [];
  if (v !== null && v !== undefined) l.push(v);
  m[k] = l;
  return l;
}

/** oxStr: booleans as Python prints them, numbers as Java does. */
function text(v: unknown): string {
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return javaNumberText(v);
  return String(v);
}

/** A summary with its `{field}` placeholders expanded from the event (oxSummary; the values of a path as oxWalk finds them). */
export function summaryOf(doc: Obj, parts: string[]): string {
  let b = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i % 2 === 0) {
      b += p;
      continue;
    }
    const vals = valuesAt(doc, p);
    b += vals.length === 0 ? `{${p}}` : vals.map(text).join(", ");
  }
  return b;
}

/** oxFits: a value a tag list can hold (not an object, nor a list holding an object or list). */
function fits(v: unknown): boolean {
  if (isObj(v)) return false;
  if (Array.isArray(v)) return !v.some((x) => typeof x === "object" && x !== null);
  return true;
}

function note(added: Obj, k: string, v: unknown): void {
  if (!Array.isArray(added[k])) added[k] = [];
  (added[k] as unknown[]).push(v);
}

/** oxWhole: a number Java reads as a whole int (doubleValue == intValue). */
const whole = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= -2147483648 && n < 2147483648;

/** oxSpans: `added.entries` when it is a provenance record consistent with the lists, else null. */
function spans(o: Obj, ad: unknown): Obj[] | null {
  if (!isObj(ad)) return null;
  const sp = ad.entries;
  if (!Array.isArray(sp) || sp.length === 0) return null;
  for (const s of sp) {
    if (!isObj(s) || Object.keys(s).length !== 4) return null;
    const { r: w, k, p, n: c } = s;
    if (typeof w !== "string" || typeof k !== "string" || !whole(p) || !whole(c)) return null;
    const l = o[k];
    if (!Array.isArray(l) || p < 0 || c < 1 || p + c > l.length) return null;
    if (k === "rule_id" && w !== "" && (c !== 1 || l[p] !== w)) return null;
  }
  return sp as Obj[];
}

/** String.valueOf: a scalar's text as Java writes it. */
const scalarText = (v: unknown): string => (typeof v === "number" ? javaNumberText(v) : String(v));

/** oxSpan: the provenance of `count` entries at `pos` of `outliers.<k>`, appended for rule `owner` ("" padding). */
const span = (r: string, k: string, p: number, n: number): Obj => ({ r, k, p, n });

/** oxTyped: a value recorded under a key naming its JSON type (s, b, n), so dynamic mappings never clash. */
function typed(path: string | null, v: unknown): Obj {
  const e: Obj = path === null ? {} : { p: path };
  if (typeof v === "string") e.s = v;
  else if (typeof v === "boolean") e.b = v;
  else e.n = v;
  return e;
}

const LEVEL_NAMES = ["", "informational", "low", "medium", "high", "critical"];
const sev = (x: unknown): number => (typeof x === "string" && x !== "" ? Math.max(0, LEVEL_NAMES.indexOf(x)) : 0);

/** oxPut: appends `vals` to `outliers.<k>` (padded with "" to `n` first), recording the spans. */
function put(o: Obj, added: Obj, sp: Obj[], owner: string, k: string, vals: unknown[], n: number, fresh: boolean) {
  const v = o[k];
  if (!fits(v)) return;
  let l: unknown[];
  if (Array.isArray(v)) l = v;
  else {
    l = [];
    if (!fresh && !Object.hasOwn(o, k)) note(added, "created", `outliers.${k}`);
    else if (!fresh && v === null) note(added, "nulls", `outliers.${k}`);
    if (v !== null && v !== undefined) {
      l.push(scalarText(v));
      note(added, "scalars", typed(`outliers.${k}`, v));
    }
    o[k] = l;
  }
  if (l.length < n) {
    sp.push(span("", k, l.length, n - l.length));
    while (l.length < n) l.push("");
  }
  if (vals.length) {
    sp.push(span(owner, k, l.length, vals.length));
    l.push(...vals);
  }
}

/** oxTags: "outlier" once in `tags` (a scalar becomes a list; "outlier" itself is left as it is). */
function tagsOf(doc: Obj, added: Obj): void {
  const tv = doc.tags;
  if (!fits(tv) || tv === "outlier" || (Array.isArray(tv) && tv.includes("outlier"))) return;
  let tags: unknown[];
  if (Array.isArray(tv)) tags = tv;
  else {
    tags = [];
    if (tv === null || tv === undefined) {
      added.tags_created = true;
      if (Object.hasOwn(doc, "tags")) note(added, "nulls", "tags");
    } else {
      tags.push(scalarText(tv));
      note(added, "scalars", typed("tags", tv));
    }
    doc.tags = tags;
  }
  tags.push("outlier");
  added.outlier_tag = true;
}

/** oxThreat: the rule's technique ids in `threat.technique.id`, each once. */
function threatOf(doc: Obj, added: Obj, id: string, techs: string[]): void {
  let th = doc.threat;
  if (th !== undefined && th !== null && !isObj(th)) return;
  let tt = th === undefined || th === null ? undefined : (th as Obj).technique;
  if (tt !== undefined && tt !== null && !isObj(tt)) return;
  const tid = tt === undefined || tt === null ? undefined : (tt as Obj).id;
  if (!fits(tid)) return;
  let made = false;
  if (th === undefined || th === null) {
    if (Object.hasOwn(doc, "threat")) note(added, "nulls", "threat");
    th = {};
    doc.threat = th;
    note(added, "threat_created", "threat");
  }
  if (tt === undefined || tt === null) {
    if (Object.hasOwn(th as Obj, "technique")) note(added, "nulls", "threat.technique");
    tt = {};
    (th as Obj).technique = tt;
    note(added, "threat_created", "threat.technique");
    made = true;
  }
  let ids: unknown[];
  if (Array.isArray(tid)) ids = tid;
  else {
    ids = [];
    if (!made && !Object.hasOwn(tt as Obj, "id")) note(added, "created", "threat.technique.id");
    else if (!made && tid === null) note(added, "nulls", "threat.technique.id");
    if (tid !== null && tid !== undefined) {
      ids.push(scalarText(tid));
      note(added, "scalars", typed("threat.technique.id", tid));
    }
    (tt as Obj).id = ids;
  }
  const by = (Array.isArray(added.techniques) ? added.techniques : []) as unknown[];
  for (const t of techs) {
    const entry = by.find((e) => Array.isArray(e) && e.length > 0 && e[0] === t) as unknown[] | undefined;
    if (entry) {
      if (!entry.includes(id)) entry.push(id);
    } else if (!ids.includes(t)) {
      ids.push(t);
      by.push([t, id]);
    }
  }
  if (by.length) added.techniques = by;
}

/**
 * Tags `doc` in place for the rules `hits` (indices into `set.meta`) and the error texts `errs`;
 * returns how many rules or errors it newly recorded (0: the event is unchanged).
 */
export function tagEvent(doc: Obj, set: TagSet, hits: number[], errs: string[]): number {
  if (hits.length === 0 && errs.length === 0) return 0;
  let changed = 0;
  const wasNull = Object.hasOwn(doc, "outliers") && doc.outliers === null;
  const created = doc.outliers === undefined || doc.outliers === null;
  if (created) doc.outliers = {};
  const o = doc.outliers;
  if (!isObj(o)) throw new Error("outliers is not an object");
  const ad = o.added;
  const adopted = spans(o, ad) !== null;
  const added: Obj = adopted ? (ad as Obj) : {};
  if (!adopted && Object.hasOwn(o, "added")) added.original = ad;
  if (created) {
    added.outliers_created = true;
    if (wasNull) note(added, "nulls", "outliers");
  }
  const sp: Obj[] = adopted ? (added.entries as Obj[]) : [];
  let oursBefore = 0;
  for (const s of sp) if (s.k === "rule_id" && s.r !== "") oursBefore++;
  const hadTotal = Object.hasOwn(o, "total_outliers");
  const total0 = o.total_outliers;
  const ids0 = o.rule_id;
  const nIds0 = Array.isArray(ids0) ? ids0.length : ids0 === null || ids0 === undefined ? 0 : 1;
  let recorded = 0;
  for (const ri of hits) {
    const m = set.meta[ri]!;
    const id = m[0];
    try {
      const idv = o.rule_id;
      if (idv === id || (Array.isArray(idv) && idv.includes(id))) continue;
      if (!fits(idv)) throw new Error("outliers.rule_id holds an object");
      const n = Array.isArray(idv) ? idv.length : idv === null || idv === undefined ? 0 : 1;
      const summary = summaryOf(doc, m[3]);
      put(o, added, sp, id, "rule_id", [id], -1, created);
      put(o, added, sp, id, "type", m[1], -1, created);
      put(o, added, sp, id, "reason", [m[2]], n, created);
      put(o, added, sp, id, "summary", [summary], n, created);
      put(o, added, sp, id, "model_name", [m[4]], n, created);
      put(o, added, sp, id, "model_type", [m[5]], n, created);
      put(o, added, sp, id, "level", [m[8]], n, created);
      const extras = m[7];
      for (const k of set.extraKeys) {
        const has = extras !== null && k in extras;
        if (!has && !Object.hasOwn(o, k)) continue;
        put(o, added, sp, id, k, [has ? extras![k] : ""], n, created);
      }
      tagsOf(doc, added);
      if (m[6].length) threatOf(doc, added, id, m[6]);
      recorded++;
      changed++;
    } catch (e) {
      errs.push(`${id}: tagging failed: ${(e as Error).message}`);
    }
  }
  if (recorded > 0) {
    added.entries = sp;
    let tl = added.total as Obj;
    if (!isObj(tl)) {
      tl = hadTotal && total0 !== null ? typed(null, total0) : {};
      tl.base = whole(total0) ? total0 : nIds0;
      added.total = tl;
      for (const k of ["max_level", "max_severity"]) {
        const v = o[k];
        if (v !== null && v !== undefined && fits(v) && !Array.isArray(v)) note(added, "replaced", typed(k, v));
      }
    }
    const t0 = tl.base;
    const base = whole(t0) ? t0 : 0;
    o.total_outliers = (whole(total0) ? total0 : base + oursBefore) + recorded;
    let best = 0;
    if (Array.isArray(o.level)) for (const x of o.level) best = Math.max(best, sev(x));
    const ml = o.max_level;
    const ms = o.max_severity;
    if (best > 0 && fits(ml) && !Array.isArray(ml) && !Array.isArray(ms) && fits(ms)) {
      o.max_level = LEVEL_NAMES[best];
      o.max_severity = best;
    }
  }
  if (changed > 0 && Object.keys(added).length > (Object.hasOwn(added, "original") ? 1 : 0)) o.added = added;
  if (errs.length && fits(o.error)) {
    const el = list(o, "error");
    for (const e of errs)
      if (!el.includes(e)) {
        el.push(e);
        changed++;
      }
  }
  if (created && Object.keys(o).length === 0) {
    if (wasNull) doc.outliers = null;
    else delete doc.outliers;
  }
  return changed;
}
