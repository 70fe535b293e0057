/**
 * `outliers correlate [PATHS…] --every 5m | --once`: the continuous mode of Sigma correlation rules
 * (docs/correlations.md). Each round evaluates, on the cluster, the windows ending since the last
 * round (minus `--lag`, for late events) and tags the events of those that fire, as backfill does
 * (src/cluster/history/correlate.ts). The end of the last round is kept in the cluster
 * (src/cluster/history/correlate-state.ts), so a run started elsewhere goes on from there. The base
 * rules are not evaluated here: their tags come from the live pipeline (or backfill).
 */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { checkIndexPatterns, searchTargets } from "../cluster/connection/guards.ts";
import { correlateOnCluster } from "../cluster/history/correlate.ts";
import { readRound, stateKey, writeRound, DEFAULT_STATE_INDEX } from "../cluster/history/correlate-state.ts";
import { parseTimeArg } from "../util/duration.ts";
import { UsageError } from "../util/errors.ts";
import { addRuleOptions, loadRuleSet } from "./rule-set.ts";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function duration(v: string, flag: string): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(String(v).trim());
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(v)}: expected a duration like 30s, 5m or 1h`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function register(program: Command): void {
  const cmd = program
    .command("correlate")
    .description(
      "evaluate Sigma correlation rules on the cluster on a schedule and tag the events of the windows that fire (base rules' tags come from the live pipeline or backfill)",
    )
    .argument("[paths...]", "rule files, folders or globs (default ./rules): correlations and the rules they reference")
    .option("--every <duration>", "run a round every DURATION (e.g. 5m)")
    .option("--once", "run one round and exit")
    .option(
      "--lag <duration>",
      "how late events may arrive: each round re-evaluates windows ending this long before the last round",
      "1m",
    )
    .option(
      "--since <time>",
      "first round only (no progress stored yet): windows ending from then (default: the longest timespan + lag ago)",
    )
    .option("--until <time>", "end of the round instead of now (ISO-8601 time; for tests and replays)")
    .option("--index <pattern...>", "indices to read and tag (default: the referenced rules' index patterns)")
    .option("--state-index <name>", "index keeping each rule set's progress", DEFAULT_STATE_INDEX)
    .option("--json", "print one JSON line per round");
  addRuleOptions(cmd);
  addConnectionOptions(cmd).action(async (paths: string[], opts: Record<string, any>) => {
    if (!opts.once && !opts.every) throw new UsageError("correlate needs --every DURATION or --once");
    if (opts.once && opts.every) throw new UsageError("--once and --every exclude each other");
    const every = opts.every ? duration(opts.every, "--every") : 0;
    const lag = duration(opts.lag, "--lag");
    const set = loadRuleSet(paths, opts, Boolean(opts.json));
    if (set.correlations.length === 0)
      throw new UsageError(`no correlation rule compiled from ${paths.length ? paths.join(" ") : "./rules"}`);
    const index = opts.index ? searchTargets(checkIndexPatterns(opts.index)) : undefined;
    if (!index) for (const r of set.correlations) r.index = searchTargets(checkIndexPatterns(r.index, "es_index"));
    const cluster = await connect(connectionFrom(opts));
    const key = stateKey(
      set.correlations.map((r) => r.id),
      index ?? set.correlations.flatMap((r) => r.index),
    );
    const longest = Math.max(...set.correlations.map((r) => r.correlation!.timespanMs));
    let failed = false;
    for (;;) {
      const now = opts.until ? parseTimeArg(opts.until, "--until") : new Date();
      const last = await readRound(cluster, opts.stateIndex, key);
      const anchorFrom = last
        ? new Date(last.getTime() - lag)
        : opts.since
          ? parseTimeArg(opts.since, "--since", now)
          : new Date(now.getTime() - longest - lag);
      const runs = await correlateOnCluster(cluster, set.correlations, {
        index,
        anchorFrom,
        until: now,
        json: Boolean(opts.json),
      });
      const failures = runs.flatMap((r) => r.failures);
      if (failures.length === 0) await writeRound(cluster, opts.stateIndex, key, now);
      else failed = true;
      if (opts.json)
        process.stdout.write(
          JSON.stringify({ from: anchorFrom.toISOString(), until: now.toISOString(), correlations: runs }) + "\n",
        );
      else {
        process.stdout.write(`round ${anchorFrom.toISOString()} .. ${now.toISOString()}\n`);
        for (const r of runs)
          process.stdout.write(
            `  correlation ${r.id} (${r.title}): ${r.groupsFired} group(s) fired, ${r.tagged} event(s) newly tagged\n`,
          );
        for (const f of failures.slice(0, 20)) process.stderr.write(`outliers: correlate failure: ${f}\n`);
      }
      if (opts.once) break;
      await new Promise((res) => setTimeout(res, every));
    }
    process.exitCode = failed || set.failed > 0 ? 1 : 0;
  });
}
