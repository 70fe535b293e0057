/**
 * "Ingest loses nothing", end to end with the compiled binary (dist/outliers) against the real node:
 * - raw evtx JSON (every regression event, and a mixed Sysmon + Security + Defender + WMI + System
 *   file) into an index WITHOUT our template: nothing refused (event data are strings, as Winlogbeat
 *   sends them), user data under winlog.user_data;
 * - a refused document is reported with its line and the server's reason, exit 1, the others are in;
 * - live tagging reaches Defender's spaced names, UserData fields and System 104's cleared channel;
 * - events already carrying a scalar `outliers`/`threat` or an object `tags` are kept, moved aside,
 *   by the live pipeline and, after uninstall (the mappings stay), by `ingest` itself;
 * - numbers beyond what JSON numbers carry exactly are kept as strings, with a warning naming the line;
 * - killed and run again: no duplicates; the node stopped mid-run: exit 3 (throwaway node on 9335).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { cluster, dropIndices, ES_URL, testIndex } from "../helpers/es.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const BIN = path.join(ROOT, "dist/outliers");
const REGRESSION = path.resolve(ROOT, "../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared)
  console.warn(
    `ingest-lossless: the regression part is skipped: ${REGRESSION} is missing (fresh clone without ../shared)`,
  );
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-lossless-"));
const indices: string[] = [];
const THROWAWAY_PORT = "9335";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// `--create`: these indices are new and no installed tagging reaches them (other tests may have tagging
// installed on the same node); ingest refuses such a target without it (it looks like a typo).
function spawn(args: string[], node = ES_URL) {
  const create = args[0] === "ingest" ? ["--create"] : [];
  return Bun.spawn([BIN, ...args, ...create, "--node", node], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
}
async function cli(...args: string[]): Promise<Run> {
  const p = spawn(args);
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}
async function count(index: string, node = ES_URL): Promise<number> {
  const r = await fetch(`${node}/${index}/_count`).catch(() => undefined);
  if (!r || !r.ok) return 0;
  return ((await r.json()) as { count: number }).count;
}

// ---- raw evtx events of several channels (written for this test) ----
const SYSMON = "Microsoft-Windows-Sysmon/Operational";
const DEFENDER = "Microsoft-Windows-Windows Defender/Operational";
const WMI = "Microsoft-Windows-WMI-Activity/Operational";
let record = 1000;
function raw(channel: string, provider: string, eventId: number, section: Record<string, unknown>): object {
  record++;
  return {
    Event: {
      "#attributes": { xmlns: "http://schemas.microsoft.com/win/2004/08/events/event" },
      System: {
        Provider: { "#attributes": { Name: provider } },
        EventID: eventId,
        TimeCreated: {
          "#attributes": { SystemTime: `2026-12-01T10:00:${String(record % 60).padStart(2, "0")}.000000Z` },
        },
        EventRecordID: record,
        Channel: channel,
        Computer: "ws1.corp.local",
      },
      ...section,
    },
  };
}
const EVENTS = {
  sysmon1: raw(SYSMON, "Microsoft-Windows-Sysmon", 1, {
    EventData: {
      Image: "C:\\Windows\\System32\\cmd.exe",
      CommandLine: "cmd.exe /c whoami",
      ProcessId: 8752,
      LogonId: "0x3e7",
      TerminalSessionId: 1,
    },
  }),
  sec4688: raw("Security", "Microsoft-Windows-Security-Auditing", 4688, {
    EventData: {
      NewProcessName: "C:\\Windows\\System32\\cmd.exe",
      NewProcessId: "0x2230",
      ProcessId: "0x378",
      TokenElevationType: "%%1936",
    },
  }),
  sec4624: raw("Security", "Microsoft-Windows-Security-Auditing", 4624, {
    EventData: { LogonType: 3, IpPort: "-", TargetUserName: "bob" },
  }),
  defender1116: raw(DEFENDER, "Microsoft-Windows-Windows Defender", 1116, {
    EventData: {
      "Product Name": "Microsoft Defender Antivirus",
      "Threat Name": "Virus:DOS/EICAR_Test_File",
      "Severity ID": 5,
      "Source Name": "AMSI",
      "Process Name": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
      Path: "amsi:_C:\\Users\\bob\\a.ps1",
    },
  }),
  wmi5858: raw(WMI, "Microsoft-Windows-WMI-Activity", 5858, {
    UserData: {
      Operation_ClientFailure: {
        "#attributes": { xmlns: "http://manifests.microsoft.com/win/2006/windows/WMI" },
        Id: "{00000000-0000-0000-0000-000000000000}",
        ClientMachine: "WS1",
        User: "CORP\\bob",
        ClientProcessId: 4040,
        Component: "Unknown",
        Operation:
          "Start IWbemServices::ExecMethod - root\\cimv2 : Win32_NTEventlogFile.Name='C:\\Windows\\System32\\Config\\Security.evtx'::ClearEventlog",
        ResultCode: "0x80041003",
        PossibleCause: "Unknown",
      },
    },
  }),
  system104: raw("System", "Microsoft-Windows-Eventlog", 104, {
    UserData: {
      LogFileCleared: {
        "#attributes": { xmlns: "http://manifests.microsoft.com/win/2004/08/windows/eventlog" },
        SubjectUserName: "bob",
        SubjectDomainName: "CORP",
        Channel: SYSMON,
        BackupPath: null,
      },
    },
  }),
};
/** The events back to back, pretty-printed like evtx_dump; returns the text and each event's start line. */
function evtxFile(names: (keyof typeof EVENTS)[]): { text: string; lines: Record<string, number> } {
  const lines: Record<string, number> = {};
  let text = "";
  for (const n of names) {
    lines[n] = text.split("\n").length;
    text += JSON.stringify(EVENTS[n], null, 2) + "\n";
  }
  return { text, lines };
}
const MIXED: (keyof typeof EVENTS)[] = ["sysmon1", "sec4688", "sec4624", "defender1116", "wmi5858", "system104"];

// ---- rules written for this test, one per name mapping ----
const RULES: Record<string, string> = {
  "defender_amsi_eicar.yml": `title: Defender AMSI EICAR
id: 7d1c7a52-0b1e-4a55-9c1e-000000000001
logsource: {product: windows, service: windefend}
detection:
  selection:
    EventID: 1116
    ThreatName|endswith: EICAR_Test_File
    SourceName: AMSI
  condition: selection
tags: [attack.execution, attack.t1059]
level: high
`,
  "wmi_clear_log.yml": `title: WMI clears an event log
id: 7d1c7a52-0b1e-4a55-9c1e-000000000002
logsource: {product: windows, service: wmi}
detection:
  selection:
    EventID: 5858
    Operation|contains|all: [Win32_NTEventlogFile, cleareventlog]
  condition: selection
level: high
`,
  "system_sysmon_cleared.yml": `title: Sysmon log cleared
id: 7d1c7a52-0b1e-4a55-9c1e-000000000003
logsource: {product: windows, service: system}
detection:
  selection:
    EventID: 104
    Channel: Microsoft-Windows-Sysmon/Operational
  condition: selection
level: high
`,
  "system_security_cleared.yml": `title: Security log cleared (System 104)
id: 7d1c7a52-0b1e-4a55-9c1e-000000000004
logsource: {product: windows, service: system}
detection:
  selection:
    EventID: 104
    Channel: Security
  condition: selection
level: high
`,
  "cmd.yml": `title: cmd started
id: 7d1c7a52-0b1e-4a55-9c1e-000000000005
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\\cmd.exe'
  condition: selection
tags: [attack.execution, attack.t1059.003]
level: low
`,
};

beforeAll(async () => {
  await cluster();
  if (!existsSync(BIN)) {
    const build = Bun.spawnSync(["bash", path.join(ROOT, "scripts/build")], { cwd: ROOT, stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/build failed: ${build.stderr.toString()}`);
  }
}, 180_000);
afterAll(async () => {
  await dropIndices(...indices);
  Bun.spawnSync(["bash", path.join(ROOT, "scripts/es-stop")], {
    cwd: ROOT,
    env: { ...process.env, ES_PORT: THROWAWAY_PORT },
    stderr: "pipe",
  });
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

async function sources(index: string): Promise<any[]> {
  const { client } = await cluster();
  const res: any = await client.search({ index, size: 1000, query: { match_all: {} } } as any);
  return res.hits.hits.map((h: any) => h._source);
}

describe("ingest into an index without our template", () => {
  test("a mixed Sysmon + Security + Defender + WMI + System file (and every regression event): nothing refused", async () => {
    const index = testIndex("lossless-dyn");
    indices.push(index);
    const mixed = evtxFile(MIXED);
    let text = mixed.text;
    let expected = MIXED.length;
    if (haveShared) {
      const files = [...new Glob("**/*.json").scanSync({ cwd: REGRESSION })].sort();
      for (const f of files) text += readFileSync(path.join(REGRESSION, f), "utf8").trimEnd() + "\n";
      expected += 108;
    }
    const file = path.join(tmp, "mixed.json");
    writeFileSync(file, text);
    const r = await cli("ingest", file, "--index", index, "--format", "evtx-json", "--batch", "40");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${expected} of ${expected} document(s) indexed into ${index} (0 failed)`);
    expect(await count(index)).toBe(expected);

    const { client } = await cluster();
    const mapping: any = await client.indices.getMapping({ index });
    const ed = mapping[index].mappings.properties.winlog.properties.event_data.properties;
    // Sysmon's 8752 came first: still a string field, so Security's "0x378" was taken.
    expect(ed.ProcessId.type).toBe("text");
    expect(ed["Threat Name"].type).toBe("text");
    const docs = await sources(index);
    const wmi = docs.find((d) => d.winlog.event_id === 5858);
    expect(wmi.winlog.user_data.Operation).toContain("ClearEventlog");
    expect(wmi.winlog.user_data.ClientProcessId).toBe("4040");
    expect(wmi.winlog.user_data.xml_name).toBe("Operation_ClientFailure");
    const sys104 = docs.find((d) => d.winlog.event_id === 104);
    expect(sys104.winlog.user_data).toEqual({
      SubjectUserName: "bob",
      SubjectDomainName: "CORP",
      Channel: SYSMON,
      xml_name: "LogFileCleared",
    });
    const sec = docs.find((d) => d.winlog.event_id === 4688);
    expect(sec.winlog.event_data.ProcessId).toBe("0x378");
  }, 120_000);

  test("a refused document is reported with its line and the server's reason, exit 1, --errors FILE; the others are indexed", async () => {
    const { client } = await cluster();
    const index = testIndex("lossless-refuse");
    indices.push(index);
    // A mapping conflict made on purpose: Defender's threat name as a number.
    await client.indices.create({
      index,
      settings: { number_of_replicas: 0 },
      mappings: {
        properties: { winlog: { properties: { event_data: { properties: { "Threat Name": { type: "long" } } } } } },
      },
    } as any);
    const mixed = evtxFile(MIXED);
    const file = path.join(tmp, "refuse.json");
    writeFileSync(file, mixed.text);
    const errors = path.join(tmp, "refuse-errors.ndjson");
    const r = await cli("ingest", file, "--index", index, "--format", "evtx-json", "--errors", errors);
    expect(r.code).toBe(1);
    const line = mixed.lines.defender1116!;
    expect(r.stderr.split("\n")[0]).toStartWith(
      `${file}:${line}: mapper_parsing_exception: failed to parse field [winlog.event_data.Threat Name] of type [long]`,
    );
    expect(r.stdout).toContain(`${MIXED.length - 1} of ${MIXED.length} document(s) indexed into ${index} (1 failed)`);
    const reported = readFileSync(errors, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(reported).toEqual([{ file, line, error: expect.stringContaining("Threat Name") }]);
    expect(await count(index)).toBe(MIXED.length - 1);
  }, 60_000);

  test("numbers a JSON number cannot carry exactly are kept as strings, with a warning naming the line", async () => {
    const index = testIndex("lossless-big");
    indices.push(index);
    const file = path.join(tmp, "big.ndjson");
    const lines = [
      '{"n": 1, "id": "a"}',
      '{"n": 9007199254740993, "id": "b"}',
      '{"big": 18446744073709551615, "id": "c"}',
      '{"x": {"f": 1e400}, "id": "d"}',
      '{"n": 18446744073709551615, "id": "e"}',
    ];
    writeFileSync(file, lines.join("\n") + "\n");
    const r = await cli("ingest", file, "--index", index, "--json");
    const out = JSON.parse(r.stdout);
    expect(out.warnings).toEqual([
      {
        line: 2,
        warning:
          'n: the number 9007199254740993 does not fit a JSON number exactly; sent as the string "9007199254740993"',
      },
      {
        line: 3,
        warning:
          'big: the number 18446744073709551615 does not fit a JSON number exactly; sent as the string "18446744073709551615"',
      },
      { line: 4, warning: 'x.f: the number 1e400 does not fit a JSON number exactly; sent as the string "1e400"' },
      { line: 5, warning: expect.stringContaining("18446744073709551615") },
    ]);
    // `n` is a long (line 1): the exact string of line 2 is taken as that long, unchanged; line 5's
    // value is beyond a long, and Elasticsearch says so (it is not stored rounded).
    expect(r.code).toBe(1);
    expect(out.errors).toEqual([{ line: 5, error: expect.stringContaining("mapper_parsing_exception") }]);
    const docs = await sources(index);
    expect(docs.find((d) => d.id === "b").n).toBe("9007199254740993");
    expect(docs.find((d) => d.id === "c").big).toBe("18446744073709551615");
    expect(docs.find((d) => d.id === "d").x.f).toBe("1e400");
    const { client } = await cluster();
    expect(((await client.count({ index, query: { term: { n: "9007199254740993" } } } as any)) as any).count).toBe(1);
    const human = await cli("ingest", file, "--index", index);
    expect(human.stderr).toContain(`outliers: warning: ${file}:3: big: the number 18446744073709551615`);
  }, 60_000);
});

describe("live tagging of Windows' own names, and values that clash with the tag fields", () => {
  const rulesDir = path.join(tmp, "rules");
  const prefix = testIndex("lossless-live");
  const name = `lossless-${Date.now().toString(36)}`;
  const index = `${prefix}-a`;

  test("Defender's spaced names, UserData fields and System 104's cleared channel are tagged", async () => {
    mkdirSync(rulesDir, { recursive: true });
    for (const [f, body] of Object.entries(RULES)) writeFileSync(path.join(rulesDir, f), body);
    indices.push(index);
    const inst = await cli("pipeline", "install", rulesDir, "--name", name, "--index", `${prefix}-*`);
    expect(inst.code).toBe(0);
    const mixed = evtxFile(MIXED);
    const file = path.join(tmp, "live.json");
    writeFileSync(file, mixed.text);
    const r = await cli("ingest", file, "--index", index, "--format", "evtx-json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const byId = new Map((await sources(index)).map((d) => [d.winlog.event_id, d]));
    const ids = (eid: number) => byId.get(eid)?.outliers?.rule_id ?? [];
    expect(ids(1116)).toEqual(["7d1c7a52-0b1e-4a55-9c1e-000000000001"]);
    expect(ids(5858)).toEqual(["7d1c7a52-0b1e-4a55-9c1e-000000000002"]);
    expect(ids(104)).toEqual(["7d1c7a52-0b1e-4a55-9c1e-000000000003"]);
    expect(ids(1)).toEqual(["7d1c7a52-0b1e-4a55-9c1e-000000000005"]);
    expect(ids(4688)).toEqual(["7d1c7a52-0b1e-4a55-9c1e-000000000005"]);
    expect(ids(4624)).toEqual([]);
  }, 120_000);

  const clashing = (tag: string) =>
    [
      {
        n: `${tag}-1`,
        outliers: "legacy verdict",
        winlog: { channel: SYSMON, event_id: 1, event_data: { Image: "C:\\Windows\\System32\\cmd.exe" } },
      },
      {
        n: `${tag}-2`,
        threat: "high",
        tags: { team: "red" },
        winlog: { channel: SYSMON, event_id: 1, event_data: { Image: "C:\\x\\cmd.exe" } },
      },
      { n: `${tag}-3`, threat: { technique: "T0000" }, tags: ["a", { b: 1 }] },
      { n: `${tag}-4`, outliers: 7, tags: ["kept"] },
    ]
      .map((d) => JSON.stringify(d))
      .join("\n") + "\n";
  const checkAside = (docs: any[], tag: string) => {
    const by = new Map(docs.map((d) => [d.n, d]));
    expect(by.get(`${tag}-1`).outliers_original).toEqual({ outliers: "legacy verdict" });
    expect(by.get(`${tag}-2`).outliers_original).toEqual({ threat: "high", tags: '{"team":"red"}' });
    expect(by.get(`${tag}-3`).outliers_original).toEqual({ threat_technique: "T0000", tags: '["a",{"b":1}]' });
    expect(by.get(`${tag}-4`).outliers_original).toEqual({ outliers: "7" });
    expect(by.get(`${tag}-4`).tags).toEqual(["kept"]);
  };

  test("events with a scalar outliers/threat or an object tags are indexed, the values moved to outliers_original, and tagged", async () => {
    const file = path.join(tmp, "clash-live.ndjson");
    writeFileSync(file, clashing("live"));
    const r = await cli("ingest", file, "--index", index);
    expect(r.code).toBe(0);
    const docs = (await sources(index)).filter((d) => String(d.n).startsWith("live-"));
    expect(docs.length).toBe(4);
    checkAside(docs, "live");
    const by = new Map(docs.map((d) => [d.n, d]));
    expect(by.get("live-1").outliers.rule_id).toEqual(["7d1c7a52-0b1e-4a55-9c1e-000000000005"]);
    expect(by.get("live-2").tags).toEqual(["outlier"]);
    expect(by.get("live-2").threat.technique.id).toEqual(["T1059.003"]);
  }, 60_000);

  test("after uninstall the mappings stay; ingest itself moves the clashing values aside", async () => {
    const un = await cli("pipeline", "uninstall", "--name", name);
    expect(un.code, un.stderr).toBe(0);
    const file = path.join(tmp, "clash-after.ndjson");
    writeFileSync(file, clashing("after"));
    const r = await cli("ingest", file, "--index", index);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `outliers: warning: ${file}:1: outliers: clashed with the tag fields' mappings; moved to outliers_original`,
    );
    const docs = (await sources(index)).filter((d) => String(d.n).startsWith("after-"));
    expect(docs.length).toBe(4);
    checkAside(docs, "after");
    // No pipeline any more: nothing tagged.
    expect(docs.every((d) => d.outliers === undefined)).toBe(true);
  }, 60_000);
});

/** NDJSON of n small documents, a few of them identical (identical lines stay distinct documents). */
function bigFile(file: string, n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(i % 1000 === 0 ? '{"same": true}' : JSON.stringify({ i, msg: `event ${i}` }));
  writeFileSync(file, lines.join("\n") + "\n");
}

describe("interrupted runs", () => {
  test("killed and run again: every document exactly once", async () => {
    const index = testIndex("lossless-kill");
    indices.push(index);
    const file = path.join(tmp, "kill.ndjson");
    const N = 30_000;
    bigFile(file, N);
    const p = spawn(["ingest", file, "--index", index, "--batch", "50"]);
    while ((await count(index)) === 0 && p.exitCode === null) await Bun.sleep(50);
    p.kill("SIGKILL");
    await p.exited;
    expect(p.signalCode).toBe("SIGKILL");
    const first = await count(index);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(N);
    const again = await cli("ingest", file, "--index", index, "--json");
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out.existing).toBeGreaterThanOrEqual(first);
    expect(out.indexed + out.existing).toBe(N);
    expect(await count(index)).toBe(N);
    // And once more: nothing new.
    const third = JSON.parse((await cli("ingest", file, "--index", index, "--json")).stdout);
    expect([third.indexed, third.existing]).toEqual([0, N]);
    // --no-ids: Elasticsearch's own ids, so a re-run adds them again (what the option says).
    const small = path.join(tmp, "small.ndjson");
    writeFileSync(small, '{"a": 1}\n{"a": 2}\n');
    const idx2 = testIndex("lossless-noids");
    indices.push(idx2);
    for (let k = 0; k < 2; k++) expect((await cli("ingest", small, "--index", idx2, "--no-ids")).code).toBe(0);
    expect(await count(idx2)).toBe(4);
    // --id-field: the ids come from the documents.
    const idx3 = testIndex("lossless-idfield");
    indices.push(idx3);
    writeFileSync(small, '{"k": "x", "a": 1}\n{"k": "y", "a": 2}\n{"a": 3}\n');
    const byField = await cli("ingest", small, "--index", idx3, "--id-field", "k");
    expect(byField.code).toBe(1);
    expect(byField.stderr).toContain(`${small}:3: --id-field k: the document has no string or number there`);
    const { client } = await cluster();
    expect(((await client.get({ index: idx3, id: "y" })) as any)._source).toEqual({ k: "y", a: 2 });
  }, 150_000);

  test("the node stops in the middle of a run: exit 3, saying how far it got", async () => {
    const start = Bun.spawnSync(["bash", path.join(ROOT, "scripts/es-start")], {
      cwd: ROOT,
      env: { ...process.env, ES_PORT: THROWAWAY_PORT, ES_HEAP: "512m" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(start.exitCode).toBe(0);
    const url = start.stdout.toString().trim().split("\n").pop()!;
    expect(url).toBe(`http://127.0.0.1:${THROWAWAY_PORT}`);
    const file = path.join(tmp, "dies.ndjson");
    const N = 60_000;
    bigFile(file, N);
    const index = "lossless-dies";
    const started = Date.now();
    const p = spawn(["ingest", file, "--index", index, "--batch", "50"], url);
    while ((await count(index, url)) === 0 && p.exitCode === null) await Bun.sleep(50);
    expect(p.exitCode).toBeNull();
    const stopped = Date.now();
    Bun.spawnSync(["bash", path.join(ROOT, "scripts/es-stop")], {
      cwd: ROOT,
      env: { ...process.env, ES_PORT: THROWAWAY_PORT },
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    console.log(
      `ingest ran ${((stopped - started) / 1000).toFixed(1)}s, exited ${((Date.now() - stopped) / 1000).toFixed(1)}s after the node was told to stop`,
    );
    expect(code).toBe(3);
    expect(stderr).toMatch(
      new RegExp(
        `outliers: http://127\\.0\\.0\\.1:${THROWAWAY_PORT}: bulk into ${index}: .*; stopped after \\d+ of ${N} document\\(s\\); run the same command again to send the rest`,
      ),
    );
    expect(stdout).toMatch(new RegExp(`^\\d+ of ${N} document\\(s\\) indexed into ${index}`));
  }, 180_000);
});
