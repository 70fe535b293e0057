import type { Logsource } from "./profile.ts";

/** Table lookup by an outside string (a Sigma field or logsource name): own keys only, so that
 * names such as `constructor` or `toString` never find Object.prototype members. */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * A logsource as the tables key it: lower-case strings, with missing, null and empty values
 * dropped (YAML may hand over numbers or nulls).
 */
export function normLogsource(ls: Logsource): Logsource {
  const out: Logsource = {};
  for (const k of ["product", "category", "service"] as const) {
    const v = (ls as Record<string, unknown>)[k];
    if (v === undefined || v === null) continue;
    const s = String(v).trim().toLowerCase();
    if (s !== "") out[k] = s;
  }
  return out;
}
