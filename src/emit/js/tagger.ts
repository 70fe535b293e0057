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
import type { Rule } from "../../ir/types.ts";
import { ruleMeta } from "../match-plan/rule-meta.ts";
import { javaNumberText } from "./values.ts";

type Obj = Record<string, unknown>;

/** One rule's metadata: [id, types, reason, summaryParts, modelName, modelType, techniques, extras|null]. */
export type RuleMeta = [string, string[], string, string[], string, string, string[], Record<string, string> | null];

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

function leaves(v: unknown, out: unknown[]): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const e of v) leaves(e, out);
    return;
  }
  if (isObj(v)) return;
  out.push(v);
}

/** oxWalk: the values of a dotted path, through nested objects and literal dotted keys alike. */
function walk(node: unknown, path: string, start: number, out: unknown[]): void {
  if (Array.isArray(node)) {
    for (const e of node) walk(e, path, start, out);
    return;
  }
  if (!isObj(node)) return;
  let i = path.indexOf(".", start);
  while (i >= 0) {
    const c = node[path.slice(start, i)];
    if (c !== null && c !== undefined) walk(c, path, i + 1, out);
    i = path.indexOf(".", i + 1);
  }
  leaves(node[path.slice(start)], out);
}

/** A summary with its `{field}` placeholders expanded from the event (oxSummary). */
export function summaryOf(doc: Obj, parts: string[]): string {
  let b = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i % 2 === 0) {
      b += p;
      continue;
    }
    const vals: unknown[] = [];
    walk(doc, p, 0, vals);
    b += vals.length === 0 ? `{${p}}` : vals.map(text).join(", ");
  }
  return b;
}

/**
 * Tags `doc` in place for the rules `hits` (indices into `set.meta`) and the error texts `errs`;
 * returns how many rules or errors it newly recorded (0: the event is unchanged).
 */
export function tagEvent(doc: Obj, set: TagSet, hits: number[], errs: string[]): number {
  if (hits.length === 0 && errs.length === 0) return 0;
  let changed = 0;
  const created = doc.outliers === undefined || doc.outliers === null;
  if (created) doc.outliers = {};
  const o = doc.outliers;
  if (!isObj(o)) throw new Error("outliers is not an object");
  const added: Obj = isObj(o.added) ? o.added : {};
  if (created) added.outliers_created = true;
  for (const ri of hits) {
    const m = set.meta[ri]!;
    const id = m[0];
    try {
      const idv = o.rule_id;
      if (idv === id || (Array.isArray(idv) && idv.includes(id))) continue;
      const tagsNew = doc.tags === undefined || doc.tags === null;
      const tv = doc.tags;
      if (!tagsNew && !Array.isArray(tv) && typeof tv !== "string") throw new Error("tags is not a list");
      let th = doc.threat as unknown;
      const techs = m[6];
      if (techs.length && th !== undefined && th !== null && !isObj(th)) throw new Error("threat is not an object");
      let tt = th === undefined || th === null ? undefined : (th as Obj).technique;
      if (techs.length && tt !== undefined && tt !== null && !isObj(tt))
        throw new Error("threat.technique is not an object");
      const ids = list(o, "rule_id");
      const types = list(o, "type");
      const reasons = list(o, "reason");
      const sums = list(o, "summary");
      const names = list(o, "model_name");
      const mtypes = list(o, "model_type");
      const summary = summaryOf(doc, m[3]);
      const n = ids.length;
      // Entry i of every list belongs to rule_id[i]: rules another writer recorded without these (a
      // scalar rule_id of an older tool, read as a one-element list) get "" here, as extras do.
      for (const l of [reasons, sums, names, mtypes]) while (l.length < n) l.push("");
      const extras = m[7];
      for (const k of set.extraKeys) {
        const has = extras !== null && k in extras;
        if (!has && !(k in o)) continue;
        const xl = list(o, k);
        while (xl.length < n) xl.push("");
        xl.push(has ? extras![k] : "");
      }
      types.push(...m[1]);
      const tcn = (Array.isArray(added.type_counts) ? added.type_counts : []) as unknown[];
      while (tcn.length < n) tcn.push(0);
      tcn.push(m[1].length);
      added.type_counts = tcn;
      reasons.push(m[2]);
      sums.push(summary);
      names.push(m[4]);
      mtypes.push(m[5]);
      ids.push(id);
      o.total_outliers = ids.length;
      const tags = list(doc, "tags");
      if (tagsNew) added.tags_created = true;
      if (!tags.includes("outlier")) {
        tags.push("outlier");
        added.outlier_tag = true;
      }
      if (techs.length) {
        const tc = (Array.isArray(added.threat_created) ? added.threat_created : []) as unknown[];
        if (th === undefined || th === null) {
          th = {};
          doc.threat = th;
          tc.push("threat");
        }
        if (tt === undefined || tt === null) {
          tt = {};
          (th as Obj).technique = tt;
          tc.push("threat.technique");
        }
        if (tc.length) added.threat_created = tc;
        const tid = list(tt as Obj, "id");
        const by = (Array.isArray(added.techniques) ? added.techniques : []) as unknown[];
        for (const t of techs) {
          const entry = by.find((e) => Array.isArray(e) && e.length > 0 && e[0] === t) as unknown[] | undefined;
          if (entry) {
            if (!entry.includes(id)) entry.push(id);
          } else if (!tid.includes(t)) {
            tid.push(t);
            by.push([t, id]);
          }
        }
        if (by.length) added.techniques = by;
      }
      changed++;
    } catch (e) {
      errs.push(`${id}: tagging failed: ${(e as Error).message}`);
    }
  }
  if (Object.keys(added).length) o.added = added;
  if (errs.length) {
    const el = list(o, "error");
    for (const e of errs)
      if (!el.includes(e)) {
        el.push(e);
        changed++;
      }
  }
  if (created && Object.keys(o).length === 0) delete doc.outliers;
  return changed;
}
