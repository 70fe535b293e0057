/** `outliers ingest FILE --index NAME`: bulk-load events through the index's pipelines (tagged live). */
import { writeFileSync } from "node:fs";
import { redact } from "../util/redact.ts";
import { checkIndexPatterns } from "../cluster/guards.ts";
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/client.ts";
import { parseFormat, readDocsFile } from "../cluster/docs-file.ts";
import { ingestDocs } from "../cluster/ingest.ts";
import { UsageError } from "../util/errors.ts";
import { loadProfile } from "../mapping/index.ts";
import type { Profile } from "../mapping/profile.ts";
import { call, type Cluster } from "../cluster/client.ts";

/** Creates `index` with the profile's mappings unless it exists already (then it is left alone). */
async function createWithProfile(cluster: Cluster, index: string, profile: Profile): Promise<void> {
  const exists = await call(cluster, "check index", () => cluster.client.indices.exists({ index }));
  if (exists) return;
  const t = profile.indexTemplate();
  await call(cluster, "create index", () => cluster.client.indices.create({ index, settings: t.settings, mappings: t.mappings } as any));
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
    .argument("<file>", "events: NDJSON, a JSON array, or raw evtx JSON (- for stdin)")
    .requiredOption("--index <name>", "index (or alias / data stream) to write to")
    .option("--format <format>", "ndjson or evtx-json (default: detect raw evtx per document)")
    .option("--batch <n>", "documents per _bulk request", (v) => positiveInt(v, "--batch"), 500)
    .option("--errors <file>", "write every failed document's line and error (NDJSON) to this file")
    .option("--show-errors <n>", "errors printed on stderr", (v) => positiveInt(v, "--show-errors"), 10)
    .option("--no-refresh", "do not refresh the index at the end")
    .option("--mapping <name|file>", "when the index does not exist, create it with this profile's field types (winlogbeat, ecs or a mapping YAML)")
    .option("--json", "print JSON only");
  addConnectionOptions(cmd).action(async (file: string, opts: Record<string, any>) => {
    const format = parseFormat(opts.format);
    // One index, named (guards.ts): a '.' index only as its exact name, never a pattern.
    const [index, ...more] = checkIndexPatterns([opts.index]);
    if (more.length || index!.includes("*")) throw new UsageError(`--index ${opts.index}: ingest writes to one index; give its name`);
    const entries = readDocsFile(file, format);
    const cluster = await connect(connectionFrom(opts));
    if (opts.mapping) await createWithProfile(cluster, opts.index, loadProfile(opts.mapping));
    const res = await ingestDocs(cluster, entries, { index: opts.index, batch: opts.batch, json: Boolean(opts.json), refresh: opts.refresh });
    if (opts.errors) writeFileSync(opts.errors, redact(res.errors.map((e) => JSON.stringify({ file, ...e })).join("\n") + (res.errors.length ? "\n" : "")));
    const rate = res.seconds > 0 ? Math.round(res.indexed / res.seconds) : res.indexed;
    if (opts.json) {
      process.stdout.write(JSON.stringify({ ...res, errors: res.errors.slice(0, opts.showErrors), errorsFile: opts.errors ?? null }) + "\n");
    } else {
      for (const e of res.errors.slice(0, opts.showErrors)) process.stderr.write(`${file}:${e.line}: ${e.error}\n`);
      if (res.errors.length > opts.showErrors)
        process.stderr.write(`… ${res.errors.length - opts.showErrors} more error(s)${opts.errors ? ` in ${opts.errors}` : " (give --errors FILE for all)"}\n`);
      process.stdout.write(`${res.indexed} of ${res.total} document(s) indexed into ${res.index} (${res.failed} failed) in ${res.seconds.toFixed(1)}s, ${rate}/s\n`);
    }
    process.exitCode = res.failed > 0 ? 1 : 0;
  });
}
