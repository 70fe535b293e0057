/**
 * `outliers compile --target pipeline|painless`: the live tagging pipeline body, or the Painless
 * script alone (fixed source + params), for the rules given. Rules that cannot run live are the
 * target's failures (reported per rule, the rest still compile).
 */
import type { EmitContext, EmitFailure, Target } from "../targets.ts";
import type { Rule } from "../../ir/types.ts";
import { liveRules } from "./encode.ts";
import { buildPipeline, updateScript } from "./pipeline.ts";

function failuresOf(rules: Rule[], skipped: { id: string; reason: string }[]): EmitFailure[] {
  const byId = new Map(rules.map((r) => [r.id, r]));
  return skipped.map((s) => ({
    rule: byId.get(s.id)!,
    status: "unsupported" as const,
    error: `not live: ${s.reason}`,
  }));
}

/** The pipeline body `PUT _ingest/pipeline/<name>` takes (description, processors, on_failure). */
export function pipelineBody(
  rules: Rule[],
  ctx: EmitContext,
): {
  body: { description: string; processors: object[]; on_failure?: object[] };
  failures: EmitFailure[];
  ruleIds: string[];
  hash: string;
} {
  const built = buildPipeline(rules, { guardCosts: ctx.profile.guardCosts });
  const description = `outliers live tagging: ${built.ruleIds.length} rule(s), sha256 ${built.hash.slice(0, 16)}`;
  return {
    body: { description, processors: built.processors, on_failure: built.on_failure },
    failures: failuresOf(rules, built.skipped),
    ruleIds: built.ruleIds,
    hash: built.hash,
  };
}

export const pipelineTarget: Target = {
  name: "pipeline",
  description: "ingest pipeline body (one script processor holding every rule in params) for PUT _ingest/pipeline/NAME",
  emit(rules, ctx) {
    const { body, failures } = pipelineBody(rules, ctx);
    return { text: JSON.stringify(body, null, 1) + "\n", json: body, failures };
  },
};

export const painlessTarget: Target = {
  name: "painless",
  description:
    "the fixed Painless matcher and tagger with the rules as params ({lang, source, params}; the _update_by_query form)",
  emit(rules, ctx) {
    const opts = { guardCosts: ctx.profile.guardCosts };
    // The rules the pipeline keeps (found by lowering alone), encoded alone: the script backfill runs for them.
    const { rules: kept, skipped } = liveRules(rules);
    const script = updateScript(kept, opts);
    return { text: JSON.stringify(script, null, 1) + "\n", json: script, failures: failuresOf(rules, skipped) };
  },
};
