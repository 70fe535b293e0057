/**
 * The FIXED Painless source of the live matcher and tagger: src/emit/painless/tagger.painless and
 * src/emit/painless/matcher.painless (their headers document them), with the codes of layout.ts put in
 * for their names. No rule value is ever spliced in: the compiled rules arrive in `params` (see
 * encode.ts for the layout), so one compiled script serves every rule set and Elasticsearch's script
 * compilation limits stay out of reach.
 *
 * Entry points (functions; Painless functions see neither `ctx` nor `params`, so both are passed):
 * - `int outliersRun(Map doc, Map P)`: matches every candidate rule against `doc` and tags it.
 * - `boolean outliersMatchRule(Map doc, Map P, int ri)`: one rule, no tagging (the naive baseline).
 * - `int outliersTag(Map doc, Map P, List hits, List errs)`: the tagger alone (TAGGER_FUNCTIONS).
 */
import { loadPainless } from "../../shared-scripts/load.ts";
import matcherText from "./matcher.painless" with { type: "text" };
import taggerText from "./tagger.painless" with { type: "text" };
import { PAINLESS_CONSTANTS } from "./layout.ts";

export const TAGGER_FUNCTIONS = loadPainless("tagger.painless", taggerText, PAINLESS_CONSTANTS);
export const MATCHER_FUNCTIONS = loadPainless("matcher.painless", matcherText, PAINLESS_CONSTANTS);
