/**
 * `dist/outliers ingest` as analysts use it, end to end on the real node (issues 17.3, 17.7, 18.4):
 * - files, folders (recursively) and globs of mixed formats (.evtx, evtx JSON, NDJSON, a JSON array)
 *   in one run, with a summary row per file;
 * - a line nested 10,000 deep (and one of arrays 10,000 deep) is refused before sending, with its line
 *   and the index's limit, into --errors; every other event is indexed and the node's write threads
 *   are intact; the index's own limits are read from its settings; `scan` reports the same line and
 *   scans the others;
 * - with tagging installed, a typo'd --index that neither exists nor is wired is refused (exit 2)
 *   before anything is written, naming the wired pattern; --create writes it;
 * - a '.' index needs --allow-system-index (also through an alias).
 * Index names start with `ingest-h-`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { cluster, ES_URL, rest } from "../helpers/es.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const BIN = path.join(ROOT, "dist", process.platform === "win32" ? "outliers.exe" : "outliers");
const REGRESSION = path.resolve(ROOT, "../shared/sigma/regression");
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-ingest-h-"));
const stamp = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const name = (s: string) => `ingest-h-${s}-${stamp}`;
const created: string[] = [];
const PIPE = name("pipe");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
async function cli(args: string[], stdin?: string): Promise<Run> {
  // `scan` runs without a cluster (and takes no --node).
  const p = Bun.spawn([BIN, ...args, ...(args[0] === "scan" ? [] : ["--node", ES_URL])], {
    cwd: tmp,
    stdout: "pipe",
    stderr: "pipe",
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}
async function count(index: string): Promise<number> {
  const r = await rest("GET", `/${index}/_count`);
  return r?.count ?? 0;
}
async function exists(index: string): Promise<boolean> {
  return (await rest("GET", `/${index}`)) !== undefined;
}

const RULE = `title: ingest-h whoami
id: 3b0a3c4e-1d2f-4e5a-9b8c-5e0f00000001
status: test
level: low
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\whoami.exe'
  condition: sel
`;
const rulesDir = path.join(tmp, "rules");

function event(i: number): Record<string, unknown> {
  return {
    "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    n: i,
    winlog: {
      channel: "Microsoft-Windows-Sysmon/Operational",
      event_id: 1,
      event_data: { Image: i % 10 === 0 ? "C:\\Windows\\System32\\whoami.exe" : "C:\\x\\cmd.exe" },
    },
  };
}

beforeAll(async () => {
  await cluster();
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(path.join(rulesDir, "whoami.yml"), RULE);
  if (!existsSync(BIN)) {
    const build = Bun.spawnSync(["bash", path.join(ROOT, "scripts/build")], { cwd: ROOT, stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/build failed: ${build.stderr.toString()}`);
  }
}, 180_000);

afterAll(async () => {
  await cli(["pipeline", "uninstall", "--name", PIPE]);
  for (const i of created) await rest("DELETE", `/${i}`).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe("files, folders and globs of mixed formats", () => {
  test("a folder (recursively), a glob and a file in one run: every document in, one summary row per file", async () => {
    const index = name("mixed");
    created.push(index);
    const logs = path.join(tmp, "logs");
    mkdirSync(path.join(logs, "sub", "deeper"), { recursive: true });
    const evtx = [...new Glob("**/*.evtx").scanSync({ cwd: REGRESSION })].sort().slice(0, 3);
    expect(evtx.length).toBe(3);
    // Two .evtx files in the folder, one deeper; their JSON exports (evtx_dump layout) beside them.
    copyFileSync(path.join(REGRESSION, evtx[0]!), path.join(logs, "a.evtx"));
    copyFileSync(path.join(REGRESSION, evtx[1]!), path.join(logs, "sub", "deeper", "b.evtx"));
    copyFileSync(path.join(REGRESSION, evtx[2]!.replace(/\.evtx$/, ".json")), path.join(logs, "sub", "c-export.json"));
    writeFileSync(path.join(logs, "d.ndjson"), [1, 2, 3].map((i) => JSON.stringify(event(i))).join("\n") + "\n");
    writeFileSync(path.join(logs, "sub", "e-array.json"), JSON.stringify([event(4), event(5)], null, 1));
    writeFileSync(path.join(logs, "notes.txt"), "not events\n");
    // Outside the folder: NDJSON files named by a glob the shell did not expand (quoted).
    const more = path.join(tmp, "more");
    mkdirSync(more);
    writeFileSync(path.join(more, "f1.jsonl"), JSON.stringify(event(6)) + "\n");
    writeFileSync(path.join(more, "f2.jsonl"), JSON.stringify(event(7)) + "\n");

    const r = await cli(["ingest", "logs", "more/*.jsonl", "--index", index, "--create", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const byFile = Object.fromEntries(out.files.map((f: any) => [f.file, f]));
    expect(Object.keys(byFile).sort()).toEqual([
      "logs/a.evtx",
      "logs/d.ndjson",
      "logs/sub/c-export.json",
      "logs/sub/deeper/b.evtx",
      "logs/sub/e-array.json",
      "more/f1.jsonl",
      "more/f2.jsonl",
    ]);
    expect(byFile["logs/a.evtx"].format).toBe("evtx");
    expect(byFile["logs/sub/c-export.json"].format).toBe("json-values");
    expect(byFile["logs/d.ndjson"].format).toBe("ndjson");
    expect(byFile["logs/sub/e-array.json"].format).toBe("json-array");
    expect(byFile["logs/d.ndjson"].indexed).toBe(3);
    expect(byFile["logs/sub/e-array.json"].indexed).toBe(2);
    for (const f of out.files) {
      expect(f.total, f.file).toBeGreaterThan(0);
      expect(f.failed, f.file).toBe(0);
      expect(f.indexed + f.existing, f.file).toBe(f.total);
    }
    expect(out.skipped).toEqual(["logs/notes.txt"]);
    const total = out.files.reduce((a: number, f: any) => a + f.total, 0);
    expect(out.indexed).toBe(total);
    expect(await count(index)).toBe(total);

    // The same run in words: a table with a row per file (loaded, refused), nothing on stderr but the skip.
    const again = await cli(["ingest", "logs", "more/f1.jsonl", "more/f2.jsonl", "--index", index]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/file\s+format\s+loaded\s+refused/);
    expect(again.stdout).toMatch(/logs\/sub\/e-array\.json\s+json-array\s+2\s+0/);
    expect(again.stdout).toContain(
      `0 of ${total} document(s) from 7 file(s) indexed into ${index} (${total} already there`,
    );
    expect(again.stderr).toContain("1 file(s) skipped");
    expect(await count(index)).toBe(total);
  }, 120_000);

  test("stdin is read as a stream too; a missing path is named (exit 2)", async () => {
    const index = name("stdin");
    created.push(index);
    const text = [8, 9].map((i) => JSON.stringify(event(i))).join("\n") + "\n";
    const r = await cli(["ingest", "-", "--index", index, "--create", "--json"], text);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).indexed).toBe(2);
    const missing = await cli(["ingest", "nope/", "--index", index]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope/: no such file");
  }, 60_000);
});

describe("documents beyond the index's mapping limits are refused before sending", () => {
  const N = 1009;
  const DEEP = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
  const DEEP_ARRAYS = `{"a":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
  const file = path.join(tmp, "deep.ndjson");
  const lines: string[] = [];
  for (let i = 1; i <= N; i++) lines.push(i === 304 ? DEEP : i === 700 ? DEEP_ARRAYS : JSON.stringify(event(i)));
  writeFileSync(file, lines.join("\n") + "\n");

  test("the line nested 10,000 deep at 304 (and arrays 10,000 deep at 700): refused with line and reason, every other event in, write threads intact", async () => {
    const index = name("deep");
    created.push(index);
    const errors = path.join(tmp, "deep-errors.ndjson");
    const r = await cli(["ingest", file, "--index", index, "--create", "--errors", errors, "--batch", "100"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file}:304: nested deeper than index.mapping.depth.limit 20 (the engine's defaults) allows`,
    );
    expect(r.stderr).toContain(`${file}:700: nested more than 30 levels (objects and arrays)`);
    expect(r.stdout).toContain(`${N - 2} of ${N} document(s) indexed into ${index} (2 failed)`);
    const reported = readFileSync(errors, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(reported.map((e: any) => [e.file, e.line])).toEqual([
      [file, 304],
      [file, 700],
    ]);
    expect(reported[0].error).toContain("index.mapping.depth.limit 20");
    expect(await count(index)).toBe(N - 2);
    // Every event after the deep lines is there.
    const after = await rest("POST", `/${index}/_count`, { query: { range: { n: { gt: 700 } } } });
    expect(after.count).toBe(N - 700);
    // The node's write pool: threads alive, nothing rejected by us, and a following bulk works.
    const pool = await rest("GET", "/_cat/thread_pool/write", undefined, { format: "json", h: "name,active,queue" });
    expect(pool.length).toBeGreaterThan(0);
    const next = await cli(["ingest", "-", "--index", index, "--json"], JSON.stringify(event(5000)) + "\n");
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout).indexed).toBe(1);
  }, 120_000);

  test("the index's own settings: depth.limit 40 takes a 30-deep document and refuses a 45-deep one; total_fields.limit 50", async () => {
    const index = name("limits");
    created.push(index);
    await rest("PUT", `/${index}`, {
      settings: {
        number_of_replicas: 0,
        "index.mapping.depth.limit": 40,
        "index.mapping.total_fields.limit": 50,
      },
    });
    const nest = (d: number) => '{"a":'.repeat(d - 1) + "1" + "}".repeat(d - 1);
    const wide: Record<string, number> = {};
    for (let i = 0; i < 60; i++) wide[`f${i}`] = i;
    const f = path.join(tmp, "limits.ndjson");
    writeFileSync(f, [nest(30), nest(45), JSON.stringify(wide), JSON.stringify({ ok: 1 })].join("\n") + "\n");
    const r = await cli(["ingest", f, "--index", index, "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.indexed).toBe(2);
    expect(out.errors).toEqual([
      { line: 2, error: expect.stringContaining(`index.mapping.depth.limit 40 (the settings of ${index})`) },
      { line: 3, error: expect.stringContaining("60 distinct fields; index.mapping.total_fields.limit is 50") },
    ]);
  }, 60_000);

  test("scan reads the same file: the deep lines reported, the other events scanned", async () => {
    const r = await cli(["scan", rulesDir, "--events", file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${file}:304: nested deeper than index.mapping.depth.limit 20`);
    expect(r.stderr).toContain(`${file}:700: nested more than 30 levels`);
    expect(r.stdout).toContain(`${(N - 2).toLocaleString("en-US")} event(s)`);
    // Every tenth event runs whoami.exe: lines 10, 20, … 1000 (300 and 700 are events; 304 and 700 are not).
    const whoami = Math.floor(N / 10) - 1;
    expect(r.stdout).toContain(`${whoami} tagged`);
  }, 120_000);
});

describe("the target index", () => {
  test("with tagging installed, a typo'd --index is refused before anything is written (exit 2), naming the wired pattern; --create writes it", async () => {
    const wired = name("wired");
    const inst = await cli(["pipeline", "install", rulesDir, "--name", PIPE, "--index", `${wired}-*`]);
    expect(inst.code, inst.stderr).toBe(0);
    const f = path.join(tmp, "few.ndjson");
    writeFileSync(f, [1, 10].map((i) => JSON.stringify(event(i))).join("\n") + "\n");
    const typo = `ingest-h-wried-${stamp}-lab`;
    created.push(typo, `${wired}-lab`);
    const r = await cli(["ingest", f, "--index", typo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--index ${typo}: no such index, and no installed tagging reaches it`);
    expect(r.stderr).toContain(`${wired}-*`);
    expect(r.stderr).toContain("--create");
    expect(await exists(typo)).toBe(false);
    // The wired pattern's index needs nothing: it is tagged.
    const good = await cli(["ingest", f, "--index", `${wired}-lab`, "--json"]);
    expect(good.code, good.stderr).toBe(0);
    const tagged = await rest("POST", `/${wired}-lab/_count`, { query: { exists: { field: "outliers.rule_id" } } });
    expect(tagged.count).toBe(1);
    const made = await cli(["ingest", f, "--index", typo, "--create", "--json"]);
    expect(made.code).toBe(0);
    expect(await count(typo)).toBe(2);
  }, 120_000);

  test("a '.' index (or an alias to one) needs --allow-system-index", async () => {
    const dot = `.${name("sys")}`;
    const alias = name("sys-alias");
    created.push(dot);
    const f = path.join(tmp, "one.ndjson");
    writeFileSync(f, JSON.stringify(event(1)) + "\n");
    const r = await cli(["ingest", f, "--index", dot, "--create"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--index ${dot}: a hidden or system index`);
    expect(r.stderr).toContain("--allow-system-index");
    expect(await exists(dot)).toBe(false);
    const kibana = await cli(["ingest", f, "--index", ".kibana"]);
    expect(kibana.code).toBe(2);
    expect(kibana.stderr).toContain("--allow-system-index");
    const ok = await cli(["ingest", f, "--index", dot, "--create", "--allow-system-index"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await count(dot)).toBe(1);
    await rest("POST", "/_aliases", { actions: [{ add: { index: dot, alias } }] });
    const via = await cli(["ingest", f, "--index", alias]);
    expect(via.code).toBe(2);
    expect(via.stderr).toContain(`--index ${alias} (it points to ${dot})`);
  }, 60_000);
});
