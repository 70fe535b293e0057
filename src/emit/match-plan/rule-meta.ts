/**
 * Tag metadata: what a rule writes when it matches (params `m`, one row per rule in the META order of
 * layout.ts): id, type entries, reason, summary template parts, model, ATT&CK techniques, extras.
 */
import { techniqueOfTag } from "../../ir/attack.ts";
import type { Rule } from "../../ir/types.ts";
import { levelOf } from "../../ir/levels.ts";
import { META } from "../painless/layout.ts";

/** `{field}` placeholders (ee-outliers: `\{([^\}]*)\}`) split out: [lit, field, lit, …, lit]. */
export function summaryParts(template: string): string[] {
  const parts: string[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    parts.push(template.slice(last, m.index), m[1]!);
    last = m.index! + m[0].length;
  }
  parts.push(template.slice(last));
  return parts;
}

/** ATT&CK technique ids: the rule's own list plus `attack.tNNNN[.NNN]` tags, upper-cased, unique. */
export function techniquesOf(rule: Rule): string[] {
  const out: string[] = [];
  const add = (t: string) => {
    const u = t.toUpperCase();
    if (!out.includes(u)) out.push(u);
  };
  for (const t of rule.tagsOut.techniques) add(t);
  for (const t of rule.tags) {
    const id = techniqueOfTag(t);
    if (id) add(id);
  }
  return out;
}

/**
 * A rule's `outliers.type` entries: its type list, each entry on its own, as ee-outliers writes a
 * use case's comma-separated `outlier_type` (split, trimmed, appended; see docs/tags.md).
 */
export function typeEntries(rule: Rule): string[] {
  return rule.tagsOut.type.map((t) => t.trim()).filter((t) => t.length > 0);
}

export function ruleMeta(rule: Rule): unknown[] {
  const t = rule.tagsOut;
  const extras = Object.keys(t.extra ?? {}).length ? t.extra : null;
  const meta: unknown[] = [];
  meta[META.ID] = rule.id;
  meta[META.TYPES] = typeEntries(rule);
  meta[META.REASON] = t.reason;
  meta[META.SUMMARY] = summaryParts(t.summary);
  meta[META.MODEL_NAME] = t.modelName;
  meta[META.MODEL_TYPE] = t.modelType;
  meta[META.TECHNIQUES] = techniquesOf(rule);
  meta[META.EXTRAS] = extras;
  meta[META.LEVEL] = levelOf(rule);
  return meta;
}
