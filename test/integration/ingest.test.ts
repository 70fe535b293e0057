/**
 * `outliers ingest` end to end on the real node: raw evtx JSON of the regression set through
 * `--format evtx-json` in several batches, a broken document in the middle, documents the index
 * rejects, the per-document error report (stderr and --errors FILE) and the exit status.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { cluster, dropIndices, ES_URL, testIndex } from "../helpers/es.ts";
import { parseDocs } from "../../src/events/docs-file.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const REGRESSION = path.resolve(ROOT, "../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared)
  console.warn(`skipping regression ingest test: ${REGRESSION} is missing (fresh clone without ../shared)`);
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-ingest-"));
const EVTX = testIndex("ingest-evtx");
const TYPED = testIndex("ingest-typed");

// `--create`: these indices are new and no installed tagging reaches them (other tests may have tagging
// installed on the same node); ingest refuses such a target without it (it looks like a typo).
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const create = args[0] === "ingest" ? ["--create"] : [];
  const p = Bun.spawn([process.execPath, "src/cli.ts", ...args, ...create, "--node", ES_URL], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  await cluster();
}, 60_000);
afterAll(async () => {
  await dropIndices(EVTX, TYPED);
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe("outliers ingest", () => {
  test.skipIf(!haveShared)(
    "raw evtx JSON of every regression event, with a broken document in the middle",
    async () => {
      const files = [...new Glob("**/*.json").scanSync({ cwd: REGRESSION })].sort();
      const texts = files.map((f) => readFileSync(path.join(REGRESSION, f), "utf8").trimEnd());
      const half = Math.floor(texts.length / 2);
      const broken = '{\n  "Event": {\n    "System": {"EventID": 1,\n  }\n}';
      const body = [...texts.slice(0, half), broken, ...texts.slice(half)].join("\n") + "\n";
      const file = path.join(tmp, "regression.json");
      writeFileSync(file, body);
      const brokenLine = texts.slice(0, half).join("\n").split("\n").length + 1;
      const expected = parseDocs(body, "evtx-json");
      const good = expected.filter((d) => d.doc).length;
      expect(good).toBe(108);

      const errors = path.join(tmp, "errors.ndjson");
      const r = await cli(
        "ingest",
        file,
        "--index",
        EVTX,
        "--format",
        "evtx-json",
        "--batch",
        "25",
        "--errors",
        errors,
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`108 of 109 document(s) indexed into ${EVTX} (1 failed)`);
      expect(r.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${brokenLine}: `));
      const reported = readFileSync(errors, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(reported.map((e) => e.line)).toEqual([brokenLine]);
      expect(reported[0].file).toBe(file);

      const { client } = await cluster();
      const count = await client.count({ index: EVTX });
      expect(count.count).toBe(108);
      // The documents are the winlogbeat shape of the contract, numbers kept as numbers.
      const res = await client.search({ index: EVTX, size: 200 });
      const sources = res.hits.hits.map((h) => h._source as any);
      expect(
        sources.every((s) => typeof s.winlog.event_id === "number" && s.event.code === String(s.winlog.event_id)),
      ).toBe(true);
      expect(sources.every((s) => typeof s.winlog.channel === "string" && typeof s["@timestamp"] === "string")).toBe(
        true,
      );
      const byRecord = new Map(expected.filter((d) => d.doc).map((d) => [JSON.stringify(d.doc), true]));
      for (const s of sources) expect(byRecord.has(JSON.stringify(s))).toBe(true);
    },
    120_000,
  );

  test("documents the index rejects are reported with their lines; the others are indexed; --json is JSON only", async () => {
    const { client } = await cluster();
    await client.indices.create({
      index: TYPED,
      mappings: { properties: { n: { type: "integer" } } },
      settings: { number_of_replicas: 0 },
    });
    const lines = ['{"n": 1}', '{"n": "not a number"}', "", '{"n": 3}', "not json", '{"n": {"deep": 1}}', '{"n": 7}'];
    const file = path.join(tmp, "typed.ndjson");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = await cli("ingest", file, "--index", TYPED, "--batch", "2", "--json");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.total).toBe(6);
    expect(out.indexed).toBe(3);
    expect(out.failed).toBe(3);
    expect(out.errors.map((e: any) => e.line)).toEqual([2, 5, 6]);
    expect(out.errors[0].error).toContain("mapper_parsing_exception");
    expect((await client.count({ index: TYPED })).count).toBe(3);

    const human = await cli("ingest", file, "--index", TYPED, "--show-errors", "1");
    expect(human.code).toBe(1);
    expect(human.stderr.split("\n")[0]).toStartWith(`${file}:2: mapper_parsing_exception`);
    expect(human.stderr).toContain("2 more error(s) (give --errors FILE for all)");
  }, 60_000);

  test("bad usage and missing files stop with exit 2", async () => {
    const r = await cli("ingest", path.join(tmp, "nope.ndjson"), "--index", TYPED);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nope.ndjson: no such file");
    const f = await cli("ingest", path.join(tmp, "nope.ndjson"), "--index", TYPED, "--format", "xml");
    expect(f.code).toBe(2);
    expect(f.stderr).toContain("--format xml");
  }, 30_000);
});
