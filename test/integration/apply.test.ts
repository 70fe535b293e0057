/**
 * `outliers apply` end to end with the binary on the real node: a rules folder evolves through
 * versions (add a rule; change one; add a filter to a third; remove a fourth; apply again with no
 * change) over an index where events keep arriving (ingested through the live pipeline while each
 * apply runs). After each apply every event's tags equal those of a fresh `pipeline install` +
 * `backfill` of that version on a copy of the same events, and those of `scan`. One apply is killed
 * outright while it runs; running it again reaches the same state. The no-change apply writes
 * nothing: the index's indexing counter, every event's `_version`, the pipeline version and the
 * apply record stay as they were.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { BIN, ensureBinary, runBin } from "../helpers/binary.ts";
import { APPLIED_INDEX } from "../../src/cluster/history/apply-record.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-apply-"));
const rulesDir = path.join(dir, "rules");
const tag = `apply-h-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const live = `${tag}-live`;
const name = `${tag}-pl`;
const env = { ES_URL, OUTLIERS_STATE_DIR: path.join(dir, "state") };

const ids = {
  a: "a1a1a1a1-0000-4000-8000-00000000000a",
  b: "b1b1b1b1-0000-4000-8000-00000000000b",
  c: "c1c1c1c1-0000-4000-8000-00000000000c",
  d: "d1d1d1d1-0000-4000-8000-00000000000d",
  e: "e1e1e1e1-0000-4000-8000-00000000000e",
};
const sigma = (id: string, title: string, selection: string) => `title: ${title}
id: ${id}
status: test
level: medium
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        ${selection}
    condition: selection
`;
const filterDoc = `title: skip runs are expected
id: f1f1f1f1-0000-4000-8000-00000000000f
logsource:
    product: windows
    category: process_creation
filter:
    rules:
        - ${ids.c}
    selection:
        CommandLine|contains: 'skip'
    condition: not selection
`;
const mapping = {
  properties: {
    "@timestamp": { type: "date" },
    n: { type: "long" },
    winlog: {
      properties: {
        channel: { type: "keyword" },
        event_id: { type: "long" },
        event_data: { properties: { Image: { type: "keyword" }, CommandLine: { type: "keyword" } } },
      },
    },
  },
};

/** Event n: one of six images; `bee` in every 4th command line, `skip` in every 3rd. */
function event(n: number): Record<string, unknown> {
  const img = ["a", "b", "c", "d", "e", "x"][n % 6]!;
  return {
    "@timestamp": new Date(Date.now() - 60_000 - (n % 50) * 1000).toISOString(),
    n,
    winlog: {
      channel: "Microsoft-Windows-Sysmon/Operational",
      event_id: 1,
      event_data: {
        Image: `C:\\Windows\\${img}.exe`,
        CommandLine: `${img}.exe${n % 4 === 0 ? " bee" : ""}${n % 3 === 0 ? " skip" : ""}`,
      },
    },
  };
}
const events: Record<string, unknown>[] = [];
let nextN = 0;

async function ingest(index: string, docs: Record<string, unknown>[]): Promise<void> {
  const file = path.join(dir, `batch-${index}-${docs[0]?.n}.ndjson`);
  writeFileSync(file, docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  const r = await runBin(["ingest", file, "--index", index, "--create", "--id-field", "n", "--json"], env);
  expect(r.code, r.stderr).toBe(0);
}
async function addEvents(count: number): Promise<void> {
  const docs = Array.from({ length: count }, () => event(nextN++));
  events.push(...docs);
  await ingest(live, docs);
}

/** Events keep arriving (through the live pipeline) until the returned function is called. */
function keepArriving(): () => Promise<number> {
  let stop = false;
  let batches = 0;
  const loop = (async () => {
    while (!stop) {
      await addEvents(3);
      batches++;
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return batches;
  };
}

/**
 * Removes an install of this test: `pipeline uninstall`, and when that fails (another suite's documents
 * in the shared state index can make it refuse) our pipeline, wiring template and records directly.
 */
async function dropInstall(pipeline: string): Promise<void> {
  const r = await runBin(["pipeline", "uninstall", "--name", pipeline], env);
  if (r.code === 0) return;
  await rest("DELETE", `/_template/${pipeline}-wiring`).catch(() => {});
  await rest("DELETE", `/_ingest/pipeline/${pipeline}`).catch(() => {});
  await rest("DELETE", `/.outliers-state/_doc/${pipeline}`, undefined, { refresh: "true" }).catch(() => {});
}

type Tags = Map<number, string[]>;
async function tagsOf(index: string): Promise<Tags> {
  await rest("POST", `/${index}/_refresh`);
  const res = await rest("POST", `/${index}/_search`, {
    size: 10000,
    _source: ["n", "outliers.rule_id"],
    query: { match_all: {} },
  });
  return new Map(
    res.hits.hits.map((h: any) => [h._source.n, [...(h._source.outliers?.rule_id ?? [])].sort()] as [number, string[]]),
  );
}
const carrying = (t: Tags, id: string) => [...t].filter(([, r]) => r.includes(id)).map(([n]) => n);

/** The tags a fresh install + backfill of the rules gives on a copy of the events, and those scan gives. */
async function reference(version: string): Promise<{ fresh: Tags; scan: Tags }> {
  const copy = `${tag}-copy-${version}`;
  const copyName = `${tag}-copy-pl`;
  await rest("PUT", `/${copy}`, { mappings: mapping });
  const file = path.join(dir, `events-${version}.ndjson`);
  writeFileSync(file, events.map((d) => JSON.stringify(d)).join("\n") + "\n");
  const ing = await runBin(["ingest", file, "--index", copy, "--create", "--id-field", "n", "--json"], env);
  expect(ing.code, ing.stderr).toBe(0);
  const inst = await runBin(["pipeline", "install", rulesDir, "--name", copyName, "--index", copy, "--json"], env);
  expect(inst.code, inst.stderr).toBe(0);
  const bf = await runBin(["backfill", rulesDir, "--index", copy, "--since", "2d", "--json"], env);
  expect(bf.code, bf.stderr).toBe(0);
  const fresh = await tagsOf(copy);
  await dropInstall(copyName);
  await rest("DELETE", `/${copy}`);
  const sc = await runBin(["scan", rulesDir, "--docs", file, "--json"], env);
  expect(sc.code, sc.stderr).toBe(0);
  const scan: Tags = new Map(events.map((e) => [e.n as number, [] as string[]]));
  for (const line of sc.stdout.split("\n").filter(Boolean)) {
    const d = JSON.parse(line);
    scan.set(d.n, [...(d.outliers?.rule_id ?? [])].sort());
  }
  return { fresh, scan };
}

async function applyWhileArriving(extra: string[] = []): Promise<{ code: number; out: any; stderr: string }> {
  const stop = keepArriving();
  const r = await runBin(
    ["apply", rulesDir, "--name", name, "--index", live, "--since", "2d", "--json", ...extra],
    env,
  );
  const batches = await stop();
  expect(batches, "events arrived while apply ran").toBeGreaterThan(0);
  return { code: r.code, out: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

/** Every event's tags equal a fresh install + backfill of this version on a copy, and the scan. */
async function expectInStep(version: string): Promise<Tags> {
  const got = await tagsOf(live);
  expect(got.size).toBe(events.length);
  const { fresh, scan } = await reference(version);
  expect(got).toEqual(fresh);
  expect(got).toEqual(scan);
  return got;
}

function writeRules(files: Record<string, string>): void {
  rmSync(rulesDir, { recursive: true, force: true });
  mkdirSync(rulesDir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(rulesDir, f), text);
}
const v1 = {
  "a.yml": sigma(ids.a, "apply-h A", "Image|endswith: '\\a.exe'"),
  "b.yml": sigma(ids.b, "apply-h B", "Image|endswith: '\\b.exe'"),
  "c.yml": sigma(ids.c, "apply-h C", "Image|endswith: '\\c.exe'"),
  "d.yml": sigma(ids.d, "apply-h D", "Image|endswith: '\\d.exe'"),
};
const v2 = { ...v1, "e.yml": sigma(ids.e, "apply-h E", "Image|endswith: '\\e.exe'") };
const v3 = { ...v2, "b.yml": sigma(ids.b, "apply-h B", "CommandLine|contains: 'bee'") };
const v4 = { ...v3, "mf_skip.yml": filterDoc };
const { "d.yml": _d, ...v5 } = v4;

beforeAll(async () => {
  ensureBinary();
  await rest("PUT", `/${live}`, { mappings: mapping });
  await addEvents(40);
}, 120_000);

afterAll(async () => {
  await dropInstall(name);
  await dropInstall(`${tag}-pl2`);
  await rest("DELETE", `/${APPLIED_INDEX}/_doc/${tag}-pl2`).catch(() => {});
  await dropInstall(`${tag}-copy-pl`);
  await rest("DELETE", `/${APPLIED_INDEX}/_doc/${name}`).catch(() => {});
  await rest("DELETE", `/${tag}-*`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test("apply keeps live tags and history in step with an evolving rules folder while events arrive", async () => {
  // v1: four rules on history that no pipeline tagged yet; --dry-run first writes nothing.
  writeRules(v1);
  const dry = await runBin(["apply", rulesDir, "--name", name, "--index", live, "--since", "2d", "--dry-run"], env);
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.stdout).toContain("4 added");
  expect(dry.stdout).toMatch(/backfill 4 added or changed rule\(s\) since .*: would tag \d+ event\(s\)/);
  expect([...(await tagsOf(live)).values()].flat()).toEqual([]);
  let r = await applyWhileArriving();
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.changes.added.length).toBe(4);
  let t = await expectInStep("v1");
  expect(carrying(t, ids.d).length).toBeGreaterThan(0);

  // v2: a rule added.
  writeRules(v2);
  r = await applyWhileArriving();
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.changes.added.map((x: any) => x.id)).toEqual([ids.e]);
  expect(r.out.changes.unchanged.length).toBe(4);
  t = await expectInStep("v2");
  expect(carrying(t, ids.e).length).toBeGreaterThan(0);

  // v3: a rule changed; this apply is killed outright while it runs, and run again.
  writeRules(v3);
  const planned = await runBin(
    ["apply", rulesDir, "--name", name, "--index", live, "--since", "2d", "--dry-run", "--json"],
    env,
  );
  const plan = JSON.parse(planned.stdout);
  expect(plan.changes.changed.map((x: any) => x.id)).toEqual([ids.b]);
  expect(plan.steps.map((s: any) => s.step)).toEqual(["pipeline", "untag", "backfill"]);
  expect(plan.steps[1].entries).toBe(carrying(t, ids.b).length);
  const stop = keepArriving();
  const p = Bun.spawn([BIN, "apply", rulesDir, "--name", name, "--index", live, "--since", "2d", "--json"], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let pending = false;
  for (let i = 0; i < 400 && !pending; i++) {
    const doc = await rest("GET", `/${APPLIED_INDEX}/_doc/${name}`);
    pending = Boolean(doc?._source?.pending);
    if (!pending) await Bun.sleep(25);
  }
  expect(pending, "the run recorded its plan before changing anything").toBe(true);
  p.kill("SIGKILL");
  await p.exited;
  await stop();
  r = await applyWhileArriving();
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.changes.resumed).toBe(true);
  expect(r.out.changes.changed.map((x: any) => x.id)).toContain(ids.b);
  t = await expectInStep("v3");
  expect(carrying(t, ids.b).every((n) => n % 4 === 0)).toBe(true);
  expect((await rest("GET", `/${APPLIED_INDEX}/_doc/${name}`))._source.pending).toBeUndefined();

  // v4: a filter added to a third rule makes it changed.
  writeRules(v4);
  r = await applyWhileArriving();
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.changes.changed.map((x: any) => x.id)).toEqual([ids.c]);
  t = await expectInStep("v4");
  expect(carrying(t, ids.c).length).toBeGreaterThan(0);
  expect(carrying(t, ids.c).every((n) => n % 3 !== 0)).toBe(true);

  // v5: a fourth rule removed: its tags are gone everywhere.
  writeRules(v5);
  r = await applyWhileArriving();
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.changes.removed.map((x: any) => x.id)).toEqual([ids.d]);
  t = await expectInStep("v5");
  expect(carrying(t, ids.d)).toEqual([]);

  // pipeline status: per rule its version, when it went live, the window backfilled (kept in the cluster).
  const st = await runBin(["pipeline", "status", "--name", name, "--json"], env);
  const status = JSON.parse(st.stdout);
  const c = status.rules.find((x: any) => x.id === ids.c);
  expect(c.version).toMatch(/^[0-9a-f]{16}$/);
  expect(Date.parse(c.live_at)).toBeGreaterThan(0);
  expect(Date.parse(c.backfilled.since)).toBeLessThan(Date.parse(c.backfilled.until));

  // v6: nothing changed: nothing written.
  await rest("POST", `/${live}/_refresh`);
  const stats = async () =>
    (await rest("GET", `/${live}/_stats/indexing`)).indices[live].primaries.indexing.index_total as number;
  const versions = async () =>
    (await rest("POST", `/${live}/_search`, { size: 10000, version: true, _source: false })).hits.hits
      .map((h: any) => `${h._id}:${h._version}`)
      .sort();
  const before = {
    writes: await stats(),
    versions: await versions(),
    record: (await rest("GET", `/${APPLIED_INDEX}/_doc/${name}`))._version,
    pipeline: (await rest("GET", `/_ingest/pipeline/${name}`))[name].version,
  };
  const again = await runBin(["apply", rulesDir, "--name", name, "--index", live, "--since", "2d"], env);
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toContain("nothing to change");
  expect(again.stdout).toContain("nothing written");
  expect({
    writes: await stats(),
    versions: await versions(),
    record: (await rest("GET", `/${APPLIED_INDEX}/_doc/${name}`))._version,
    pipeline: (await rest("GET", `/_ingest/pipeline/${name}`))[name].version,
  }).toEqual(before);
}, 1_200_000);

test("apply untags what the old pipeline wrote on events not yet searchable (refresh before the history steps)", async () => {
  // An index that never refreshes on its own: the events the first version tags stay invisible to
  // searches (and to _update_by_query) until something refreshes it.
  const index = `${tag}-unrefreshed`;
  const pl = `${tag}-pl2`;
  const folder = path.join(dir, "rules2");
  mkdirSync(folder, { recursive: true });
  const rule = (selection: string) => writeFileSync(path.join(folder, "b.yml"), sigma(ids.b, "apply-h B", selection));
  await rest("PUT", `/${index}`, { settings: { refresh_interval: "-1" }, mappings: mapping });
  rule("Image|endswith: '\\b.exe'");
  // One searchable event first, so that the window holds something (an empty one ends apply with a warning).
  await ingest(index, [event(999)]);
  const first = await runBin(["apply", folder, "--name", pl, "--index", index, "--since", "2d", "--json"], env);
  expect(first.code, first.stderr).toBe(0);
  const docs = Array.from({ length: 12 }, (_, i) => event(1000 + i));
  const file = path.join(dir, "unrefreshed.ndjson");
  writeFileSync(file, docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  const ing = await runBin(["ingest", file, "--index", index, "--id-field", "n", "--no-refresh", "--json"], env);
  expect(ing.code, ing.stderr).toBe(0);
  // Tagged live by the first version (a realtime get reads them), yet not searchable.
  const oldTagged = docs.filter((d) => (d.n as number) % 6 === 1).map((d) => d.n as number);
  expect(oldTagged.length).toBe(2);
  for (const n of oldTagged)
    expect((await rest("GET", `/${index}/_doc/${n}`))._source.outliers?.rule_id).toEqual([ids.b]);
  expect((await rest("POST", `/${index}/_count`, { query: { match_all: {} } })).count).toBe(1);

  // The rule changes: the old version's tags must go, the new version's come.
  rule("CommandLine|contains: 'bee'");
  const second = await runBin(["apply", folder, "--name", pl, "--index", index, "--since", "2d", "--json"], env);
  expect(second.code, second.stderr).toBe(0);
  expect(JSON.parse(second.stdout).changes.changed.map((x: any) => x.id)).toEqual([ids.b]);
  const got = await tagsOf(index);
  expect(got.size).toBe(docs.length + 1);
  for (const d of docs) {
    const n = d.n as number;
    expect([n, got.get(n)]).toEqual([n, n % 4 === 0 ? [ids.b] : []]);
  }
  await dropInstall(pl);
  await rest("DELETE", `/${index}`);
}, 300_000);
