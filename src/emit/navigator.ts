/**
 * MITRE ATT&CK Navigator layers (layer format 4.5, https://github.com/mitre-attack/attack-navigator,
 * layers/spec/v4.5/layerformat.md): techniques and sub-techniques with a score and a comment, and a
 * gradient from 0 to the highest score. Two kinds: the coverage of a rule set (score = rules per
 * technique, from `attack.tNNNN[.NNN]` tags) and the hits on a cluster (score = tagged events).
 */
import type { Rule } from "../ir/types.ts";
import { techniquesOf } from "./match-plan/rule-meta.ts";

export const LAYER_VERSIONS = { attack: "14", navigator: "4.9.1", layer: "4.5" } as const;

export interface LayerTechnique {
  techniqueID: string;
  score: number;
  comment: string;
}

export interface NavigatorLayer {
  name: string;
  versions: typeof LAYER_VERSIONS;
  domain: "enterprise-attack";
  description: string;
  sorting: number;
  layout: {
    layout: "side";
    showID: boolean;
    showName: boolean;
    showAggregateScores: boolean;
    aggregateFunction: "sum";
    expandedSubtechniques: "annotated";
  };
  hideDisabled: boolean;
  techniques: LayerTechnique[];
  gradient: { colors: string[]; minValue: number; maxValue: number };
  legendItems: { label: string; color: string }[];
}

const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;
/** Titles listed in one technique's comment; the rest are counted. */
const MAX_TITLES = 25;

export function navigatorLayer(name: string, description: string, techniques: LayerTechnique[]): NavigatorLayer {
  const valid = techniques
    .filter((t) => TECHNIQUE.test(t.techniqueID))
    .sort((a, b) => a.techniqueID.localeCompare(b.techniqueID));
  const max = Math.max(1, ...valid.map((t) => t.score));
  return {
    name,
    versions: { ...LAYER_VERSIONS },
    domain: "enterprise-attack",
    description,
    sorting: 3,
    layout: {
      layout: "side",
      showID: true,
      showName: true,
      showAggregateScores: true,
      aggregateFunction: "sum",
      expandedSubtechniques: "annotated",
    },
    hideDisabled: false,
    techniques: valid,
    gradient: { colors: ["#ffffff", "#ffe766", "#ff6666"], minValue: 0, maxValue: max },
    legendItems: [],
  };
}

/** Coverage of a rule set: per technique, how many rules detect it, with their titles in the comment. */
export function coverageTechniques(rules: Rule[]): LayerTechnique[] {
  const byTechnique = new Map<string, Rule[]>();
  for (const r of rules)
    for (const t of techniquesOf(r)) {
      const list = byTechnique.get(t) ?? [];
      list.push(r);
      byTechnique.set(t, list);
    }
  return [...byTechnique].map(([techniqueID, rs]) => ({ techniqueID, score: rs.length, comment: ruleComment(rs) }));
}

function ruleComment(rules: Rule[]): string {
  const titles = [...new Set(rules.map((r) => r.title))].sort();
  const shown = titles.slice(0, MAX_TITLES).join("; ");
  const more = titles.length > MAX_TITLES ? `; and ${titles.length - MAX_TITLES} more` : "";
  return `${rules.length} rule(s): ${shown}${more}`;
}

/** Hits on a cluster: per technique, how many tagged events carry it. */
export function hitTechniques(techniques: { id: string; count: number }[]): LayerTechnique[] {
  return techniques.map((t) => ({
    techniqueID: t.id.toUpperCase(),
    score: t.count,
    comment: `${t.count} tagged event(s)`,
  }));
}
