/**
 * `outliers scan [PATHS] --events FILES`: evaluates the rules on local events with the JavaScript
 * matcher (src/emit/js), no cluster. On a terminal (or with `--timeline`) it prints a timeline, one
 * row per (event, rule) hit sorted by time (src/local/timeline.ts), then the summary: hits by level,
 * per rule and per ATT&CK technique (top N and totals). Outside a terminal, without `--timeline`, the
 * summary only. `--csv FILE` / `--jsonl FILE` write the timeline rows whole. `--json` prints the
 * tagged events as NDJSON, exactly as the live pipeline would tag them (matched ones, or every event
 * with `--all`). `--workers N` splits the events over N threads (src/local/parallel-scan.ts); the
 * output does not depend on N.
 */
import type { Command } from "commander";
import type { Rule } from "../ir/types.ts";
import { parseFormat } from "../events/docs-file.ts";
import { autoWorkers, startScan, AUTO_MAX_WORKERS, AUTO_MIN_BYTES } from "../local/parallel-scan.ts";
import { emptyScanCounts, mergeCounts, type ScanCounts } from "../local/scan.ts";
import { csvHeader, csvRow, formatTimeline, jsonlRow, Timeline, type TimelineRow } from "../local/timeline.ts";
import { formatSelection, LEVELS, type LevelCounts } from "../rules/select.ts";
import { closeSync, openSync, writeSync } from "node:fs";
import { InputError, UsageError } from "../util/errors.ts";
import { correlateLocal, ruleIdsOf, type CorrelationCount } from "../local/correlate.ts";
import { Progress } from "../util/progress.ts";
import { warn, warning } from "../util/warn.ts";
import { textTable } from "../util/text-table.ts";
import { addRuleOptions, loadRuleSet } from "./rule-set.ts";
import { positiveInt } from "./option-values.ts";

/** Output is written in blocks: stdout is synchronous (src/cli.ts), one write per event would crawl. */
const FLUSH_BYTES = 1 << 20;
const MAX_WARNINGS = 20;
const PROGRESS_EVERY = 1024;
/** Unreadable events printed, as `ingest --show-errors` prints 10 by default; the rest are counted. */
const MAX_ERRORS = 10;

export function register(program: Command): void {
  const cmd = program
    .command("scan")
    .description(
      "evaluate rules on local event files (Windows .evtx, NDJSON, JSON, raw evtx JSON) without a cluster; print a timeline of the hits (on a terminal) and hits by level, rule and technique",
    )
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .option("--events <files...>", "event files: Windows .evtx, NDJSON, a JSON array, or raw evtx JSON (detected)")
    .option("--docs <files...>", "same as --events")
    .option("--format <format>", "ndjson or evtx-json (default: detect raw evtx per document)")
    .option("--json", "print the tagged events as NDJSON (as the live pipeline would tag them), nothing else")
    .option("--all", "with --json: every event, tagged or not")
    .option("--top <n>", "rows per table", "20")
    .option("--timeline", "print the timeline of hits even when stdout is not a terminal")
    .option("--no-timeline", "print the summary tables only, even on a terminal")
    .option("--csv <file>", "write the timeline (one row per event and rule, sorted by time) as CSV")
    .option("--jsonl <file>", "write the timeline as JSON lines (the same rows as --csv)")
    .option(
      "--workers <n>",
      `threads matching events (the output is the same for any n; 1: no extra thread). Default: min(cores, ${AUTO_MAX_WORKERS}) when the event files total ${AUTO_MIN_BYTES >> 20} MB or more, else 1. E.g. --workers 2`,
    );
  addRuleOptions(cmd).action(async (paths: string[], opts: Record<string, any>) => {
    const files: string[] = [...(opts.events ?? []), ...(opts.docs ?? [])];
    if (files.length === 0) throw new UsageError("scan needs --events FILE… (the events to scan)");
    const top = positiveInt(opts.top, "--top");
    if (opts.all && !opts.json) throw new UsageError("--all only applies with --json");
    const format = parseFormat(opts.format);
    const workers = opts.workers === undefined ? autoWorkers(files) : parseWorkers(opts.workers);
    const set = loadRuleSet(paths, opts, Boolean(opts.json));
    if (set.rules.length === 0)
      throw new UsageError(
        set.selection.loaded > 0
          ? `no rule selected (${set.selection.filters.map((f) => `${f.filter}: ${f.kept} kept`).join("; ")})`
          : `no rule compiled from ${paths.length ? paths.join(" ") : "./rules"}`,
      );
    // On a terminal by default (not with --json, whose stdout is the events).
    const showTimeline = !opts.json && (opts.timeline ?? Boolean(process.stdout.isTTY));
    const timeline = showTimeline || opts.csv || opts.jsonl ? new Timeline() : undefined;
    // Opened before the scan: a path that cannot be written fails now, not after a long run.
    const csvFd = opts.csv ? openOut(opts.csv, "--csv") : undefined;
    const jsonlFd = opts.jsonl ? openOut(opts.jsonl, "--jsonl") : undefined;
    // Correlations need every event first (docs/correlations.md): the events are kept until the end.
    const held: Record<string, unknown>[] | undefined = set.correlations.length ? [] : undefined;

    const progress = new Progress("scan", { json: opts.json });
    const warnings: string[] = [];
    let warned = 0;
    let buf = "";
    const flush = () => {
      if (buf) process.stdout.write(buf);
      buf = "";
    };
    const batch = {
      timeline: Boolean(timeline),
      json: Boolean(opts.json),
      all: Boolean(opts.all),
      hold: Boolean(held),
    };
    const init = { rules: set.rules, guardCosts: set.profile.guardCosts, batch };
    const run = await startScan(files, format, workers, init, timeline);
    if (!opts.json) for (const s of run.skipped) warn(`rule ${s.id} does not run live: ${s.reason}`);
    const c: ScanCounts = emptyScanCounts(run.rules.length);
    let nextProgress = PROGRESS_EVERY;
    for await (const r of run.results) {
      for (const w of r.warnings) if (warned++ < MAX_WARNINGS) warnings.push(warning(w));
      mergeCounts(c, r.counts);
      timeline?.append(r.rows);
      if (held) for (const d of r.held) held.push(d);
      buf += r.json;
      if (buf.length >= FLUSH_BYTES) flush();
      // As before batches: from 1,024 events on (a small scan draws no bar over its timeline).
      if (c.events >= nextProgress) {
        progress.update({ done: c.events, counters: { matched: c.matched } });
        nextProgress = (Math.floor(c.events / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
      }
    }
    const correlated = held ? correlateLocal(set.correlations, held) : [];
    if (held && opts.json)
      for (const doc of held) {
        if (opts.all || ruleIdsOf(doc).length || (doc.outliers as any)?.error) buf += JSON.stringify(doc) + "\n";
        if (buf.length >= FLUSH_BYTES) flush();
      }
    flush();
    progress.done();
    // Capped as ingest caps its errors: a file of another format is thousands of unreadable lines.
    for (const u of c.unreadable.slice(0, MAX_ERRORS)) process.stderr.write(`${u.where}: ${u.error}\n`);
    if (c.unreadable.length > MAX_ERRORS)
      process.stderr.write(
        `… ${c.unreadable.length - MAX_ERRORS} more unreadable event(s) (is the file NDJSON, evtx JSON or .evtx?)\n`,
      );
    // As ingest warns: a number kept as its exact text is a string in the index (and here).
    for (const w of warnings) process.stderr.write(`${w}\n`);
    if (warned > warnings.length) process.stderr.write(`… ${warned - warnings.length} more warning(s)\n`);
    const rows = timeline?.sorted() ?? [];
    if (csvFd !== undefined) writeRows(csvFd, csvHeader(), rows, csvRow);
    if (jsonlFd !== undefined) writeRows(jsonlFd, "", rows, jsonlRow);
    if (showTimeline) {
      const width = process.stdout.columns || Number(process.env.COLUMNS) || 160;
      process.stdout.write(rows.length ? formatTimeline(rows, width).join("\n") + "\n\n" : "timeline: no hit\n\n");
    }
    if (!opts.json)
      process.stdout.write(
        [...formatSelection(set.selection), report(c, run.rules, top)].join("\n") +
          correlationReport(correlated) +
          "\n",
      );
    process.exitCode = set.failed + run.skipped.length + c.unreadable.length + c.errored > 0 ? 1 : 0;
  });
}

function parseWorkers(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(String(v).trim()) || !Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--workers ${v}: expected a whole number of threads from 1 to 64`);
  return n;
}

function report(c: ScanCounts, rules: Rule[], top: number): string {
  const byRule = rules
    .map((r, i) => ({ r, n: c.perRule[i] ?? 0 }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n || a.r.id.localeCompare(b.r.id));
  const byTech = [...c.perTechnique.entries()].sort((a, b) => b[1].events - a[1].events || a[0].localeCompare(b[0]));
  const out: string[] = [];
  out.push(
    `${c.events.toLocaleString("en-US")} event(s), ${c.matched.toLocaleString("en-US")} tagged; ` +
      `${c.pairs.toLocaleString("en-US")} (event, rule) hit(s) by ${byRule.length} of ${rules.length} rule(s)` +
      (c.unreadable.length ? `; ${c.unreadable.length} unreadable document(s)` : "") +
      (c.errored ? `; ${c.errored} event(s) with rule errors` : ""),
  );
  const levels = levelRows(c.perLevel);
  if (levels.length) {
    out.push("", "Hits by level (highest first):");
    out.push(textTable(["level", "events", "hits"], levels));
  }
  if (byRule.length) {
    out.push("", `Hits per rule (top ${Math.min(top, byRule.length)} of ${byRule.length}):`);
    out.push(
      textTable(
        ["hits", "rule id", "title"],
        byRule.slice(0, top).map((x) => [x.n, x.r.id, x.r.title]),
      ),
    );
    const rest = byRule.slice(top).reduce((a, x) => a + x.n, 0);
    if (rest) out.push(`… and ${byRule.length - top} more rule(s) with ${rest.toLocaleString("en-US")} hit(s)`);
  }
  if (byTech.length) {
    out.push("", `Events per ATT&CK technique (top ${Math.min(top, byTech.length)} of ${byTech.length}):`);
    out.push(
      textTable(
        ["events", "technique", "rules"],
        byTech.slice(0, top).map(([t, e]) => [e.events, t, e.rules.size]),
      ),
    );
    if (byTech.length > top) out.push(`… and ${byTech.length - top} more technique(s)`);
  }
  return out.join("\n");
}

/** Per level (highest first, then rules without one), events whose highest level it is and (event, rule) hits. */
function levelRows(c: { hits: LevelCounts; events: LevelCounts }): (string | number)[][] {
  const keys = [...[...LEVELS].reverse(), "none"] as (keyof LevelCounts)[];
  return keys.filter((k) => c.hits[k] > 0).map((k) => [k === "none" ? "(no level)" : k, c.events[k], c.hits[k]]);
}

function openOut(file: string, flag: string): number {
  try {
    return openSync(file, "w");
  } catch (e) {
    throw new InputError(file, `cannot write ${flag}: ${(e as Error).message}`);
  }
}

/** Writes timeline rows to `fd` in blocks (the rows are already sorted), then closes it. */
function writeRows(fd: number, header: string, rows: TimelineRow[], format: (r: TimelineRow) => string): void {
  try {
    let buf = header;
    for (const r of rows) {
      buf += format(r);
      if (buf.length >= FLUSH_BYTES) {
        writeSync(fd, buf);
        buf = "";
      }
    }
    if (buf) writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
}

function correlationReport(counts: CorrelationCount[]): string {
  if (counts.length === 0) return "";
  return (
    "\n\nCorrelation rules:\n" +
    textTable(
      ["events", "groups", "rule id", "title"],
      counts.map((c) => [c.events, c.groups, c.id, c.title]),
    )
  );
}
