/**
 * `dist/outliers ingest FILE.evtx` end to end on the real node: the regression .evtx files joined into
 * one file (their chunks one after another) are read natively and indexed in the Winlogbeat shape,
 * document for document as ingesting their JSON exports gives; a truncated .evtx still indexes the
 * records before the cut and reports the cut with the file and chunk (exit 1).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { cluster, dropIndices, ES_URL, testIndex } from "../helpers/es.ts";
import { evtxFile, sourceChunks } from "../helpers/evtx-build.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const BIN = path.join(ROOT, "dist", process.platform === "win32" ? "outliers.exe" : "outliers");
const REGRESSION = path.resolve(ROOT, "../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared)
  console.warn(`skipping the .evtx ingest test: ${REGRESSION} is missing (fresh clone without ../shared)`);
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-evtx-ingest-"));
const FROM_EVTX = testIndex("evtx-native");
const FROM_JSON = testIndex("evtx-json");
const FROM_JSON_AGAIN = testIndex("evtx-json-again");
const TRUNCATED = testIndex("evtx-truncated");
/** Its JSON export was written differently from the .evtx (see test/unit/evtx-parser.test.ts). */
const EXPORT_DIFFERS = "ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx";

// `--create`: these indices are new and no installed tagging reaches them (other tests may have tagging
// installed on the same node); ingest refuses such a target without it (it looks like a typo).
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const create = args[0] === "ingest" ? ["--create"] : [];
  const p = Bun.spawn([BIN, ...args, ...create, "--node", ES_URL], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

async function documents(index: string): Promise<{ id: string; source: any }[]> {
  const { client } = await cluster();
  const res = await client.search({ index, size: 1000, sort: ["_doc"] });
  return res.hits.hits.map((h) => ({ id: h._id!, source: h._source }));
}

const key = (s: any) => `${s.winlog.computer_name} ${s.winlog.channel} ${s.winlog.record_id}`;

beforeAll(async () => {
  await cluster();
  if (existsSync(BIN)) return;
  const build = Bun.spawnSync(["bash", path.join(ROOT, "scripts/build")], { cwd: ROOT, stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`scripts/build failed: ${build.stderr.toString()}`);
}, 180_000);
afterAll(async () => {
  await dropIndices(FROM_EVTX, FROM_JSON, FROM_JSON_AGAIN, TRUNCATED);
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe("dist/outliers ingest FILE.evtx", () => {
  const files = haveShared
    ? [...new Glob("**/*.evtx").scanSync({ cwd: REGRESSION })].sort().filter((f) => !f.endsWith(EXPORT_DIFFERS))
    : [];
  const chunks = files.flatMap((f) => sourceChunks(readFileSync(path.join(REGRESSION, f))).map((c) => c.chunk));
  const evtx = path.join(tmp, "regression.evtx");
  const json = path.join(tmp, "regression.json");
  if (haveShared) {
    writeFileSync(evtx, evtxFile(chunks, 1));
    writeFileSync(
      json,
      files
        .map((f) => readFileSync(path.join(REGRESSION, f.replace(/\.evtx$/, ".json")), "utf8").trimEnd())
        .join("\n") + "\n",
    );
  }

  test.skipIf(!haveShared)(
    "indexes the same Winlogbeat documents as the JSON export, read natively",
    async () => {
      expect(chunks.length).toBe(91);
      const a = await run("ingest", evtx, "--index", FROM_EVTX, "--create", "--batch", "40");
      expect(a.stderr).toBe("");
      expect(a.code).toBe(0);
      expect(a.stdout).toContain(`107 of 107 document(s) indexed into ${FROM_EVTX} (0 failed)`);
      const b = await run("ingest", json, "--index", FROM_JSON, "--create", "--batch", "40");
      expect(b.code).toBe(0);
      expect(b.stdout).toContain(`107 of 107 document(s) indexed into ${FROM_JSON} (0 failed)`);

      const native = await documents(FROM_EVTX);
      const exported = await documents(FROM_JSON);
      expect(native.length).toBe(107);
      // The Winlogbeat shape of the contract.
      for (const { source: s } of native) {
        expect(typeof s["@timestamp"]).toBe("string");
        expect(s.event.code).toBe(String(s.winlog.event_id));
        expect(typeof s.winlog.channel).toBe("string");
        expect(typeof s.winlog.provider_name).toBe("string");
        expect(typeof s.winlog.computer_name).toBe("string");
        expect(typeof s.winlog.record_id).not.toBe("undefined");
      }
      expect(
        native.filter((d) => d.source.winlog.event_data && Object.keys(d.source.winlog.event_data).length > 0).length,
      ).toBeGreaterThan(100);
      // Field for field the same documents, matched by computer, channel and record id.
      const byKey = new Map(exported.map((d) => [key(d.source), d]));
      expect(byKey.size).toBe(107);
      for (const d of native) expect(d.source).toEqual(byKey.get(key(d.source))!.source);

      // Ids: when ingest gives the same document the same id (ingesting the export again reproduces
      // them), the .evtx must give those ids too.
      const again = await run("ingest", json, "--index", FROM_JSON_AGAIN, "--create", "--batch", "40");
      expect(again.code).toBe(0);
      const exportedAgain = new Map((await documents(FROM_JSON_AGAIN)).map((d) => [key(d.source), d.id]));
      const idsAreStable = exported.every((d) => exportedAgain.get(key(d.source)) === d.id);
      if (idsAreStable) for (const d of native) expect(d.id).toBe(byKey.get(key(d.source))!.id);
    },
    180_000,
  );

  test.skipIf(!haveShared)(
    "a truncated .evtx: the records before the cut are indexed, the cut is reported with file and chunk, exit 1",
    async () => {
      const whole = readFileSync(evtx);
      const cut = whole.subarray(0, 4096 + 10 * 65536 + 512 + 300); // inside chunk 10's first record
      const file = path.join(tmp, "truncated.evtx");
      writeFileSync(file, cut);
      const r = await run("ingest", file, "--index", TRUNCATED, "--create");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}:`);
      expect(r.stderr).toContain("chunk 10 (file offset 0xa1000), offset 0xa1000: chunk truncated");
      const expectedRecords = chunks
        .slice(0, 10)
        .reduce(
          (n, c) =>
            n + sourceChunks(Buffer.concat([Buffer.alloc(4096), c])).reduce((m, sc) => m + sc.records.length, 0),
          0,
        );
      const { client } = await cluster();
      expect((await client.count({ index: TRUNCATED })).count).toBe(expectedRecords);
      expect(r.stdout).toMatch(
        new RegExp(`^${expectedRecords} of \\d+ document\\(s\\) indexed into ${TRUNCATED} \\([1-9]\\d* failed\\)`, "m"),
      );
    },
    120_000,
  );
});
