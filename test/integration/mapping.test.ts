/**
 * The profiles' index templates on the real Elasticsearch: create an index with each template,
 * index winlogbeat-shaped events (some built from raw evtx JSON by src/events/evtx-json.ts), and check
 * the resulting field types and that logsource guards, mapped fields, keyword fields and typed
 * predicates select exactly the expected events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { evtxToWinlogbeat } from "../../src/events/evtx-json.ts";
import { nodeToQuery } from "../../src/emit/dsl.ts";
import { or } from "../../src/ir/build.ts";
import type { Field, Node, WildcardPart } from "../../src/ir/types.ts";
import { isUnsupported, loadProfile, type Profile } from "../../src/mapping/index.ts";
import type { Logsource } from "../../src/mapping/profile.ts";
import { cluster, dropIndices, testIndex } from "../helpers/es.ts";
import { createIndexWithDocs, matchIds } from "../helpers/match.ts";

const SYSMON = "Microsoft-Windows-Sysmon/Operational";
const LONG = "C:\\x.exe " + "a".repeat(9000);

function raw(channel: string, id: number, data: Record<string, unknown>, time = "2026-11-01T10:00:00.000Z") {
  return {
    Event: {
      System: {
        Provider: { "#attributes": { Name: "P" } },
        EventID: id,
        Channel: channel,
        Computer: "host1",
        EventRecordID: 7,
        TimeCreated: { "#attributes": { SystemTime: time } },
      },
      EventData: data,
    },
  };
}

/** Winlogbeat-shaped documents, keyed by id. */
const winlogbeatDocs: Record<string, Record<string, unknown>> = {
  sysmon1: evtxToWinlogbeat(
    raw(SYSMON, 1, {
      Image: "C:\\Windows\\System32\\cmd.exe",
      CommandLine: "cmd.exe /c whoami",
      ParentImage: "C:\\Windows\\explorer.exe",
      ProcessId: 8752,
      OriginalFileName: "Cmd.Exe",
    }),
  ),
  sec4688: evtxToWinlogbeat(
    raw("Security", 4688, {
      NewProcessName: "C:\\Windows\\System32\\cmd.exe",
      ParentProcessName: "C:\\Windows\\System32\\services.exe",
      CommandLine: "cmd /c net user",
      NewProcessId: "0x2230",
    }),
  ),
  sec4624: evtxToWinlogbeat(raw("Security", 4624, { IpAddress: "-", LogonType: 3, TargetUserName: "bob" })),
  sysmon3: evtxToWinlogbeat(
    raw(SYSMON, 3, { Image: "C:\\x\\evil.exe", DestinationIp: "10.1.2.3", SourceIp: "fe80::1", DestinationPort: 445 }),
  ),
  sysmon11: evtxToWinlogbeat(raw(SYSMON, 11, { Image: "C:\\x\\y.exe", TargetFilename: "C:\\Users\\Public\\a.bat" })),
  ps4104: evtxToWinlogbeat(
    raw("Microsoft-Windows-PowerShell/Operational", 4104, { ScriptBlockText: "Invoke-Mimikatz -DumpCreds" }),
  ),
  ps400: evtxToWinlogbeat({
    Event: {
      System: { EventID: 400, Channel: "Windows PowerShell", Provider: { "#attributes": { Name: "PowerShell" } } },
      EventData: { Data: ["Available", "None", "NewEngineState=Available HostApplication=powershell.exe -enc AAAA"] },
    },
  }),
  longcmd: evtxToWinlogbeat(raw(SYSMON, 1, { Image: "C:\\x.exe", CommandLine: LONG })),
  // ignore_above counts UTF-16 code units: 8191 is indexed, 8192 is not, 4096 astral chars are 8192.
  len8191: evtxToWinlogbeat(raw(SYSMON, 1, { CommandLine: "b".repeat(8191) })),
  len8192: evtxToWinlogbeat(raw(SYSMON, 1, { CommandLine: "b".repeat(8192) })),
  astral: evtxToWinlogbeat(raw(SYSMON, 1, { CommandLine: "\u{1F600}".repeat(4096) })),
  // A document in Winlogbeat's own shape with a rendered message (not from evtx).
  withMessage: {
    "@timestamp": "2026-11-01T10:00:00Z",
    message: "The Audit-CVE provider reported CVE-2020-0601",
    winlog: { channel: "Application", event_id: "1", provider_name: "Microsoft-Windows-Audit-CVE" },
  },
  tagged: {
    "@timestamp": "2026-11-01T10:00:00Z",
    winlog: { channel: "System", event_id: 7045 },
    tags: ["outlier"],
    outliers: {
      rule_id: ["r1"],
      type: ["Sigma hit", "attack.t1140"],
      reason: ["Sigma hit - X"],
      summary: ["Sigma hit - X"],
      model_name: ["x"],
      model_type: ["sigma"],
      total_outliers: 1,
    },
    threat: { technique: { id: ["T1140"] } },
  },
};

const wb = loadProfile("winlogbeat");
let index = "";

function guard(p: Profile, ls: Logsource): Node {
  const t = p.logsource(ls);
  if (isUnsupported(t)) throw new Error(t.unsupported);
  return t.guard;
}
function fields(p: Profile, name: string, ls: Logsource): Field[] {
  const f = p.field(name, ls);
  if (isUnsupported(f)) throw new Error(f.unsupported);
  return f;
}
const lit = (s: string): WildcardPart => ({ lit: s });
const ANY: WildcardPart = { any: true };

async function ids(...nodes: Node[]): Promise<Array<string[] | { error: string }>> {
  return matchIds(
    index,
    nodes.map((n) => nodeToQuery(n)),
  );
}

describe("winlogbeat template on the real node", () => {
  beforeAll(async () => {
    index = testIndex("mapping-wb");
    await createIndexWithDocs(index, wb.indexTemplate(), winlogbeatDocs);
  }, 120_000);
  afterAll(async () => {
    await dropIndices(index);
  });

  test("field types after indexing", async () => {
    const { client } = await cluster();
    const r: any = await client.indices.getMapping({ index });
    const props = r[index].mappings.properties;
    const ed = props.winlog.properties.event_data.properties;
    expect(props.winlog.properties.event_id.type).toBe("long");
    expect(props.winlog.properties.channel.type).toBe("keyword");
    expect(ed.Image).toEqual({ type: "keyword", ignore_above: 8191 });
    // numbers in event data are indexed as keywords (their JSON text)
    expect(ed.ProcessId).toEqual({ type: "keyword", ignore_above: 8191 });
    expect(ed.param3).toEqual({ type: "keyword", ignore_above: 8191 });
    expect(ed.DestinationIp.type).toBe("ip");
    expect(ed.IpAddress.type).toBe("ip");
    expect(props.message.type).toBe("text");
    expect(props["@timestamp"].type).toBe("date");
    expect(props.outliers.properties.total_outliers.type).toBe("integer");
    expect(props.event.properties.code.type).toBe("keyword");
  });

  test("logsource guards select exactly their events", async () => {
    const r = await ids(
      guard(wb, { product: "windows", category: "process_creation" }),
      guard(wb, { product: "windows", category: "network_connection" }),
      guard(wb, { product: "windows", category: "file_event" }),
      guard(wb, { product: "windows", service: "security" }),
      guard(wb, { product: "windows", category: "ps_script" }),
      guard(wb, { product: "windows", category: "ps_classic_start" }),
      guard(wb, { product: "windows", service: "system" }),
      guard(wb, { product: "windows", category: "process_creation", service: "security" }),
    );
    expect(r).toEqual([
      ["astral", "len8191", "len8192", "longcmd", "sec4688", "sysmon1"],
      ["sysmon3"],
      ["sysmon11"],
      ["sec4624", "sec4688"],
      ["ps4104"],
      ["ps400"],
      ["tagged"],
      ["sec4688"],
    ]);
  });

  test("process_creation fields reach Sysmon 1 and Security 4688 events alike", async () => {
    const pc = { product: "windows", category: "process_creation" };
    const suffix = (name: string, v: string): Node =>
      or(fields(wb, name, pc).map((field) => ({ kind: "suffix", field, value: v, cased: false }) as Node));
    const r = await ids(
      suffix("Image", "\\CMD.exe"),
      suffix("ParentImage", "\\services.exe"),
      suffix("OriginalFileName", "cmd.exe"),
    );
    expect(r).toEqual([["sec4688", "sysmon1"], ["sec4688"], ["sysmon1"]]);
  });

  test("numbers in event data match as text; event_id as number", async () => {
    const [pid] = fields(wb, "ProcessId", { product: "windows", category: "process_creation" });
    const [lt] = fields(wb, "LogonType", { product: "windows", service: "security" });
    const [eid] = fields(wb, "EventID", { product: "windows", service: "security" });
    const r = await ids(
      { kind: "equals", field: pid!, value: "8752", cased: false },
      { kind: "number", field: lt!, op: "eq", value: 3 },
      { kind: "number", field: eid!, op: "eq", value: 4624 },
      { kind: "number", field: eid!, op: "gte", value: 4104 },
    );
    // event_id "1" (a string in the withMessage doc) is a long 1 once indexed
    expect(r).toEqual([["sysmon1"], ["sec4624"], ["sec4624"], ["ps4104", "sec4624", "sec4688", "tagged"]]);
  });

  test("ip fields: cidr on the address, string predicates through the keyword sub-field", async () => {
    const nc = { product: "windows", category: "network_connection" };
    const [dst] = fields(wb, "DestinationIp", nc);
    const [src] = fields(wb, "SourceIp", nc);
    const r = await ids(
      { kind: "cidr", field: dst!, cidr: "10.0.0.0/8" },
      { kind: "cidr", field: dst!, cidr: "192.168.0.0/16" },
      { kind: "cidr", field: src!, cidr: "fe80::/10" },
    );
    expect(r).toEqual([["sysmon3"], [], ["sysmon3"]]);
    // A malformed address (`-`) does not reject the document and stays searchable as text.
    const [ip] = fields(wb, "IpAddress", { product: "windows", service: "security" });
    expect(ip).toEqual({ name: "winlog.event_data.IpAddress", type: "ip", keywordSubfield: "keyword" });
    const m = await matchIds(index, [
      { term: { [`${ip!.name}.${ip!.keywordSubfield}`]: "-" } },
      { term: { [`${dst!.name}.${dst!.keywordSubfield}`]: "10.1.2.3" } },
      { exists: { field: ip!.name } },
    ]);
    expect(m).toEqual([["sec4624"], ["sysmon3"], []]);
  });

  test("Data searches the unnamed params", async () => {
    const f = fields(wb, "Data", { product: "windows", category: "ps_classic_start" });
    const r = await ids(
      or(f.map((field) => ({ kind: "contains", field, value: "HostApplication=powershell", cased: false }) as Node)),
    );
    expect(r).toEqual([["ps400"]]);
  });

  test("keyword search over keywordFields", async () => {
    const kw = (ls: Logsource, v: string): Node => ({
      kind: "keyword",
      fields: wb.keywordFields(ls),
      parts: [ANY, lit(v), ANY],
      cased: false,
    });
    const r = await ids(
      kw({ product: "windows", category: "process_creation" }, "whoami"),
      kw({ product: "windows", category: "process_creation" }, "net user"),
      kw({ product: "windows", service: "application" }, "cve-2020-0601"),
      kw({ product: "windows" }, "mimikatz"),
    );
    expect(r).toEqual([["sysmon1"], ["sec4688"], ["withMessage"], ["ps4104"]]);
  });

  test("a keyword value longer than 8191 characters is kept but not indexed", async () => {
    const [cmd] = fields(wb, "CommandLine", { product: "windows", category: "process_creation" });
    const r = await ids(
      { kind: "contains", field: cmd!, value: "aaaa", cased: false },
      { kind: "prefix", field: cmd!, value: "C:\\x.exe", cased: false },
      { kind: "exists", field: cmd!, exists: true },
      { kind: "prefix", field: cmd!, value: "bbb", cased: false },
    );
    expect(r).toEqual([[], [], ["len8191", "sec4688", "sysmon1"], ["len8191"]]);
    const { client } = await cluster();
    const doc: any = await client.get({ index, id: "longcmd" });
    expect(doc._source.winlog.event_data.CommandLine).toBe(LONG);
  });

  test("a sigmac mapping file's logsource conditions select the same events", async () => {
    const sigmac = loadProfile(path.resolve(import.meta.dir, "../fixtures/mapping/sigmac-example.yml"));
    const [cmd] = fields(sigmac, "CommandLine", { product: "windows", category: "process_creation" });
    const r = await ids(
      guard(sigmac, { product: "windows", category: "process_creation" }),
      guard(sigmac, { product: "windows", service: "sysmon" }),
      { kind: "contains", field: cmd!, value: "WHOAMI", cased: false },
    );
    expect(r).toEqual([
      ["astral", "len8191", "len8192", "longcmd", "sec4688", "sysmon1"],
      ["astral", "len8191", "len8192", "longcmd", "sysmon1", "sysmon11", "sysmon3"],
      ["sysmon1"],
    ]);
  });

  test("tag fields", async () => {
    const m = await matchIds(index, [
      { term: { "outliers.rule_id": "r1" } },
      { term: { "threat.technique.id": "T1140" } },
      { term: { tags: "outlier" } },
      { range: { "outliers.total_outliers": { gte: 1 } } },
    ]);
    expect(m).toEqual([["tagged"], ["tagged"], ["tagged"], ["tagged"]]);
  });
});

describe("ecs template on the real node", () => {
  const ecs = loadProfile("ecs");
  let ecsIndex = "";
  const ecsDocs: Record<string, Record<string, unknown>> = {
    proc: {
      "@timestamp": "2026-11-01T10:00:00Z",
      event: { code: "1" },
      winlog: { channel: SYSMON, event_id: 1 },
      process: { executable: "C:\\Windows\\System32\\rundll32.exe", command_line: "rundll32 x.dll,Start", pid: 4242 },
    },
    proc4688: {
      "@timestamp": "2026-11-01T10:00:00Z",
      event: { code: "4688" },
      winlog: { channel: "Security", event_id: 4688 },
      process: { executable: "C:\\Windows\\System32\\rundll32.exe", pid: 17 },
    },
    net: {
      "@timestamp": "2026-11-01T10:00:00Z",
      event: { code: "3" },
      winlog: { channel: SYSMON, event_id: 3 },
      destination: { ip: "172.16.5.4", port: 445 },
      source: { ip: "-" },
    },
    ps: {
      "@timestamp": "2026-11-01T10:00:00Z",
      event: { code: "4104" },
      winlog: { channel: "Microsoft-Windows-PowerShell/Operational", event_id: 4104 },
      powershell: { file: { script_block_text: "IEX (New-Object Net.WebClient).DownloadString('x')" } },
    },
  };

  beforeAll(async () => {
    ecsIndex = testIndex("mapping-ecs");
    await createIndexWithDocs(ecsIndex, ecs.indexTemplate(), ecsDocs);
  }, 120_000);
  afterAll(async () => {
    await dropIndices(ecsIndex);
  });

  test("guards, ECS fields and types select exactly", async () => {
    const pc = { product: "windows", category: "process_creation" };
    const nc = { product: "windows", category: "network_connection" };
    const [img] = fields(ecs, "Image", pc);
    const [dst] = fields(ecs, "DestinationIp", nc);
    const [port] = fields(ecs, "DestinationPort", nc);
    const [sbt] = fields(ecs, "ScriptBlockText", { product: "windows", category: "ps_script" });
    const r = await matchIds(
      ecsIndex,
      [
        guard(ecs, pc),
        guard(ecs, nc),
        guard(ecs, { product: "windows", category: "ps_script" }),
        { kind: "suffix", field: img!, value: "\\RUNDLL32.EXE", cased: false },
        { kind: "cidr", field: dst!, cidr: "172.16.0.0/12" },
        { kind: "number", field: port!, op: "eq", value: 445 },
        { kind: "contains", field: sbt!, value: "downloadstring", cased: false },
      ].map((n) => nodeToQuery(n as Node)),
    );
    expect(r).toEqual([["proc", "proc4688"], ["net"], ["ps"], ["proc", "proc4688"], ["net"], ["net"], ["ps"]]);
    const { client } = await cluster();
    const m: any = await client.indices.getMapping({ index: ecsIndex });
    const props = m[ecsIndex].mappings.properties;
    expect(props.process.properties.pid.type).toBe("long");
    expect(props.source.properties.ip.type).toBe("ip");
    expect(props.event.properties.code.type).toBe("keyword");
  });
});
