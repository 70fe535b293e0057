/**
 * The set-aside processor, placed before the tagger in the live pipeline: it moves what an event
 * already carries where our tags go to `outliers_original` (set-aside.painless documents the rules;
 * src/emit/js/set-aside.ts is its JavaScript twin).
 */
import { loadPainless } from "../../shared-scripts/load.ts";
import setAsideText from "./set-aside.painless" with { type: "text" };

/** The fixed Painless source of the set-aside processor (ingest `ctx` is the document). */
export const SET_ASIDE_SOURCE = "\n" + loadPainless("set-aside.painless", setAsideText);

/** The processor, placed before the tagger; its failure is recorded and never stops the event. */
export function setAsideProcessor(onFailure: object[]): object {
  return { script: { tag: "outliers-set-aside", lang: "painless", source: SET_ASIDE_SOURCE, on_failure: onFailure } };
}
