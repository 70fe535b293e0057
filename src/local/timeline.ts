/**
 * `scan`'s timeline: one row per (event, rule) hit, with the event's time, computer, channel and
 * event id, the rule's level and title, and the event's values of the fields that rule tests (taken
 * from the rule's IR: every predicate's field, minus the columns the row has anyway).
 *
 * Memory: a row holds only those few values (strings), never the event; the events stream past and
 * only the rows are kept, then sorted by time once at the end (`Timeline.sorted`). A scan with R hits
 * holds R small rows, whatever the number of events read.
 *
 * Output: `formatTimeline` fits the rows to a terminal width; `csvHeader`/`csvRow` and `jsonlRow`
 * write the same rows, every value whole.
 */
import type { Node, Rule } from "../ir/types.ts";
import { flatten } from "../emit/js/values.ts";
import { levelOf } from "../rules/select.ts";

/** The row's fixed columns and the event fields each is read from (first present wins). */
const TIME_FIELDS = ["@timestamp", "winlog.event_data.UtcTime", "event.created"];
const COMPUTER_FIELDS = ["winlog.computer_name", "host.name", "host.hostname", "agent.hostname"];
const CHANNEL_FIELDS = ["winlog.channel", "event.provider", "winlog.provider_name"];
const EVENT_ID_FIELDS = ["winlog.event_id", "event.code"];
const FIXED = new Set([...TIME_FIELDS, ...COMPUTER_FIELDS, ...CHANNEL_FIELDS, ...EVENT_ID_FIELDS]);

export interface TimelineRow {
  /** The event's time as written (ISO-8601 for Winlogbeat events), "" when it has none. */
  timestamp: string;
  computer: string;
  channel: string;
  eventId: string;
  /** The rule's level, "" when it has none. */
  level: string;
  ruleId: string;
  ruleTitle: string;
  /** The event's values of the fields the rule tests, in the rule's order (absent fields left out). */
  values: [string, string][];
  /** Where the event was read. */
  file: string;
  line: number;
}

/** The index fields a rule's detection tests, in the order the condition names them, each once. */
export function ruleFields(rule: Rule): string[] {
  const out = new Set<string>();
  const walk = (n: Node) => {
    switch (n.kind) {
      case "and":
      case "or":
        for (const c of n.children) walk(c);
        return;
      case "not":
        walk(n.child);
        return;
      case "const":
        return;
      case "keyword":
        for (const f of n.fields) out.add(f.name);
        return;
      case "fieldref":
        out.add(n.field.name);
        out.add(n.other.name);
        return;
      default:
        out.add(n.field.name);
    }
  };
  walk(rule.condition);
  return [...out].filter((f) => !FIXED.has(f));
}

function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function first(flat: Map<string, unknown[]>, fields: string[]): string {
  for (const f of fields) {
    const v = flat.get(f);
    if (v?.length) return v.map(text).join(", ");
  }
  return "";
}

/** A row with its sort key (the event's time in ms; events without a readable time sort last). */
export interface TimedRow {
  t: number;
  row: TimelineRow;
}

/** Collects rows as events go by, and sorts them by time at the end. */
export class Timeline {
  private readonly rows: { t: number; seq: number; row: TimelineRow }[] = [];
  private readonly fields = new Map<Rule, string[]>();

  get size(): number {
    return this.rows.length;
  }

  /** Adds one row per rule `rules` for the (tagged) event `doc`; keeps only the row values. */
  add(doc: Record<string, unknown>, rules: Rule[], where: { file: string; line: number }): void {
    this.append(this.rowsOf(doc, rules, where));
  }

  /** Adds rows made by `rowsOf` (here or in a `scan --workers` worker), after those already added. */
  append(rows: TimedRow[]): void {
    for (const r of rows) this.rows.push({ t: r.t, seq: this.rows.length, row: r.row });
  }

  /** The rows of one (tagged) event `doc`, one per rule of `rules`, not added. */
  rowsOf(doc: Record<string, unknown>, rules: Rule[], where: { file: string; line: number }): TimedRow[] {
    if (rules.length === 0) return [];
    const flat = new Map<string, unknown[]>();
    flatten(doc, null, flat);
    const timestamp = first(flat, TIME_FIELDS);
    const parsed = Date.parse(timestamp);
    const base = {
      timestamp,
      computer: first(flat, COMPUTER_FIELDS),
      channel: first(flat, CHANNEL_FIELDS),
      eventId: first(flat, EVENT_ID_FIELDS),
    };
    const out: TimedRow[] = [];
    for (const r of rules) {
      let fields = this.fields.get(r);
      if (!fields) this.fields.set(r, (fields = ruleFields(r)));
      const values: [string, string][] = [];
      for (const f of fields) {
        const v = flat.get(f);
        if (v?.length) values.push([f, v.map(text).join(", ")]);
      }
      out.push({
        // Events without a readable time sort last, in the order read.
        t: Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed,
        row: {
          ...base,
          level: levelOf(r) ?? r.level ?? "",
          ruleId: r.id,
          ruleTitle: r.title,
          values,
          file: where.file,
          line: where.line,
        },
      });
    }
    return out;
  }

  /** The rows by time (then in the order read: file, event, rule). */
  sorted(): TimelineRow[] {
    return this.rows.sort((a, b) => a.t - b.t || a.seq - b.seq).map((x) => x.row);
  }
}

/** A field's last name parts, short enough for a terminal: `winlog.event_data.CommandLine` → `CommandLine`. */
export function shortField(f: string): string {
  const parts = f.split(".");
  return parts[parts.length - 1] ?? f;
}

function fit(s: string, width: number): string {
  // Control characters (new lines in a command line) would break the row.
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, " ");
  if (width <= 0) return "";
  return flat.length <= width ? flat.padEnd(width) : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

/** "Microsoft-Windows-Sysmon/Operational" → "Sysmon" (the CSV and JSON lines keep the whole name). */
function shortChannel(c: string): string {
  return c.replace(/^Microsoft-Windows-/, "").replace(/\/Operational$/, "");
}

/** "2024-05-01T10:00:00.123Z" → "2024-05-01 10:00:00.123" (other forms as written). */
function shortTime(t: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)\d*Z$/.exec(t);
  return m ? `${m[1]} ${m[2]}` : t;
}

export const TIMELINE_COLUMNS = ["time (UTC)", "computer", "channel:event", "level", "rule", "matched values"];

/** The rows as a table fitted to `width` columns (the values column takes what is left). */
export function formatTimeline(rows: TimelineRow[], width: number): string[] {
  const cells = rows.map((r) => [
    shortTime(r.timestamp) || "-",
    r.computer || "-",
    `${shortChannel(r.channel) || "-"}:${r.eventId || "-"}`,
    r.level || "-",
    r.ruleTitle,
    r.values.map(([f, v]) => `${shortField(f)}=${v.replace(/\s+/g, " ")}`).join("  "),
  ]);
  // Caps per column before the values: wide enough to read, narrow enough to leave room.
  const caps = [23, 16, 24, 13, 40];
  // (A reduce, not Math.max(...cells): a spread of 100,000 rows would exhaust the stack.)
  const widths = caps.map((cap, i) =>
    Math.min(
      cap,
      cells.reduce((a, c) => Math.max(a, c[i]!.length), TIMELINE_COLUMNS[i]!.length),
    ),
  );
  // The values column gets what is left, at least MIN_VALUES: narrow terminals shorten the title, then the computer.
  const MIN_VALUES = 24;
  for (const i of [4, 1, 2]) {
    const over = widths.reduce((a, w) => a + w + 2, 0) + MIN_VALUES - width;
    if (over > 0) widths[i] = Math.max(8, widths[i]! - over);
  }
  const used = widths.reduce((a, w) => a + w + 2, 0);
  const rest = Math.max(MIN_VALUES, width - used);
  const line = (c: string[]) =>
    [...widths.map((w, i) => fit(c[i]!, w)), fit(c[5]!, rest)].join("  ").slice(0, Math.max(width, 40)).trimEnd();
  return [line(TIMELINE_COLUMNS), ...cells.map(line)];
}

export const CSV_COLUMNS = [
  "timestamp",
  "computer",
  "channel",
  "event_id",
  "level",
  "rule_id",
  "rule_title",
  "matched_values",
  "file",
  "line",
];

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Matched values in one CSV cell: a JSON object of field to value. */
function valuesObject(r: TimelineRow): Record<string, string> {
  return Object.fromEntries(r.values);
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(",") + "\r\n";
}

export function csvRow(r: TimelineRow): string {
  return (
    [
      r.timestamp,
      r.computer,
      r.channel,
      r.eventId,
      r.level,
      r.ruleId,
      r.ruleTitle,
      JSON.stringify(valuesObject(r)),
      r.file,
      r.line,
    ]
      .map(csvCell)
      .join(",") + "\r\n"
  );
}

export function jsonlRow(r: TimelineRow): string {
  return (
    JSON.stringify({
      timestamp: r.timestamp,
      computer: r.computer,
      channel: r.channel,
      event_id: r.eventId,
      level: r.level,
      rule_id: r.ruleId,
      rule_title: r.ruleTitle,
      matched_values: valuesObject(r),
      file: r.file,
      line: r.line,
    }) + "\n"
  );
}
