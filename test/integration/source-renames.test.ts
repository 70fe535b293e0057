/**
 * Issue 17 item 6: the Security 4688 names of process_creation fields (NewProcessName,
 * ParentProcessName, TargetLogonId) apply only to 4688 events, the Sysmon 1 names (Image, ParentImage,
 * LogonId) only to Sysmon 1 events, with and without `not`. Mixed events whose names cross (a Sysmon 1
 * event carrying NewProcessName, a 4688 event carrying Image) are tagged live (the pipeline
 * `compile --target pipeline` writes), by `backfill`, by `scan`, and selected by `compile --target dsl`'s
 * queries, all alike and exactly as expected. Everything through the compiled binary.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cluster, dropIndices, ES_URL } from "../helpers/es.ts";
import { PROFILE, ROOT, sources, stateDir } from "../helpers/backfill-fixture.ts";

const BIN = path.join(ROOT, "dist/outliers");
const tmp = mkdtempSync(path.join(tmpdir(), "evade-renames-"));

const RULES: Record<string, string> = {
  img: `sel: {Image|endswith: '\\powershell.exe'}\n  condition: sel`,
  notExe: `sel: {CommandLine|contains: 'evade'}\n  exe: {Image|endswith: '.exe'}\n  condition: sel and not exe`,
  parent: `sel: {ParentImage|endswith: '\\cmd.exe'}\n  condition: sel`,
  logon: `sel: {LogonId: '0x3e7'}\n  condition: sel`,
  noImage: `sel: {CommandLine|contains: 'evade'}\n  img: {Image: null}\n  condition: sel and img`,
};
const ruleId = (name: string) =>
  `0e7a0000-0000-4000-8000-${Buffer.from(name).toString("hex").padEnd(12, "0").slice(0, 12)}`;
const RULE_FILES = Object.entries(RULES).map(([name, det]) => {
  const f = path.join(tmp, `${name}.yml`);
  writeFileSync(
    f,
    `title: evade ${name}\nid: ${ruleId(name)}\nlogsource: {product: windows, category: process_creation}\ndetection:\n  ${det}\n`,
  );
  return f;
});

const SYSMON = { channel: "Microsoft-Windows-Sysmon/Operational", event_id: 1 };
const SEC = { channel: "Security", event_id: 4688 };
/** event → its source, its event data, and the rules that must tag it (each through its own source's names). */
const CASES: Record<string, { src: object; data: Record<string, string>; want: string[] }> = {
  s1Image: { src: SYSMON, data: { Image: "C:\\W\\powershell.exe", CommandLine: "x" }, want: ["img"] },
  // a 4688 name on a Sysmon event: not a match (before: tagged through NewProcessName)
  s1NewProcessName: { src: SYSMON, data: { NewProcessName: "C:\\W\\powershell.exe", CommandLine: "x" }, want: [] },
  // `not Image|endswith .exe` on Sysmon looks at Image only (before: NewProcessName stopped it firing)
  s1CrossNot: {
    src: SYSMON,
    data: { Image: "C:\\x\\evade.txt", NewProcessName: "C:\\x\\evade.exe", CommandLine: "evade" },
    want: ["notExe"],
  },
  // `Image: null` on Sysmon: its Image is missing, whatever 4688 name it carries
  s1NoImage: {
    src: SYSMON,
    data: { NewProcessName: "C:\\x\\evade.exe", CommandLine: "evade" },
    want: ["notExe", "noImage"],
  },
  s1ParentProcessName: { src: SYSMON, data: { ParentProcessName: "C:\\W\\cmd.exe" }, want: [] },
  s1ParentImage: { src: SYSMON, data: { ParentImage: "C:\\W\\cmd.exe" }, want: ["parent"] },
  s1TargetLogonId: { src: SYSMON, data: { TargetLogonId: "0x3e7" }, want: [] },
  s1LogonId: { src: SYSMON, data: { LogonId: "0x3e7" }, want: ["logon"] },
  secNewProcessName: { src: SEC, data: { NewProcessName: "C:\\W\\powershell.exe" }, want: ["img"] },
  // a Sysmon name on a 4688 event: not a match
  secImage: { src: SEC, data: { Image: "C:\\W\\powershell.exe", NewProcessName: "C:\\W\\notepad.exe" }, want: [] },
  secCrossNot: {
    src: SEC,
    data: { NewProcessName: "C:\\x\\evade.txt", Image: "C:\\x\\evade.exe", CommandLine: "evade" },
    want: ["notExe"],
  },
  secNoNewProcessName: {
    src: SEC,
    data: { Image: "C:\\x\\evade.exe", CommandLine: "evade" },
    want: ["notExe", "noImage"],
  },
  secParentProcessName: { src: SEC, data: { ParentProcessName: "C:\\W\\cmd.exe" }, want: ["parent"] },
  secParentImage: { src: SEC, data: { ParentImage: "C:\\W\\cmd.exe" }, want: [] },
  secTargetLogonId: { src: SEC, data: { TargetLogonId: "0x3e7" }, want: ["logon"] },
  secLogonId: { src: SEC, data: { LogonId: "0x3e7" }, want: [] },
};
const FILE = path.join(tmp, "events.ndjson");
writeFileSync(
  FILE,
  Object.entries(CASES)
    .map(([id, c], i) =>
      JSON.stringify({
        "@timestamp": new Date(Date.now() - 3_600_000).toISOString(),
        evade_case: id,
        winlog: { ...c.src, record_id: i, computer_name: "evade", event_data: c.data },
      }),
    )
    .join("\n") + "\n",
);
const expected: Record<string, string[]> = Object.fromEntries(
  Object.entries(CASES).map(([id, c]) => [id, c.want.map(ruleId).sort()]),
);

async function bin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([BIN, ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, OUTLIERS_STATE_DIR: stateDir() },
  });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, stdout, stderr };
}

function tagsOf(docs: Iterable<any>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of docs) out[d.evade_case] = [...(d.outliers?.rule_id ?? [])].sort();
  return out;
}

const LIVE = "evade-renames-live";
const PLAIN = "evade-renames-bf";
const PIPELINE = "evade-renames";

beforeAll(async () => {
  const { client } = await cluster();
  await dropIndices(LIVE, PLAIN);
  const compiled = await bin(["compile", "--target", "pipeline", ...RULE_FILES]);
  expect(compiled.code).toBe(0);
  await client.ingest.putPipeline({ id: PIPELINE, ...JSON.parse(compiled.stdout) } as any);
  const { settings, mappings } = PROFILE.indexTemplate();
  await client.indices.create({
    index: LIVE,
    settings: { ...settings, "index.default_pipeline": PIPELINE },
    mappings,
  } as any);
  await client.indices.create({ index: PLAIN, settings, mappings } as any);
  for (const index of [LIVE, PLAIN])
    expect((await bin(["ingest", FILE, "--index", index, "--create", "--node", ES_URL])).code).toBe(0);
}, 600_000);

afterAll(async () => {
  await dropIndices(LIVE, PLAIN);
  const { client } = await cluster();
  await client.ingest.deletePipeline({ id: PIPELINE }).catch(() => {});
});

describe("per-source field names (Sysmon 1 vs Security 4688), names crossed", () => {
  test("scan tags each event only through its own source's names", async () => {
    const s = await bin(["scan", ...RULE_FILES, "--events", FILE, "--json", "--all"]);
    expect(s.code).toBe(0);
    expect(
      tagsOf(
        s.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ),
    ).toEqual(expected);
  });

  test("live tagging = scan", async () => {
    expect(tagsOf((await sources(LIVE)).values())).toEqual(expected);
  });

  test("backfill = scan", async () => {
    const r = await bin(["backfill", ...RULE_FILES, "--since", "2d", "--index", PLAIN, "--json", "--node", ES_URL]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(tagsOf((await sources(PLAIN)).values())).toEqual(expected);
  });

  test("compile --target dsl: each rule's query selects the same events", async () => {
    const { client } = await cluster();
    const out = await bin(["compile", "--target", "dsl", ...RULE_FILES]);
    expect(out.code).toBe(0);
    const queries = JSON.parse(out.stdout) as Record<string, { query: object }>;
    const got: Record<string, string[]> = Object.fromEntries(Object.keys(CASES).map((id) => [id, [] as string[]]));
    for (const [id, { query }] of Object.entries(queries)) {
      const res: any = await client.search({ index: PLAIN, size: 100, _source: ["evade_case"], query } as any);
      for (const h of res.hits.hits) got[h._source.evade_case]!.push(id);
    }
    for (const k of Object.keys(got)) got[k]!.sort();
    expect(got).toEqual(expected);
  });
});
