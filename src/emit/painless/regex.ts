/**
 * The bridge to src/ir/regex: a regex match op's program (src/emit/match-plan/lower.ts) is data in
 * params `x` for the fixed NFA interpreter `reMatch` of src/shared-scripts/regex-source.ts, called here
 * as `oxRegex(prog, s)`. Which regexes are live is decided once, in the lowering: exactly those whose
 * NFA program exists. Programs are case-closed (the `i` flag is in the sets), so the matcher passes
 * the value as indexed, unfolded.
 */
import { REGEX_FUNCTION_NAME, REGEX_PAINLESS } from "../../shared-scripts/regex-source.ts";

/** Painless: `boolean oxRegex(def prog, String s)`, unanchored search of s. */
export const REGEX_FUNCTIONS = `${REGEX_PAINLESS}
boolean oxRegex(def prog, String s) { return ${REGEX_FUNCTION_NAME}(prog, s); }
`;
