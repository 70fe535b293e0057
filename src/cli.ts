#!/usr/bin/env bun
/**
 * The `outliers` command line: wiring only. Each command lives in src/commands/<name>.ts and
 * exports `register(program)`; the work itself lives in src/rules, src/emit and src/cluster.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "./version.ts";
import { UsageError, exitCodeFor, formatError } from "./util/errors.ts";
import { commands } from "./commands/index.ts";
import { addGlobalConnectionOptions } from "./cluster/client.ts";

export function buildProgram(): Command {
  const program = new Command("outliers")
    .description("Compile Sigma rules and ee-outliers use cases into Elasticsearch ingest pipelines and backfill queries that tag events identically.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  addGlobalConnectionOptions(program);
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version exit with code 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(formatError(err) + "\n");
    return exitCodeFor(err);
  }
}

/** Resolves once what was written to `stream` has been handed to the OS (a pipe may be slow to drain). */
async function flushed(stream: NodeJS.WriteStream): Promise<void> {
  while (stream.writableLength > 0) await new Promise((resolve) => stream.once("drain", resolve));
}

if (import.meta.main) {
  // Exit explicitly (keep-alive sockets would hold the process open), but only after stdout and
  // stderr have drained: a large --json answer into a pipe is otherwise cut short.
  main(process.argv).then(async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  });
}
export { UsageError };
