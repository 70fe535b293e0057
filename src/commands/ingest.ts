/** `outliers ingest PATHS… --index NAME`: bulk-load events through the index's pipelines (tagged live). */
import { closeSync, openSync, writeSync } from "node:fs";
import { redact } from "../util/redact.ts";
import { warning } from "../util/warn.ts";
import { checkIndexPatterns } from "../cluster/connection/guards.ts";
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { parseFormat } from "../events/docs-file.ts";
import { expandInputs } from "../events/input-files.ts";
import { openEvents } from "../events/stream.ts";
import { ingestStream, type DocError } from "../cluster/ingest/ingest.ts";
import { checkTarget, inspectTarget } from "../cluster/ingest/target.ts";
import type { IdMode } from "../events/doc-ids.ts";
import { InputError, UsageError } from "../util/errors.ts";
import { loadProfile } from "../mapping/index.ts";
import type { Profile } from "../mapping/profile.ts";
import { call, type Cluster } from "../cluster/connection/client.ts";
import { textTable } from "../util/text-table.ts";
import { positiveInt } from "./option-values.ts";

/** Creates `index` with the profile's mappings unless it exists already (then it is left alone). */
async function createWithProfile(cluster: Cluster, index: string, profile: Profile): Promise<void> {
  const exists = await call(cluster, "check index", () => cluster.client.indices.exists({ index }));
  if (exists) return;
  const t = profile.indexTemplate();
  await call(cluster, "create index", () =>
    cluster.client.indices.create({ index, settings: t.settings, mappings: t.mappings } as any),
  );
}

export function register(program: Command): void {
  const cmd = program
    .command("ingest")
    .description("bulk-load events into an index through its pipelines, so that they are tagged live")
    .argument(
      "<paths...>",
      "events files, folders (read recursively: .evtx, .json, .ndjson, .jsonl) or globs: NDJSON, a JSON array, raw evtx JSON, or .evtx (- for stdin)",
    )
    .requiredOption("--index <name>", "index (or alias / data stream) to write to")
    .option("--format <format>", "ndjson or evtx-json (default: detect raw evtx per document)")
    .option("--batch <n>", "documents per _bulk request", (v) => positiveInt(v, "--batch"), 500)
    .option(
      "--concurrency <n>",
      "_bulk requests in flight at once (more than 1 can race dynamic mappings: two new fields typed differently)",
      (v) => positiveInt(v, "--concurrency"),
      1,
    )
    .option("--errors <file>", "write every failed document's file, line and error (NDJSON) to this file")
    .option(
      "--id-field <field>",
      "take each document's id from this field (default: channel + computer + record id + time for Windows events, else a hash of the content)",
    )
    .option("--no-ids", "let Elasticsearch make the ids (a re-run then duplicates documents)")
    .option("--show-errors <n>", "errors printed on stderr", (v) => positiveInt(v, "--show-errors"), 10)
    .option("--no-refresh", "do not refresh the index at the end")
    .option(
      "--mapping <name|file>",
      "when the index does not exist, create it with this profile's field types (winlogbeat, ecs or a mapping YAML)",
    )
    .option("--create", "create the index if it does not exist, even when no installed tagging reaches it")
    .option("--allow-system-index", "allow writing events into a hidden or system index (a name starting with '.')")
    .option("--json", "print JSON only");
  addConnectionOptions(cmd).action(async (paths: string[], opts: Record<string, any>) => {
    const format = parseFormat(opts.format);
    // One index, named (guards.ts): a '.' index only as its exact name, never a pattern.
    const [index, ...more] = checkIndexPatterns([opts.index]);
    if (more.length || index!.includes("*"))
      throw new UsageError(`--index ${opts.index}: ingest writes to one index; give its name`);
    if (opts.idField !== undefined && opts.ids === false)
      throw new UsageError("--id-field and --no-ids exclude each other");
    const { files, missing, skipped } = expandInputs(paths);
    if (missing.length) throw new InputError(missing[0]!, "no such file, folder or matching glob");
    if (files.length === 0)
      throw new UsageError(
        `no events files in ${paths.join(" ")} (folders are read for .evtx, .json, .ndjson and .jsonl files)`,
      );
    if (files.filter((f) => f === "-").length > 1) throw new UsageError("- (stdin) given twice");
    // Every file opens before anything is sent: a missing or unreadable one stops the run at once.
    for (const f of files)
      if (f !== "-")
        try {
          closeSync(openSync(f, "r"));
        } catch (e) {
          throw new InputError(
            f,
            (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message,
          );
        }
    const cluster = await connect(connectionFrom(opts));
    let target = await inspectTarget(cluster, index!);
    await checkTarget(cluster, index!, target, {
      create: Boolean(opts.create || opts.mapping),
      allowSystem: Boolean(opts.allowSystemIndex),
    });
    if (opts.mapping && !target.exists) {
      await createWithProfile(cluster, index!, loadProfile(opts.mapping));
      target = await inspectTarget(cluster, index!);
    }
    const ids: IdMode =
      opts.ids === false
        ? { kind: "none" }
        : opts.idField !== undefined
          ? { kind: "field", field: String(opts.idField) }
          : { kind: "auto" };
    // --errors FILE: written as errors come (file order), readable by the owner only.
    let errorsFd: number | undefined;
    if (opts.errors) {
      try {
        errorsFd = openSync(opts.errors, "w", 0o600);
      } catch (e) {
        throw new InputError(opts.errors, (e as Error).message);
      }
    }
    const single = files.length === 1;
    const res = await ingestStream(
      cluster,
      files.map((file) => ({ file, open: () => openEvents(file, format, target.limits) })),
      {
        index: index!,
        batch: opts.batch,
        concurrency: opts.concurrency,
        json: Boolean(opts.json),
        refresh: opts.refresh,
        ids,
        keep: opts.showErrors,
        onError:
          errorsFd === undefined ? undefined : (e: DocError) => writeSync(errorsFd!, redact(JSON.stringify(e)) + "\n"),
      },
    ).finally(() => {
      if (errorsFd !== undefined) closeSync(errorsFd);
    });
    const rate = res.seconds > 0 ? Math.round(res.indexed / res.seconds) : res.indexed;
    // One file: errors and warnings as before ({line, error}); several: each names its file.
    const strip = <T extends { file: string }>(x: T) => {
      if (!single) return x;
      const { file: _, ...rest } = x;
      return rest;
    };
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({
          index: res.index,
          total: res.total,
          indexed: res.indexed,
          existing: res.existing,
          failed: res.failed,
          errors: res.errors.map(strip),
          warnings: res.warnings.map(strip),
          ...(res.aborted ? { aborted: res.aborted } : {}),
          seconds: res.seconds,
          files: res.files,
          skipped,
          errorsFile: opts.errors ?? null,
        }) + "\n",
      );
    } else {
      for (const e of res.errors) process.stderr.write(`${e.file}:${e.line}: ${e.error}\n`);
      if (res.failed > res.errors.length)
        process.stderr.write(
          `… ${res.failed - res.errors.length} more error(s)${opts.errors ? ` in ${opts.errors}` : " (give --errors FILE for all)"}\n`,
        );
      for (const w of res.warnings) process.stderr.write(`${warning(`${w.file}:${w.line}: ${w.warning}`)}\n`);
      if (res.warningCount > res.warnings.length)
        process.stderr.write(`… ${res.warningCount - res.warnings.length} more warning(s) (--json lists the first)\n`);
      if (skipped.length)
        process.stderr.write(
          `outliers: warning: ${skipped.length} file(s) skipped, not events files by their name (e.g. ${skipped[0]}); name a file to read it anyway\n`,
        );
      if (!single)
        process.stdout.write(
          textTable(
            ["file", "format", "loaded", "refused"],
            res.files.map((f) => [f.file, f.format, f.indexed + f.existing, f.failed]),
          ) + "\n",
        );
      const already = res.existing ? `${res.existing} already there, ` : "";
      const of = single ? "" : ` from ${res.files.length} file(s)`;
      process.stdout.write(
        `${res.indexed} of ${res.total} document(s)${of} indexed into ${res.index} (${already}${res.failed} failed) in ${res.seconds.toFixed(1)}s, ${rate}/s\n`,
      );
    }
    if (res.aborted) {
      // The cluster went away: say how far the run got, exit 3. A re-run sends the rest (ids make it safe).
      if (!opts.json)
        process.stderr.write(
          `outliers: ${res.aborted}; stopped after ${res.indexed + res.existing + res.failed} of ${res.total} document(s); run the same command again to send the rest\n`,
        );
      process.exitCode = 3;
      return;
    }
    process.exitCode = res.failed > 0 ? 1 : 0;
  });
}
