/**
 * MITRE ATT&CK Navigator layers (layer format 4.5, https://github.com/mitre-attack/attack-navigator,
 * layers/spec/v4.5/layerformat.md): techniques and sub-techniques with a score and a comment (the rule
 * titles), and a gradient from 0 to the highest score. Two kinds: the coverage of a rule set (score =
 * rules per technique, from `attack.tNNNN[.NNN]` tags) and the hits on a cluster (score = tagged events).
 *
 * The layer declares the ATT&CK version its techniques exist in (`versions.attack`): the newest
 * "first version" among its techniques and the rules' tactics (`ATTACK_FIRST_VERSION`), at least
 * 14, or the version asked for (`--attack-version`). A layer declaring v14 with v19 techniques
 * (`T1685`, the `defense-impairment` tactic) does not open right in the Navigator.
 */
import type { Rule } from "../ir/types.ts";
import { techniquesOf } from "./match-plan/rule-meta.ts";
import { UsageError } from "../util/errors.ts";

/** Navigator 5.2.0 reads layer format 4.5 (the spec's own example pairs them with ATT&CK 18). */
export const LAYER_VERSIONS = { attack: "14", navigator: "5.2.0", layer: "4.5" } as const;

/** The lowest ATT&CK version a layer declares (the one these layers were first written for). */
export const BASE_ATTACK_VERSION = 14;

/**
 * The ATT&CK release in which technique ids and tactics first appear, for those newer than v14.
 * Technique ids are handed out in increasing order, so a table of the first id of each release
 * places every technique: T1660 to T1665 are v15 (Hide Infrastructure, T1665), T1666 to T1668 v16,
 * T1669 to T1672 v17, T1673 to T1684 v18, and T1685 on v19 (Disable or Modify Tools, T1685, moved
 * out of T1562.001 when v19 split Defense Evasion into the Stealth and Defense Impairment tactics).
 * The v19 entries are what the rules need (the v19 release split Defense Evasion into Stealth and
 * Defense Impairment; T1685 is Disable or Modify Tools there). The v15 to v18 boundaries follow the
 * order ids were handed out and are approximate (T1665 Hide Infrastructure is v15; no SigmaHQ rule of
 * the snapshot uses T1660 to T1684); `--attack-version` overrides.
 */
export const ATTACK_FIRST_VERSION = {
  techniques: [
    { from: 1660, version: 15 },
    { from: 1666, version: 16 },
    { from: 1669, version: 17 },
    { from: 1673, version: 18 },
    { from: 1685, version: 19 },
  ],
  tactics: { stealth: 19, "defense-impairment": 19 } as Record<string, number>,
};

/** The first ATT&CK version a technique (`T1685`, `T1059.001`) or tactic (`defense-impairment`) exists in. */
export function firstAttackVersion(id: string): number {
  const t = /^t(\d{4})(\.\d{3})?$/i.exec(id);
  if (t) {
    const n = Number(t[1]);
    let v = BASE_ATTACK_VERSION;
    for (const s of ATTACK_FIRST_VERSION.techniques) if (n >= s.from) v = s.version;
    return v;
  }
  return ATTACK_FIRST_VERSION.tactics[id.toLowerCase().replace(/_/g, "-")] ?? BASE_ATTACK_VERSION;
}

/** The ATT&CK version a layer of these techniques and tactics needs. */
export function attackVersionFor(ids: Iterable<string>): string {
  let v = BASE_ATTACK_VERSION;
  for (const id of ids) v = Math.max(v, firstAttackVersion(id));
  return String(v);
}

/** The tactics of `attack.*` tags that are not techniques, groups or software (`attack.defense-impairment`). */
export function tacticsOf(rules: Rule[]): string[] {
  const out = new Set<string>();
  for (const r of rules)
    for (const t of r.tags) {
      const m = /^attack\.([a-z][a-z_-]+)$/i.exec(t);
      if (m) out.add(m[1]!.toLowerCase());
    }
  return [...out];
}

/** `--attack-version` as given: a whole number such as 19 (a leading v is allowed). */
export function parseAttackVersion(v: string): string {
  const m = /^v?(\d{1,3})(\.\d+)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`--attack-version ${JSON.stringify(v)}: expected an ATT&CK version such as 19`);
  return m[1]!;
}

export interface LayerTechnique {
  techniqueID: string;
  score: number;
  comment: string;
}

export interface NavigatorLayer {
  name: string;
  versions: { attack: string; navigator: string; layer: string };
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

/**
 * A layer of `techniques`. `attackVersion` (from `--attack-version`) wins; else the version is the one
 * the techniques and `tactics` (e.g. the rules' `attack.defense-impairment`) need.
 */
export function navigatorLayer(
  name: string,
  description: string,
  techniques: LayerTechnique[],
  opts: { attackVersion?: string; tactics?: string[] } = {},
): NavigatorLayer {
  const valid = techniques
    .filter((t) => TECHNIQUE.test(t.techniqueID))
    .sort((a, b) => a.techniqueID.localeCompare(b.techniqueID));
  const max = Math.max(1, ...valid.map((t) => t.score));
  return {
    name,
    versions: {
      ...LAYER_VERSIONS,
      attack: opts.attackVersion ?? attackVersionFor([...valid.map((t) => t.techniqueID), ...(opts.tactics ?? [])]),
    },
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

/**
 * Hits on a cluster: per technique, how many tagged events carry it; the comment names the rules
 * tagged on those events (`rules`: technique id → rule id → events, titles from `titles`), most first.
 */
export function hitTechniques(
  techniques: { id: string; count: number }[],
  rules: Map<string, Map<string, number>> = new Map(),
  titles: Map<string, string> = new Map(),
): LayerTechnique[] {
  return techniques.map((t) => {
    const byRule = [...(rules.get(t.id) ?? [])].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const named = byRule.map(([id, n]) => `${titles.get(id) || id} (${n})`);
    const shown = named.slice(0, MAX_TITLES).join("; ");
    const more = named.length > MAX_TITLES ? `; and ${named.length - MAX_TITLES} more` : "";
    return {
      techniqueID: t.id.toUpperCase(),
      score: t.count,
      comment: `${t.count} tagged event(s)${named.length ? `; ${named.length} rule(s): ${shown}${more}` : ""}`,
    };
  });
}
