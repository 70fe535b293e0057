#!/usr/bin/env bun
/**
 * The `outliers` command line: wiring only. Each command lives in src/commands/<name>.ts and
 * exports `register(program)`; the work itself lives in src/rules, src/emit and src/cluster.
 */
import { writeSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { VERSION } from "./version.ts";
import { UsageError, exitCodeFor, formatError } from "./util/errors.ts";
import { commands } from "./commands/index.ts";
import { addExamples, configureHelp } from "./commands/help.ts";
import { addGlobalConnectionOptions } from "./cluster/connection/client.ts";
import { redactOutput, registerFromArgs } from "./util/redact.ts";

export function buildProgram(): Command {
  const program = new Command("outliers")
    .description(
      "Compile Sigma rules and ee-outliers use cases into Elasticsearch ingest pipelines and backfill queries that tag events identically.",
    )
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  configureHelp(program);
  addGlobalConnectionOptions(program);
  for (const register of commands) register(program);
  addExamples(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // Before anything parses or echoes the command line: every message leaves through one redaction.
  registerFromArgs(argv.slice(2));
  redactOutput();
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

/**
 * Bun's process.stdout reports no backpressure (write() says false, writableLength stays 0, no
 * "drain"), so a large --json answer into a slow pipe was cut at 64 KiB when we exit, and
 * Bun.write(Bun.stdout) re-sends the first 64 KiB after a full pipe. Stdout is therefore written
 * synchronously, whole, retrying while the pipe is full: simple and exact for a command-line tool.
 */
function synchronousStdout(): void {
  (process.stdout as { write: unknown }).write = (chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    for (let off = 0; off < data.length; ) {
      try {
        off += writeSync(1, data, off, data.length - off);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "EPIPE") process.exit(0); // the reader went away (`| head`): nothing left to say
        if (code !== "EAGAIN") throw e;
        Bun.sleepSync(1);
      }
    }
    const done = typeof enc === "function" ? enc : cb;
    if (typeof done === "function") (done as () => void)();
    return true;
  };
}

if (import.meta.main) {
  synchronousStdout();
  // Exit explicitly: keep-alive sockets would hold the process open.
  main(process.argv).then((code) => process.exit(code));
}
export { UsageError };
