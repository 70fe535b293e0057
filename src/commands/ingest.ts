/** `outliers ingest FILE --index NAME`: bulk-load events through the index's pipelines (tagged live). */
import { writePrivateFile } from "../util/redact.ts";
import { warning } from "../util/warn.ts";
import { checkIndexPatterns } from "../cluster/connection/guards.ts";
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { parseFormat, readDocsFile } from "../events/docs-file.ts";
import { ingestDocs } from "../cluster/ingest/ingest.ts";
import type { IdMode } from "../events/doc-ids.ts";
import { UsageError } from "../util/errors.ts";
import { loadProfile } from "../mapping/index.ts";
import type { Profile } from "../mapping/profile.ts";
import { call, type Cluster } from "../cluster/connection/client.ts";

/** Creates `index` with the profile's mappings unless it exists already (then it is left alone). */
async function createWithProfile(cluster: Cluster, index: string, profile: Profile): Promise<void> {
  const exists = await call(cluster, "check index", () => cluster.client.indices.exists({ index }));
  if (exists) return;
  const t = profile.indexTemplate();
  await call(cluster, "create index", () =>
    cluster.client.indices.create({ index, settings: t.settings, mappings: t.mappings } as any),
  );
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${v}: expected a positive whole number`);
  return n;
}

export function register(program: Command): void {
  const cmd = program
    .command("ingest")
    .description("bulk-load events into an index through its pipelines, so that they are tagged live")
    .argument("<file>", "events: NDJSON, a JSON array, raw evtx JSON, or a .evtx file (- for stdin)")
    .requiredOption("--index <name>", "index (or alias / data stream) to write to")
    .option("--format <format>", "ndjson or evtx-json (default: detect raw evtx per document)")
    .option("--batch <n>", "documents per _bulk request", (v) => positiveInt(v, "--batch"), 500)
    .option("--errors <file>", "write every failed document's line and error (NDJSON) to this file")
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
    .option("--json", "print JSON only");
  addConnectionOptions(cmd).action(async (file: string, opts: Record<string, any>) => {
    const format = parseFormat(opts.format);
    // One index, named (guards.ts): a '.' index only as its exact name, never a pattern.
    const [index, ...more] = checkIndexPatterns([opts.index]);
    if (more.length || index!.includes("*"))
      throw new UsageError(`--index ${opts.index}: ingest writes to one index; give its name`);
    const entries = readDocsFile(file, format);
    const cluster = await connect(connectionFrom(opts));
    if (opts.mapping) await createWithProfile(cluster, opts.index, loadProfile(opts.mapping));
    if (opts.idField !== undefined && opts.ids === false)
      throw new UsageError("--id-field and --no-ids exclude each other");
    const ids: IdMode =
      opts.ids === false
        ? { kind: "none" }
        : opts.idField !== undefined
          ? { kind: "field", field: String(opts.idField) }
          : { kind: "auto" };
    const res = await ingestDocs(cluster, entries, {
      index: opts.index,
      batch: opts.batch,
      json: Boolean(opts.json),
      refresh: opts.refresh,
      ids,
    });
    if (opts.errors)
      writePrivateFile(
        opts.errors,
        res.errors.map((e) => JSON.stringify({ file, ...e })).join("\n") + (res.errors.length ? "\n" : ""),
      );
    const rate = res.seconds > 0 ? Math.round(res.indexed / res.seconds) : res.indexed;
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({
          ...res,
          errors: res.errors.slice(0, opts.showErrors),
          warnings: res.warnings.slice(0, opts.showErrors),
          errorsFile: opts.errors ?? null,
        }) + "\n",
      );
    } else {
      for (const e of res.errors.slice(0, opts.showErrors)) process.stderr.write(`${file}:${e.line}: ${e.error}\n`);
      if (res.errors.length > opts.showErrors)
        process.stderr.write(
          `… ${res.errors.length - opts.showErrors} more error(s)${opts.errors ? ` in ${opts.errors}` : " (give --errors FILE for all)"}\n`,
        );
      for (const w of res.warnings.slice(0, opts.showErrors))
        process.stderr.write(`${warning(`${file}:${w.line}: ${w.warning}`)}\n`);
      if (res.warnings.length > opts.showErrors)
        process.stderr.write(`… ${res.warnings.length - opts.showErrors} more warning(s) (--json lists them)\n`);
      const already = res.existing ? `${res.existing} already there, ` : "";
      process.stdout.write(
        `${res.indexed} of ${res.total} document(s) indexed into ${res.index} (${already}${res.failed} failed) in ${res.seconds.toFixed(1)}s, ${rate}/s\n`,
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
