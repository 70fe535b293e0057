/**
 * The "same answers as the query" check on the real node: the same documents go (A) through the
 * compiled ingest pipeline and (B) into an index without it (as `ingest` stores them there: values
 * clashing with the tag fields set aside first); each rule's DSL query (`ruleQuery`) runs on B. The
 * (document, rule) pairs tagged live in A must equal the pairs the queries match (rule ids another
 * writer recorded on an event before are not pairs of ours).
 */
import type { Rule } from "../../src/ir/types.ts";
import { ruleQuery } from "../../src/emit/dsl.ts";
import { buildPipeline } from "../../src/emit/painless/pipeline.ts";
import { setAside } from "../../src/emit/js/set-aside.ts";
import { WINDOWS_GUARD_COSTS } from "../../src/mapping/windows-profile.ts";
import { connect, type Cluster } from "../../src/cluster/connection/client.ts";
import { dropIndices, ES_URL, testIndex } from "./es.ts";

/** Own client with a long request timeout: some rule queries take minutes on a loaded node. */
let patient: Promise<Cluster> | undefined;
function cluster(): Promise<Cluster> {
  patient ??= connect({ node: ES_URL, timeoutMs: 3_600_000 });
  return patient;
}

export interface Template {
  settings?: Record<string, unknown>;
  mappings: Record<string, unknown>;
}

export interface Diff {
  doc: string;
  rule: string;
  live: boolean;
  query: boolean;
}

export interface LiveVsQuery {
  docs: number;
  rules: number;
  /** Rules the DSL emitter or the pipeline could not take (left out of both sides). */
  excluded: { id: string; reason: string }[];
  livePairs: number;
  queryPairs: number;
  diffs: Diff[];
  /** `outliers.error` entries found on live-tagged documents. */
  errors: { doc: string; error: string }[];
  /** Documents the live index refused (must be none: tagging never loses an event). */
  lost: { doc: string; reason: string }[];
  /** Live tags per document id (for further checks). */
  liveTags: Map<string, string[]>;
  /** What the live pipeline wrote on each document: its `tags`, `outliers`, `threat`, `outliers_original` (absent ones left out). */
  liveWritten: Map<string, Tagged>;
  /** The rules the live pipeline ran, in its order (the rule set a local scan must be given). */
  liveRules: Rule[];
}

/** The fields the tagger writes on an event, and where the set-aside processor moves clashing values. */
export type Tagged = { tags?: unknown; outliers?: unknown; threat?: unknown; outliers_original?: unknown };
const TAG_FIELDS = ["tags", "outliers", "threat", "outliers_original"] as const;

export function writtenTags(src: any): Tagged {
  const out: Tagged = {};
  for (const k of TAG_FIELDS) if (src?.[k] !== undefined) out[k] = src[k];
  return out;
}

async function bulk(
  index: string,
  docs: { id: string; source: object }[],
  pipeline?: string,
): Promise<{ doc: string; reason: string }[]> {
  const { client } = await cluster();
  const failed: { doc: string; reason: string }[] = [];
  for (let i = 0; i < docs.length; i += 2000) {
    const body: object[] = [];
    for (const d of docs.slice(i, i + 2000)) body.push({ index: { _index: index, _id: d.id } }, d.source);
    const res: any = await client.bulk({ body, refresh: false, ...(pipeline ? { pipeline } : {}) } as any);
    if (res.errors)
      for (const it of res.items) {
        const r = it.index;
        if (r?.error)
          failed.push({
            doc: r._id,
            reason: `${r.error.type}: ${r.error.reason}${r.error.caused_by ? ` (${r.error.caused_by.reason})` : ""}`,
          });
      }
  }
  await client.indices.refresh({ index });
  return failed;
}

/** Every (id, source subset) of an index, by scroll. */
async function scrollAll(
  index: string,
  query: object,
  source: string[] | false,
  each: (id: string, src: any) => void,
): Promise<void> {
  const { client } = await cluster();
  let res: any = await client.search({ index, scroll: "2m", size: 5000, query, _source: source } as any);
  while (res.hits.hits.length) {
    for (const h of res.hits.hits) each(h._id, h._source);
    res = await client.scroll({ scroll_id: res._scroll_id, scroll: "2m" } as any);
  }
  await client.clearScroll({ scroll_id: res._scroll_id } as any).catch(() => {});
}

/** Ids of documents each rule's query matches, 20 rules per `_msearch`, scrolling past 10,000 hits. */
async function queryPairs(
  index: string,
  rules: { rule: Rule; query: object }[],
  add: (doc: string, rule: string) => void,
  failed: (rule: string, reason: string) => void,
): Promise<void> {
  const { client } = await cluster();
  // Small batches: some rule queries (big regex automata) take seconds each on a busy node.
  for (let i = 0; i < rules.length; i += 20) {
    const batch = rules.slice(i, i + 20);
    const searches: object[] = [];
    for (const r of batch)
      searches.push({ index }, { size: 10000, _source: false, track_total_hits: true, query: r.query });
    const res: any = await client.msearch({ searches } as any);
    for (let j = 0; j < batch.length; j++) {
      const resp = res.responses[j];
      const id = batch[j]!.rule.id;
      if (resp.error) {
        failed(id, `query fails on the cluster: ${resp.error.root_cause?.[0]?.reason ?? JSON.stringify(resp.error)}`);
        continue;
      }
      const total = resp.hits.total.value ?? resp.hits.total;
      if (total > resp.hits.hits.length) await scrollAll(index, batch[j]!.query, false, (doc) => add(doc, id));
      else for (const h of resp.hits.hits) add(h._id, id);
    }
  }
}

export async function liveVsQuery(
  rules: Rule[],
  docs: { id: string; source: object }[],
  opts: { template: Template; prefix?: string; keep?: boolean },
): Promise<LiveVsQuery> {
  const { client } = await cluster();
  const excluded: { id: string; reason: string }[] = [];
  const usable: { rule: Rule; query: object }[] = [];
  for (const rule of rules) {
    try {
      usable.push({ rule, query: ruleQuery(rule) });
    } catch (e) {
      excluded.push({ id: rule.id, reason: `dsl: ${(e as Error).message}` });
    }
  }
  const built = buildPipeline(
    usable.map((u) => u.rule),
    { guardCosts: WINDOWS_GUARD_COSTS },
  );
  for (const s of built.skipped) excluded.push({ id: s.id, reason: `pipeline: ${s.reason}` });
  const live = new Set(built.ruleIds);
  const byId = new Map(usable.map((u) => [u.rule.id, u.rule]));
  const compared = usable.filter((u) => live.has(u.rule.id));

  const prefix = opts.prefix ?? "lvq";
  const pipeline = testIndex(`${prefix}-pipe`);
  const a = testIndex(`${prefix}-live`);
  const b = testIndex(`${prefix}-plain`);
  try {
    await client.ingest.putPipeline({
      id: pipeline,
      processors: built.processors,
      on_failure: built.on_failure,
    } as any);
    const settings = { ...(opts.template.settings ?? {}) };
    await client.indices.create({
      index: a,
      settings: { ...settings, "index.default_pipeline": pipeline },
      mappings: opts.template.mappings,
    } as any);
    await client.indices.create({ index: b, settings, mappings: opts.template.mappings } as any);
    const lost = await bulk(a, docs);
    const lostB = await bulk(
      b,
      docs.map((d) => {
        const source = structuredClone(d.source) as Record<string, unknown>;
        return setAside(source).length ? { id: d.id, source } : d;
      }),
    );
    if (lostB.length)
      throw new Error(`the plain index refused ${lostB.length} documents, e.g. ${JSON.stringify(lostB.slice(0, 3))}`);

    const livePairs = new Set<string>();
    const liveTags = new Map<string, string[]>();
    const liveWritten = new Map<string, Tagged>();
    const errors: { doc: string; error: string }[] = [];
    await scrollAll(a, { match_all: {} }, [...TAG_FIELDS], (id, src) => {
      const ids: string[] = [].concat(src?.outliers?.rule_id ?? []);
      liveTags.set(id, ids);
      liveWritten.set(id, writtenTags(src));
      for (const r of ids) if (live.has(r)) livePairs.add(`${id}\u0000${r}`);
      for (const e of [].concat(src?.outliers?.error ?? [])) errors.push({ doc: id, error: e });
    });
    const qPairs = new Set<string>();
    const broken = new Set<string>();
    await queryPairs(
      b,
      compared,
      (doc, rule) => void qPairs.add(`${doc}\u0000${rule}`),
      (rule, reason) => {
        broken.add(rule);
        excluded.push({ id: rule, reason });
      },
    );
    // A rule whose query the cluster refuses has no reference answer: left out of the comparison.
    for (const p of [...livePairs]) if (broken.has(p.split("\u0000")[1]!)) livePairs.delete(p);
    const diffs: Diff[] = [];
    for (const p of livePairs)
      if (!qPairs.has(p))
        diffs.push({ doc: p.split("\u0000")[0]!, rule: p.split("\u0000")[1]!, live: true, query: false });
    for (const p of qPairs)
      if (!livePairs.has(p))
        diffs.push({ doc: p.split("\u0000")[0]!, rule: p.split("\u0000")[1]!, live: false, query: true });
    return {
      docs: docs.length,
      rules: compared.length - broken.size,
      excluded,
      livePairs: livePairs.size,
      queryPairs: qPairs.size,
      diffs,
      errors,
      lost,
      liveTags,
      liveWritten,
      liveRules: built.ruleIds.map((id) => byId.get(id)!),
    };
  } finally {
    if (!opts.keep) {
      await dropIndices(a, b);
      await client.ingest.deletePipeline({ id: pipeline }).catch(() => {});
    }
  }
}

/** A readable account of the first differences: the document and the rule's query. */
export function describeDiffs(r: LiveVsQuery, docs: Map<string, object>, rules: Map<string, Rule>, max = 5): string {
  return r.diffs
    .slice(0, max)
    .map((d) => {
      const rule = rules.get(d.rule);
      return [
        `doc ${d.doc} rule ${d.rule} (${rule?.title}): live=${d.live} query=${d.query}`,
        `  doc: ${JSON.stringify(docs.get(d.doc)).slice(0, 1500)}`,
        `  query: ${rule ? JSON.stringify(ruleQuery(rule)).slice(0, 1500) : "?"}`,
      ].join("\n");
    })
    .join("\n");
}

export interface ScanVsLive {
  /** (document, rule) pairs one side has and the other lacks. */
  pairDiffs: Diff[];
  /** Documents whose written tags differ (live = the pipeline, scan = the local tagger). */
  tagDiffs: { doc: string; live: Tagged; scan: Tagged }[];
  scanPairs: number;
}

/**
 * The local scan against the live pipeline: `scanned` maps each document id to what `outliers scan`
 * wrote on it (`tags`, `outliers`, `threat`, `outliers_original`). Pairs and written tags must be equal; key order does
 * not count (the pipeline's objects are Java HashMaps).
 */
export function scanVsLive(r: LiveVsQuery, scanned: Map<string, Tagged>): ScanVsLive {
  const pairDiffs: Diff[] = [];
  const tagDiffs: ScanVsLive["tagDiffs"] = [];
  let scanPairs = 0;
  const ids = new Set([...r.liveWritten.keys(), ...scanned.keys()]);
  for (const doc of ids) {
    const live = r.liveWritten.get(doc) ?? {};
    const scan = scanned.get(doc) ?? {};
    const l = new Set<string>([].concat((live.outliers as any)?.rule_id ?? []));
    const s = new Set<string>([].concat((scan.outliers as any)?.rule_id ?? []));
    scanPairs += s.size;
    for (const rule of l) if (!s.has(rule)) pairDiffs.push({ doc, rule, live: true, query: false });
    for (const rule of s) if (!l.has(rule)) pairDiffs.push({ doc, rule, live: false, query: true });
    if (!Bun.deepEquals(canonical(live), canonical(scan))) tagDiffs.push({ doc, live, scan });
  }
  return { pairDiffs, tagDiffs, scanPairs };
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
