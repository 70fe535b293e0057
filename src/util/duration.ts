/**
 * Time windows for backfill and untag: `30d`, `12h`, `15m`, `45s`, `2w`, or an ISO-8601 time.
 * A duration means "that long before now".
 */
import { UsageError } from "./errors.ts";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses DURATION (relative to `now`) or an ISO-8601 time into an absolute Date. */
export function parseTimeArg(value: string, flag: string, now = new Date()): Date {
  const m = /^(\d+)\s*([smhdw])$/i.exec(value.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new UsageError(
    `${flag} ${JSON.stringify(value)}: expected a duration like 30d, 12h, 15m or an ISO-8601 time like 2026-01-31T00:00:00Z`,
  );
}

/** A `range` clause on the time field for [since, until). */
export function timeRange(field: string, since?: Date, until?: Date): object | undefined {
  if (!since && !until) return undefined;
  const r: Record<string, string> = { format: "strict_date_optional_time" };
  if (since) r.gte = since.toISOString();
  if (until) r.lt = until.toISOString();
  return { range: { [field]: r } };
}
