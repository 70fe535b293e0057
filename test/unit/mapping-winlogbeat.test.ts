import { describe, expect, test } from "bun:test";
import type { Field, Node } from "../../src/ir/types.ts";
import { isUnsupported, loadProfile } from "../../src/mapping/index.ts";
import type { Logsource, LogsourceTarget } from "../../src/mapping/profile.ts";
import { CATEGORY_SOURCES, SERVICE_CHANNELS } from "../../src/mapping/windows-sources.ts";

const p = loadProfile("winlogbeat");

function fields(name: string, ls: Logsource): Field[] {
  const r = p.field(name, ls);
  if (isUnsupported(r)) throw new Error(`unexpected unsupported: ${r.unsupported}`);
  return r;
}
function target(ls: Logsource): LogsourceTarget {
  const r = p.logsource(ls);
  if (isUnsupported(r)) throw new Error(`unexpected unsupported: ${r.unsupported}`);
  return r;
}

const ch = (c: string): Node => ({
  kind: "equals",
  field: { name: "winlog.channel", type: "keyword" },
  value: c,
  cased: false,
});
const id = (n: number): Node => ({
  kind: "number",
  field: { name: "winlog.event_id", type: "long" },
  op: "eq",
  value: n,
});

describe("winlogbeat fields", () => {
  const pc = { product: "windows", category: "process_creation" };

  test("event data fields go under winlog.event_data as keyword", () => {
    expect(fields("TargetFilename", { product: "windows", category: "file_event" })).toEqual([
      { name: "winlog.event_data.TargetFilename", type: "keyword" },
    ]);
    expect(fields("ScriptBlockText", { product: "windows", category: "ps_script" })).toEqual([
      { name: "winlog.event_data.ScriptBlockText", type: "keyword" },
    ]);
  });

  test("System fields", () => {
    const ls = { product: "windows", service: "security" };
    expect(fields("EventID", ls)).toEqual([{ name: "winlog.event_id", type: "long" }]);
    expect(fields("Channel", ls)).toEqual([{ name: "winlog.channel", type: "keyword" }]);
    expect(fields("Provider_Name", ls)).toEqual([{ name: "winlog.provider_name", type: "keyword" }]);
    expect(fields("ComputerName", ls)).toEqual([{ name: "winlog.computer_name", type: "keyword" }]);
    expect(fields("Computer", ls)).toEqual([{ name: "winlog.computer_name", type: "keyword" }]);
    expect(fields("Message", ls)).toEqual([{ name: "message", type: "text", keywordSubfield: "keyword" }]);
  });

  test("process_creation: Sysmon 1 names plus Security 4688 renames", () => {
    expect(fields("Image", pc).map((f) => f.name)).toEqual([
      "winlog.event_data.Image",
      "winlog.event_data.NewProcessName",
    ]);
    expect(fields("ParentImage", pc).map((f) => f.name)).toEqual([
      "winlog.event_data.ParentImage",
      "winlog.event_data.ParentProcessName",
    ]);
    expect(fields("LogonId", pc).map((f) => f.name)).toEqual([
      "winlog.event_data.LogonId",
      "winlog.event_data.TargetLogonId",
    ]);
    // Same name in both sources: one field.
    expect(fields("CommandLine", pc)).toEqual([{ name: "winlog.event_data.CommandLine", type: "keyword" }]);
    // No value-compatible 4688 equivalent: Sysmon only.
    expect(fields("OriginalFileName", pc).map((f) => f.name)).toEqual(["winlog.event_data.OriginalFileName"]);
    expect(fields("ProcessId", pc).map((f) => f.name)).toEqual(["winlog.event_data.ProcessId"]);
    expect(fields("IntegrityLevel", pc).map((f) => f.name)).toEqual(["winlog.event_data.IntegrityLevel"]);
  });

  test("Defender: Sigma's ThreatName reaches the name Windows writes (Threat Name), and its own spelling", () => {
    const ls = { product: "windows", service: "windefend" };
    expect(fields("ThreatName", ls).map((f) => f.name)).toEqual([
      "winlog.event_data.Threat Name",
      "winlog.event_data.ThreatName",
    ]);
    expect(fields("SourceName", ls).map((f) => f.name)).toEqual([
      "winlog.event_data.Source Name",
      "winlog.event_data.SourceName",
    ]);
    expect(fields("Feature_Name", ls).map((f) => f.name)).toEqual([
      "winlog.event_data.Feature Name",
      "winlog.event_data.Feature_Name",
    ]);
    expect(fields("Path", ls).map((f) => f.name)).toEqual(["winlog.event_data.Path"]);
    expect(fields("EventID", ls).map((f) => f.name)).toEqual(["winlog.event_id"]);
    // Other services keep the name as the rule writes it.
    expect(fields("ThreatName", { product: "windows", service: "security" }).map((f) => f.name)).toEqual([
      "winlog.event_data.ThreatName",
    ]);
    // ecs: the name as written first, then its own ECS name for the Sigma spelling.
    const ecs = loadProfile("ecs").field("ProcessName", ls);
    expect(isUnsupported(ecs) ? ecs : ecs.map((f) => f.name)).toEqual([
      "winlog.event_data.Process Name",
      "process.executable",
    ]);
  });

  test("UserData services: event data fields are also searched under winlog.user_data; System fields are not", () => {
    const wmi = { product: "windows", service: "wmi" };
    expect(fields("Operation", wmi).map((f) => f.name)).toEqual([
      "winlog.event_data.Operation",
      "winlog.user_data.Operation",
    ]);
    expect(fields("EventID", wmi).map((f) => f.name)).toEqual(["winlog.event_id"]);
    const data = fields("Data", { product: "windows", service: "printservice-operational" }).map((f) => f.name);
    expect(data).toContain("winlog.user_data.param1");
    expect(data).toContain("winlog.event_data.param1");
    expect(
      fields("Address", { product: "windows", service: "terminalservices-localsessionmanager" }).map((f) => f.name),
    ).toEqual(["winlog.event_data.Address", "winlog.user_data.Address"]);
    // System 104 names the cleared log in its UserData Channel.
    expect(fields("Channel", { product: "windows", service: "system" }).map((f) => f.name)).toEqual([
      "winlog.user_data.Channel",
    ]);
    expect(p.keywordFields(wmi).map((f) => f.name)).toContain("winlog.user_data.Query");
  });

  test("renames do not leak into other logsources", () => {
    expect(fields("Image", { product: "windows", category: "image_load" }).map((f) => f.name)).toEqual([
      "winlog.event_data.Image",
    ]);
    expect(fields("Image", { product: "windows", service: "security" }).map((f) => f.name)).toEqual([
      "winlog.event_data.Image",
    ]);
  });

  test("ip fields carry a keyword sub-field; aliases", () => {
    const nc = { product: "windows", category: "network_connection" };
    expect(fields("DestinationIp", nc)).toEqual([
      { name: "winlog.event_data.DestinationIp", type: "ip", keywordSubfield: "keyword" },
    ]);
    expect(fields("dst_ip", nc)).toEqual([
      { name: "winlog.event_data.DestinationIp", type: "ip", keywordSubfield: "keyword" },
    ]);
    expect(fields("IpAddress", { product: "windows", service: "security" })[0]!.type).toBe("ip");
    expect(fields("DestinationPort", nc)).toEqual([{ name: "winlog.event_data.DestinationPort", type: "keyword" }]);
  });

  test("Data is the list of unnamed values param1..param24", () => {
    const f = fields("Data", { product: "windows", category: "ps_classic_start" });
    expect(f.length).toBe(24);
    expect(f[0]).toEqual({ name: "winlog.event_data.param1", type: "keyword" });
    expect(f[2]!.name).toBe("winlog.event_data.param3");
  });

  test("dotted names are index fields already", () => {
    expect(fields("winlog.user.name", { product: "windows", service: "security" })).toEqual([
      { name: "winlog.user.name", type: "keyword" },
    ]);
  });

  test("other products: names unchanged", () => {
    expect(fields("Image", { product: "linux", category: "process_creation" })).toEqual([
      { name: "Image", type: "keyword" },
    ]);
    expect(fields("eventName", { product: "aws", service: "cloudtrail" })).toEqual([
      { name: "eventName", type: "keyword" },
    ]);
    expect(fields("dst_ip", { category: "proxy" })).toEqual([
      { name: "dst_ip", type: "ip", keywordSubfield: "keyword" },
    ]);
  });

  test("unsupported: unknown windows category/service, empty field name", () => {
    const r1 = p.field("Image", { product: "windows", category: "nosuch" });
    expect(isUnsupported(r1) && r1.unsupported).toContain(
      "logsource category 'nosuch' is not mapped for product windows",
    );
    const r2 = p.logsource({ product: "windows", service: "nosuch" });
    expect(isUnsupported(r2) && r2.unsupported).toBe(
      "logsource service 'nosuch' is not mapped for product windows (no known event log channel) in profile winlogbeat",
    );
    const r3 = p.field("", { product: "windows", service: "security" });
    expect(isUnsupported(r3) && r3.unsupported).toBe("empty field name");
  });
});

describe("winlogbeat logsources", () => {
  test("process_creation is Sysmon 1 or Security 4688", () => {
    const t = target({ product: "windows", category: "process_creation" });
    expect(t.index).toEqual(["winlogbeat-*"]);
    expect(t.guard).toEqual({
      kind: "or",
      children: [
        { kind: "and", children: [ch("Microsoft-Windows-Sysmon/Operational"), id(1)] },
        { kind: "and", children: [ch("Security"), id(4688)] },
      ],
    });
    expect(t.sources).toEqual([
      { label: "Sysmon 1", channels: ["Microsoft-Windows-Sysmon/Operational"], eventIds: [1] },
      { label: "Security 4688", channels: ["Security"], eventIds: [4688] },
    ]);
  });

  test("categories with several event ids", () => {
    const t = target({ product: "windows", category: "registry_event" });
    expect(t.guard).toEqual({
      kind: "and",
      children: [ch("Microsoft-Windows-Sysmon/Operational"), { kind: "or", children: [id(12), id(13), id(14)] }],
    });
    expect(target({ product: "windows", category: "file_delete" }).sources![0]!.eventIds).toEqual([23, 26]);
    expect(target({ product: "windows", category: "pipe_created" }).sources![0]!.eventIds).toEqual([17, 18]);
    expect(target({ product: "windows", category: "wmi_event" }).sources![0]!.eventIds).toEqual([19, 20, 21]);
  });

  test("PowerShell categories", () => {
    expect(target({ product: "windows", category: "ps_script" }).guard).toEqual({
      kind: "and",
      children: [
        { kind: "or", children: [ch("Microsoft-Windows-PowerShell/Operational"), ch("PowerShellCore/Operational")] },
        id(4104),
      ],
    });
    expect(target({ product: "windows", category: "ps_classic_start" }).guard).toEqual({
      kind: "and",
      children: [ch("Windows PowerShell"), id(400)],
    });
    expect(target({ product: "windows", category: "ps_classic_provider_start" }).sources).toEqual([
      { label: "Windows PowerShell 600", channels: ["Windows PowerShell"], eventIds: [600] },
    ]);
  });

  test("services are channels", () => {
    expect(target({ product: "windows", service: "security" }).guard).toEqual(ch("Security"));
    expect(target({ product: "windows", service: "sysmon" }).guard).toEqual(ch("Microsoft-Windows-Sysmon/Operational"));
    expect(target({ product: "windows", service: "powershell-classic" }).guard).toEqual(ch("Windows PowerShell"));
    expect(target({ product: "windows", service: "applocker" }).guard).toEqual({
      kind: "or",
      children: SERVICE_CHANNELS.applocker!.map(ch),
    });
    expect(target({ product: "windows", service: "Security" }).guard).toEqual(ch("Security"));
  });

  test("category with a compatible service narrows the sources; an incompatible one is unsupported", () => {
    const t = target({ product: "windows", category: "process_creation", service: "security" });
    expect(t.sources).toEqual([{ label: "Security 4688", channels: ["Security"], eventIds: [4688] }]);
    const r = p.logsource({ product: "windows", category: "process_creation", service: "system" });
    expect(isUnsupported(r) && r.unsupported).toContain("no source provides both");
  });

  test("windows with neither category nor service: all of winlogbeat-*", () => {
    expect(target({ product: "windows" })).toEqual({ index: ["winlogbeat-*"], guard: { kind: "const", value: true } });
  });

  test("other products go to logs-* with no guard", () => {
    expect(target({ product: "linux", service: "auditd" })).toEqual({
      index: ["logs-*"],
      guard: { kind: "const", value: true },
    });
    expect(target({ category: "proxy" })).toEqual({ index: ["logs-*"], guard: { kind: "const", value: true } });
  });

  test("every category and service in the tables resolves", () => {
    for (const c of Object.keys(CATEGORY_SOURCES))
      expect(isUnsupported(p.logsource({ product: "windows", category: c }))).toBe(false);
    for (const s of Object.keys(SERVICE_CHANNELS))
      expect(isUnsupported(p.logsource({ product: "windows", service: s }))).toBe(false);
  });
});

describe("winlogbeat keyword fields and types", () => {
  test("process_creation keyword search covers the corpus fields with renames, and message", () => {
    const names = p.keywordFields({ product: "windows", category: "process_creation" }).map((f) => f.name);
    expect(names).toContain("winlog.event_data.CommandLine");
    expect(names).toContain("winlog.event_data.Image");
    expect(names).toContain("winlog.event_data.NewProcessName");
    expect(names[names.length - 1]).toBe("message");
    expect(names).not.toContain("winlog.event_id");
    expect(new Set(names).size).toBe(names.length);
    // fixed order: same list every call
    expect(p.keywordFields({ product: "windows", category: "process_creation" }).map((f) => f.name)).toEqual(names);
  });

  test("services include the unnamed Data params", () => {
    const names = p.keywordFields({ product: "windows", service: "application" }).map((f) => f.name);
    expect(names).toContain("winlog.event_data.param1");
    expect(names).toContain("winlog.event_data.param24");
    expect(names).toContain("winlog.event_data.AppName");
  });

  test("other products search message only", () => {
    expect(p.keywordFields({ product: "linux" })).toEqual([
      { name: "message", type: "text", keywordSubfield: "keyword" },
    ]);
  });

  test("fieldType", () => {
    expect(p.fieldType("winlog.event_id")).toEqual({ name: "winlog.event_id", type: "long" });
    expect(p.fieldType("winlog.event_data.SourceIp")).toEqual({
      name: "winlog.event_data.SourceIp",
      type: "ip",
      keywordSubfield: "keyword",
    });
    expect(p.fieldType("winlog.event_data.Image")).toEqual({ name: "winlog.event_data.Image", type: "keyword" });
    expect(p.fieldType("some.other")).toEqual({ name: "some.other", type: "keyword" });
  });

  test("the index template types what fieldType says", () => {
    const t = p.indexTemplate();
    const props = t.mappings.properties as Record<string, any>;
    expect(props["@timestamp"]).toEqual({ type: "date" });
    expect(props.winlog.properties.event_id.type).toBe("long");
    expect(props.winlog.properties.event_data.properties.DestinationIp.type).toBe("ip");
    expect(props.message.fields.keyword).toEqual({ type: "keyword", ignore_above: 8191 });
    expect(props.outliers.properties.total_outliers).toEqual({ type: "integer" });
    expect(props.outliers.properties.rule_id.type).toBe("keyword");
    expect(props.threat.properties.technique.properties.id.type).toBe("keyword");
    expect(props.tags.type).toBe("keyword");
  });
});

describe("outside names never reach Object.prototype", () => {
  test("field and logsource names like constructor/toString", () => {
    const ls = { product: "windows", category: "process_creation" };
    expect(fields("constructor", ls)).toEqual([{ name: "winlog.event_data.constructor", type: "keyword" }]);
    expect(fields("toString", { product: "windows", service: "security" })).toEqual([
      { name: "winlog.event_data.toString", type: "keyword" },
    ]);
    const r = p.logsource({ product: "windows", category: "constructor" });
    expect(isUnsupported(r) && r.unsupported).toContain("logsource category 'constructor' is not mapped");
    const r2 = p.logsource({ product: "windows", service: "__proto__" });
    expect(isUnsupported(r2)).toBe(true);
    expect(p.fieldType("hasOwnProperty")).toEqual({ name: "hasOwnProperty", type: "keyword" });
    expect(() => loadProfile("constructor")).toThrow("unknown mapping 'constructor'");
  });

  test("logsource values are normalised: case, null, empty, numbers", () => {
    const odd = { product: "WINDOWS", category: "Process_Creation", service: null } as unknown as Logsource;
    expect(target(odd).sources!.map((s) => s.label)).toEqual(["Sysmon 1", "Security 4688"]);
    expect(target({ product: "windows", category: "", service: "" })).toEqual({
      index: ["winlogbeat-*"],
      guard: { kind: "const", value: true },
    });
    const r = p.logsource({ product: "windows", category: 42 } as unknown as Logsource);
    expect(isUnsupported(r) && r.unsupported).toContain("logsource category '42' is not mapped");
  });
});
