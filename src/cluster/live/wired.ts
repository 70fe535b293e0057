/**
 * Which of the indices an `_update_by_query` reaches are wired to our live tagger: their default or
 * final pipeline reaches (directly, or through `pipeline` processors such as install's chain
 * pipelines) a pipeline holding our tagger processor. Untag and backfill mark their writes to the
 * indices whose taggers check the marker (src/emit/painless/rewrite.ts), so the tagger lets them
 * through; a tagger installed by an older version lacks the check and is reported (`old`), its
 * indices left unmarked (a marker there would stay on the event).
 */
import { checksRewrite, TAGGER_TAG, type WiredParam } from "../../emit/painless/rewrite.ts";
import type { Cluster } from "../connection/client.ts";
import { EsRequestError, rest, seg } from "../connection/rest.ts";
import { getIndexSetting } from "../connection/settings-access.ts";

type Obj = Record<string, any>;

export interface Wiring {
  /**
   * Indices whose pipelines reach only taggers that let marked rewrites through, with how many of
   * them a write runs (2 for stacked installs: `b-chain-a` runs a's tagger, then b's).
   */
  marked: WiredParam;
  /** Indices whose pipelines reach a tagger without the check, with those pipelines. */
  old: { index: string; pipelines: string[] }[];
  /** Why the pipelines could not be read (no right to): nothing is marked then. */
  unreadable?: string;
}

/** Pipeline ids a pipeline calls through `pipeline` processors (on_failure and foreach included). */
function calls(p: Obj | undefined): string[] {
  const out: string[] = [];
  const walk = (procs: unknown) => {
    if (!Array.isArray(procs)) return;
    for (const proc of procs) {
      if (!proc || typeof proc !== "object") continue;
      for (const [type, cfg] of Object.entries(proc as Obj)) {
        if (!cfg || typeof cfg !== "object") continue;
        if (type === "pipeline" && typeof cfg.name === "string") out.push(cfg.name);
        if (type === "foreach" && cfg.processor) walk([cfg.processor]);
        walk(cfg.on_failure);
      }
    }
  };
  walk(p?.processors);
  walk(p?.on_failure);
  return out;
}

/** The tagger processors of a pipeline (script processors with our tag), as their sources. */
function taggers(p: Obj | undefined): unknown[] {
  return (Array.isArray(p?.processors) ? p!.processors : [])
    .filter((x: Obj) => x?.script?.tag === TAGGER_TAG)
    .map((x: Obj) => x.script.source);
}

/**
 * How many tagger processors a write runs from pipeline `id`: its own, then those of the pipelines its
 * `pipeline` processors call (a pipeline called only on failure, or per element of a foreach, is not
 * counted; a condition on a `pipeline` processor is taken as true).
 */
export function taggerRuns(id: string, pipelines: Obj, path: string[] = []): number {
  if (path.includes(id)) return 0;
  const p = pipelines[id];
  let n = taggers(p).length;
  for (const proc of Array.isArray(p?.processors) ? p.processors : []) {
    const name = proc?.pipeline?.name;
    if (typeof name === "string") n += taggerRuns(name, pipelines, [...path, id]);
  }
  return n;
}

/** Our pipelines reached from `start`: with the check (`ok`) and without (`old`). */
export function reachedTaggers(start: string[], pipelines: Obj): { ok: string[]; old: string[] } {
  const seen = new Set<string>();
  const todo = [...start];
  const ok: string[] = [];
  const old: string[] = [];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const p = pipelines[id];
    const t = taggers(p);
    if (t.length) (t.every(checksRewrite) ? ok : old).push(id);
    todo.push(...calls(p));
  }
  return { ok: ok.sort(), old: old.sort() };
}

/**
 * Reads the pipelines of the indices `patterns` resolve to (as `_update_by_query` resolves them,
 * data streams to their backing indices) and sorts them out. An index created during the run is not
 * marked, and is tagged twice (idempotent).
 */
export async function readWiring(cluster: Cluster, patterns: string[]): Promise<Wiring> {
  try {
    return await wiringOf(cluster, patterns);
  } catch (e) {
    // A user allowed to update events but not to read index settings or pipelines: nothing marked.
    if (e instanceof EsRequestError && (e.status === 401 || e.status === 403))
      return { marked: {}, old: [], unreadable: e.message };
    throw e;
  }
}

async function wiringOf(cluster: Cluster, patterns: string[]): Promise<Wiring> {
  const target = patterns.map(seg).join(",");
  const settings =
    (await rest<Obj>(cluster, "GET", `/${target}/_settings/index.final_pipeline,index.default_pipeline`, undefined, {
      querystring: { flat_settings: true, ignore_unavailable: true, allow_no_indices: true },
      allow404: true,
      what: "read the pipelines of the indices",
    })) ?? {};
  const starts = new Map<string, string[]>();
  for (const [index, v] of Object.entries(settings)) {
    const s = (v as Obj)?.settings;
    const ids = ["final_pipeline", "default_pipeline"]
      .map((k) => getIndexSetting(s, k).value)
      .filter((x): x is string => !!x && x !== "_none");
    if (ids.length) starts.set(index, ids);
  }
  const out: Wiring = { marked: {}, old: [] };
  if (starts.size === 0) return out;
  const pipelines =
    (await rest<Obj>(cluster, "GET", "/_ingest/pipeline", undefined, {
      allow404: true,
      what: "read the ingest pipelines",
    })) ?? {};
  for (const [index, ids] of [...starts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const r = reachedTaggers(ids, pipelines);
    if (r.old.length) out.old.push({ index, pipelines: r.old });
    else if (r.ok.length) {
      // The default pipeline runs first, then the final one: both count.
      const runs = ids.reduce((n, id) => n + taggerRuns(id, pipelines), 0);
      if (runs > 0) out.marked[index] = runs;
    }
  }
  return out;
}
