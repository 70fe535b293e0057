/**
 * Sigma's rule levels, lowest to highest, and their severity numbers (1–5) as the tags carry them
 * (`outliers.level`, `outliers.max_level`, `outliers.max_severity`; docs/tags.md "Levels").
 */
export const LEVELS = ["informational", "low", "medium", "high", "critical"] as const;
export type Level = (typeof LEVELS)[number];

/** The level a rule without one gets (unless `--default-level` says otherwise). */
export const DEFAULT_LEVEL: Level = "informational";

export function isLevel(v: unknown): v is Level {
  return typeof v === "string" && (LEVELS as readonly string[]).includes(v);
}

/** 1 (informational) … 5 (critical); 0 for anything else. */
export function severityOf(level: unknown): number {
  return isLevel(level) ? LEVELS.indexOf(level) + 1 : 0;
}

/** The level a rule is tagged with: its own (lower-cased) when it is one of LEVELS, else DEFAULT_LEVEL. */
export function levelOf(rule: { level?: string }): Level {
  const l = rule.level?.trim().toLowerCase();
  return isLevel(l) ? l : DEFAULT_LEVEL;
}

/** Levels highest first (for breakdowns). */
export const LEVELS_DESC: readonly Level[] = [...LEVELS].reverse();
