/**
 * `outliers test [RULES] --regression DIR`: a detection engineer's CI. Each case of SigmaHQ's
 * regression layout (src/local/regression.ts) must be hit by its rule: locally with the JavaScript
 * matcher, and with `--node` also through the pipeline installed on the cluster
 * (`_ingest/pipeline/<name>/_simulate`). Exit 1 on any miss; a table, or `--json`.
 */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { pipelineExists, simulateInstalled } from "../cluster/live/simulate-installed.ts";
import { Matcher } from "../emit/js/matcher.ts";
import { setAside } from "../emit/js/set-aside.ts";
import { readRegression, type RegressionCase } from "../local/regression.ts";
import { UsageError } from "../util/errors.ts";
import { Progress } from "../util/progress.ts";
import { textTable } from "../util/text-table.ts";
import { addRuleOptions, failureLine, loadRuleSet } from "./rule-set.ts";
import { formatSelection } from "./rule-selection.ts";

type Status = "pass" | "miss" | "error" | "skipped";

export interface TestResult {
  case: string;
  rule: string;
  title: string;
  test: string;
  file: string;
  /** `match_count`: events the rule must match at least (null: not given, at least one). */
  expected: number | null;
  events: number;
  local: number | null;
  node?: number | null;
  status: Status;
  reason?: string;
}

/**
 * `match_count` is a floor: SigmaHQ's own cases hold evtx files with more true positives than their
 * count (three zone-map writes for "IE Change Domain Zone", match_count 1).
 */
function passes(hits: number, expected: number | null): boolean {
  return hits >= Math.max(1, expected ?? 1);
}

function want(expected: number | null): string {
  return `≥${Math.max(1, expected ?? 1)}`;
}

export function register(program: Command): void {
  const cmd = program
    .command("test")
    .description(
      "check that each rule hits its regression events (SigmaHQ's layout: info.yml + events), locally and with --node through the installed pipeline",
    )
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .requiredOption("--regression <dir>", "regression folder: one folder per case with info.yml and its event files")
    .option(
      "--name <name>",
      "with --node URL: also run the events through this pipeline installed there (_simulate)",
      "outliers",
    )
    .option("--json", "print JSON only");
  addRuleOptions(cmd);
  addConnectionOptions(cmd).action(async (paths: string[], opts: Record<string, any>) => {
    const cases = readRegression(opts.regression);
    if (cases.length === 0)
      throw new UsageError(`${opts.regression}: no regression case (a folder with info.yml) under it`);
    const set = loadRuleSet(paths, opts, true);
    const matcher = new Matcher(set.rules, { guardCosts: set.profile.guardCosts });
    const index = new Map(matcher.rules.map((r, i) => [r.rule.id, i]));
    const notLive = new Map(matcher.skipped.map((s) => [s.id, s.reason]));
    const failed = new Map(
      set.results.flatMap((r) => (r.status !== "ok" && r.id ? [[r.id, failureLine(r)] as const] : [])),
    );
    const useNode = opts.node !== undefined;
    const cluster = useNode ? await connect(connectionFrom(opts)) : undefined;
    if (cluster && !(await pipelineExists(cluster, opts.name)))
      throw new UsageError(
        `pipeline ${opts.name} is not installed on the cluster (outliers pipeline install RULES first, or --name)`,
      );

    const results: TestResult[] = [];
    const progress = new Progress("test", { json: opts.json });
    let done = 0;
    for (const c of cases) {
      for (const r of c.ruleIds)
        results.push(
          ...(await checkRule(c, r, {
            matcher,
            index,
            notLive,
            failed,
            cluster,
            name: opts.name,
            selected: set.selection.dropped > 0,
          })),
        );
      progress.update({ done: ++done, total: cases.length });
    }
    progress.done();
    const count = (s: Status) => results.filter((r) => r.status === s).length;
    const summary = {
      cases: cases.length,
      passed: count("pass"),
      missed: count("miss"),
      errors: count("error"),
      skipped: count("skipped"),
    };
    if (opts.json)
      process.stdout.write(
        JSON.stringify({ ...summary, node: useNode, selection: set.selection, results }, null, 2) + "\n",
      );
    else process.stdout.write([report(results, summary, useNode), ...formatSelection(set.selection)].join("\n") + "\n");
    process.exitCode = summary.missed + summary.errors > 0 ? 1 : 0;
  });
}

interface Ctx {
  /** Whether the rule selection (--min-level …) left rules out. */
  selected?: boolean;
  matcher: Matcher;
  index: Map<string, number>;
  notLive: Map<string, string>;
  failed: Map<string, string>;
  cluster?: Awaited<ReturnType<typeof connect>>;
  name: string;
}

async function checkRule(c: RegressionCase, r: { id: string; title?: string }, ctx: Ctx): Promise<TestResult[]> {
  const ri = ctx.index.get(r.id);
  const title = ri !== undefined ? ctx.matcher.rules[ri]!.rule.title : (r.title ?? "");
  const base = { case: c.dir, rule: r.id, title };
  if (c.error)
    return [
      { ...base, test: "", file: c.info, expected: null, events: 0, local: null, status: "error", reason: c.error },
    ];
  return Promise.all(
    c.files.map(async (f): Promise<TestResult> => {
      const row: TestResult = {
        ...base,
        test: f.name,
        file: f.file,
        expected: f.matchCount ?? null,
        events: f.docs.length,
        local: null,
        status: "pass",
      };
      if (f.errors.length) return { ...row, status: "error", reason: f.errors.join("; ") };
      if (ctx.failed.has(r.id))
        return { ...row, status: "error", reason: `the rule does not compile: ${ctx.failed.get(r.id)}` };
      if (ctx.notLive.has(r.id))
        return { ...row, status: "error", reason: `the rule does not run live: ${ctx.notLive.get(r.id)}` };
      if (ri === undefined)
        return {
          ...row,
          status: "skipped",
          reason: `the rule is not in the rule set given${ctx.selected ? " or was left out by the rule selection" : ""}`,
        };
      // The matcher sees the event as the pipeline's tagger does: after its set-aside processor.
      row.local = f.docs.filter((d) => ctx.matcher.match(pipelineView(d)).hits.includes(ri)).length;
      const reasons: string[] = [];
      if (!passes(row.local, row.expected))
        reasons.push(`locally ${row.local} of ${row.events} event(s) matched, want ${want(row.expected)}`);
      if (ctx.cluster) {
        const sim = await simulateInstalled(ctx.cluster, ctx.name, f.docs);
        row.node = sim.filter((s) => s.ruleIds.includes(r.id)).length;
        if (!passes(row.node, row.expected)) {
          const errs = [...new Set(sim.flatMap((s) => s.errors))];
          reasons.push(
            `through pipeline ${ctx.name} ${row.node} of ${row.events} event(s) matched, want ${want(row.expected)}${errs.length ? ` (errors: ${errs.join("; ")})` : ""}`,
          );
        }
      }
      return reasons.length ? { ...row, status: "miss", reason: reasons.join("; ") } : row;
    }),
  );
}

/** The event after the pipeline's set-aside processor (a copy when something moves; `d` stays as read). */
function pipelineView(d: Record<string, unknown>): Record<string, unknown> {
  const c = structuredClone(d);
  return setAside(c).length ? c : d;
}

function report(
  results: TestResult[],
  s: { cases: number; passed: number; missed: number; errors: number; skipped: number },
  node: boolean,
): string {
  const order: Record<Status, number> = { miss: 0, error: 1, skipped: 2, pass: 3 };
  const rows = [...results].sort((a, b) => order[a.status] - order[b.status] || a.case.localeCompare(b.case));
  const header = ["result", "rule id", "local", ...(node ? ["node"] : []), "want", "title"];
  const table = textTable(
    header,
    rows.map((r) => [
      r.status.toUpperCase(),
      r.rule,
      r.local === null ? "-" : `${r.local}/${r.events}`,
      ...(node ? [r.node === undefined || r.node === null ? "-" : `${r.node}/${r.events}`] : []),
      want(r.expected),
      r.title,
    ]),
  );
  const why = rows
    .filter((r) => r.reason && r.status !== "pass")
    .map((r) => `${r.status}: ${r.rule} (${r.file}): ${r.reason}`);
  const line = `${s.cases} case(s): ${s.passed} passed, ${s.missed} missed, ${s.errors} error(s), ${s.skipped} skipped (rule not given)`;
  return [table, ...(why.length ? ["", ...why] : []), "", line].join("\n");
}
