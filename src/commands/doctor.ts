/** `outliers doctor`: tells whether the cluster can run the tool, one line per check with what to do. */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/client.ts";
import { formatReport, runDoctor } from "../cluster/doctor.ts";
import { UsageError } from "../util/errors.ts";

export function register(program: Command): void {
  const cmd = program
    .command("doctor")
    .description("check that the cluster can run outliers: version, health, ingest nodes, script settings, privileges")
    .option("--json", "print the report as JSON on stdout")
    .option("--timeout <seconds>", "seconds to wait for each answer from the cluster", "10");
  addConnectionOptions(cmd).action(async (opts: Record<string, unknown>) => {
    const seconds = Number(opts.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout ${String(opts.timeout)}: expected a number of seconds`);
    const cluster = await connect({ ...connectionFrom(opts), timeoutMs: seconds * 1000 });
    const report = await runDoctor(cluster);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report) + "\n");
    process.exitCode = report.ready ? 0 : 1;
  });
}
