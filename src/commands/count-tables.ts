/**
 * Readable count tables for the commands that show results (report, backfill, pipeline status): the
 * top N rows, most first, one line each, then one line for the rest, so a 1,600-rule set prints a
 * screenful, not a 1,600-line table. `--json` output carries the full numbers instead.
 */
import { UsageError } from "../util/errors.ts";

export interface CountRow {
  count: number;
  label: string;
}

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * `header` names the count column and the label column; `unit` names what the rest line counts
 * ("rules"). Rows with a zero count are left out. `top` 0 shows every row.
 */
export function topTable(
  rows: CountRow[],
  opts: { top: number; header: [string, string]; unit: string; indent?: string },
): string[] {
  const shown = rows.filter((r) => r.count > 0).sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  const ind = opts.indent ?? "  ";
  if (shown.length === 0) return [];
  const head = opts.top > 0 ? shown.slice(0, opts.top) : shown;
  const w = Math.max(opts.header[0].length, ...head.map((r) => fmtInt(r.count).length));
  const lines = [
    `${ind}${opts.header[0].padStart(w)}  ${opts.header[1]}`,
    ...head.map((r) => `${ind}${fmtInt(r.count).padStart(w)}  ${r.label}`),
  ];
  const rest = shown.slice(head.length);
  if (rest.length)
    lines.push(
      `${ind}${"".padStart(w)}  … and ${fmtInt(rest.length)} more ${opts.unit} (${fmtInt(rest.reduce((a, r) => a + r.count, 0))} in all)`,
    );
  return lines;
}

/** `Title (id)`, or the id alone when no title is known. */
export function ruleLabel(r: { id: string; title?: string }): string {
  return r.title ? `${r.title} (${r.id})` : r.id;
}

/** `--top N`: a whole number, 0 for all. */
export function parseTop(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--top ${JSON.stringify(v)}: expected a whole number (0 for all)`);
  return n;
}
