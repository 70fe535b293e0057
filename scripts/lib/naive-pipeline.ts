/**
 * Benchmark-only pipelines (scripts/bench-ingest): the baselines the compiled pipeline is measured
 * against. They reuse the product's fixed source and params (src/emit/painless), so only the way the
 * rules are dispatched differs.
 */
import type { Rule } from "../../src/ir/types.ts";
import { encodeRules, type EncodeOptions, type Params } from "../../src/emit/painless/encode.ts";
import { FUNCTIONS, recordFailure } from "../../src/emit/painless/pipeline.ts";
import { TAGGER_FUNCTIONS } from "../../src/emit/painless/source.ts";

/** Naive baseline: one rule per processor — the `if` condition matches, the processor tags. */
export const NAIVE_IF_SOURCE = `${FUNCTIONS}
return outliersMatchRule(ctx, params, 0);
`;
export const NAIVE_TAG_SOURCE = `${TAGGER_FUNCTIONS}
List hits = new ArrayList(); hits.add(0);
outliersTag(ctx, params, hits, new ArrayList());
`;

/**
 * The naive baseline: one script processor with its own `if` per rule, running the same matcher and
 * tagger. The two fixed sources are stored scripts (`scripts`, to PUT under `_scripts/<id>` first)
 * referenced by id: repeating the 21 KB source in every one of ~2,800 processors makes a pipeline of
 * hundreds of megabytes that exhausts a node's heap.
 */
export function buildNaivePipeline(
  rules: Rule[],
  opts: EncodeOptions & { scriptIds?: { cond: string; tag: string } } = {},
): { processors: object[]; ruleIds: string[]; scripts: Record<string, { lang: "painless"; source: string }> } {
  const ids = opts.scriptIds ?? { cond: "outliers-naive-if", tag: "outliers-naive-tag" };
  const processors: object[] = [];
  const ruleIds: string[] = [];
  for (const rule of rules) {
    const { params, rules: kept } = encodeRules([rule], opts);
    if (kept.length === 0) continue;
    ruleIds.push(rule.id);
    processors.push({
      script: {
        id: ids.tag,
        params,
        if: { id: ids.cond, params },
        on_failure: recordFailure(),
      },
    });
  }
  return {
    processors,
    ruleIds,
    scripts: {
      [ids.cond]: { lang: "painless", source: NAIVE_IF_SOURCE },
      [ids.tag]: { lang: "painless", source: NAIVE_TAG_SOURCE },
    },
  };
}

/**
 * The ablation without index keys: the same params with every rule a candidate for every event (no
 * dimension, an empty gram filter). Changes the script processors of a built pipeline in place.
 */
export function withoutIndexKeys<T extends { processors: object[] }>(pipeline: T): T {
  for (const p of pipeline.processors as { script?: { params?: Params } }[]) {
    const params = p.script?.params;
    if (!params) continue;
    params.a = params.r.map((_, i) => i);
    params.dk = [];
    params.dm = [];
    params.dg = [];
    params.dp = Object.create(null) as Record<string, number[]>;
    params.gf = "\u0000".repeat(params.gf.length);
  }
  return pipeline;
}
