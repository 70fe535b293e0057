/**
 * The ingest pipeline and the `_update_by_query` script, from the rule representation.
 *
 * Design (chosen by measurement, see BENCHMARKS.md): ONE script processor whose params hold every
 * rule (after a small fixed one that sets aside values clashing with the tag fields, set-aside.ts); the fixed source (src/emit/painless/matcher.painless) picks the candidate rules for an event from index keys (channel,
 * event id, literal values, the base name of `endswith '\x.exe'`), folds each field at most once,
 * evaluates the candidates, and tags. The update script is the same matcher and tagger.
 */
import { createHash } from "node:crypto";
import type { Rule } from "../../ir/types.ts";
import { encodeRules, type EncodeOptions, type Params } from "./encode.ts";
import { MATCHER_FUNCTIONS, TAGGER_FUNCTIONS } from "./source.ts";
import { REGEX_FUNCTIONS } from "./regex.ts";
import { setAsideProcessor } from "./set-aside.ts";
import { MARK_FUNCTIONS, SKIP_REWRITE, TAGGER_TAG, type WiredParam } from "./rewrite.ts";

/** Every function of the fixed source: tagger, regex NFA, matcher. */
export const FUNCTIONS = `${TAGGER_FUNCTIONS}${REGEX_FUNCTIONS}${MATCHER_FUNCTIONS}`;

/** Ingest: `ctx` is the document; an event rewritten by untag or backfill is let through (rewrite.ts). */
export const INGEST_SOURCE = `${FUNCTIONS}${SKIP_REWRITE}outliersRun(ctx, params);
`;

/**
 * `_update_by_query`: `ctx._source` is the document; nothing new recorded → no write; a write to an
 * index in params.wired is marked so that the live tagger lets it through (rewrite.ts).
 */
export const UPDATE_SOURCE = `${FUNCTIONS}${MARK_FUNCTIONS}
if (outliersRun(ctx._source, params) == 0) { ctx.op = 'noop'; } else { outliersMarkRewrite(ctx, params.get('wired')); }
`;

/** The tagger alone, for callers that decided the matches themselves: params.m (rule meta) and params.hits. */
export const TAG_SOURCE = `${TAGGER_FUNCTIONS}${MARK_FUNCTIONS}
if (outliersTag(ctx._source, params, params.hits, new ArrayList()) == 0) { ctx.op = 'noop'; } else { outliersMarkRewrite(ctx, params.get('wired')); }
`;

/** The failure message of any processor, recorded on the event; never fails itself. */
export function recordFailure(): object[] {
  return [
    {
      append: {
        field: "outliers.error",
        value: ["pipeline: {{{_ingest.on_failure_processor_type}}}: {{{_ingest.on_failure_message}}}"],
        ignore_failure: true,
      },
    },
  ];
}

export interface BuiltPipeline {
  description?: string;
  processors: object[];
  on_failure?: object[];
  /** Ids of the rules the pipeline tags, in params order. */
  ruleIds: string[];
  /** Rules left out (liveUnsupported, or not expressible live), with the reason. */
  skipped: { id: string; reason: string }[];
  /** sha256 of the processors: equal hashes, equal tagging. */
  hash: string;
}

export function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

export function buildPipeline(rules: Rule[], opts: { description?: string } & EncodeOptions = {}): BuiltPipeline {
  const { params, rules: kept, skipped } = encodeRules(rules, opts);
  const processors = [
    // First, values that would clash with our tag mappings are moved aside (set-aside.ts).
    setAsideProcessor(recordFailure()),
    {
      script: {
        tag: TAGGER_TAG,
        lang: "painless",
        source: INGEST_SOURCE,
        params,
        on_failure: recordFailure(),
      },
    },
  ];
  return {
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    processors,
    on_failure: recordFailure(),
    ruleIds: kept.map((r) => r.id),
    skipped,
    hash: hashOf(processors),
  };
}

/**
 * The `_update_by_query` script: the pipeline's matcher and tagger over `ctx._source`. `wired`: the
 * indices whose pipelines reach a tagger that lets marked rewrites through (src/cluster/live/wired.ts).
 */
export function updateScript(
  rules: Rule[],
  opts: EncodeOptions & { wired?: WiredParam } = {},
): { source: string; params: Params & { wired?: WiredParam }; lang: "painless" } {
  const params = encodeRules(rules, opts).params;
  return { source: UPDATE_SOURCE, params: opts.wired ? { ...params, wired: opts.wired } : params, lang: "painless" };
}
