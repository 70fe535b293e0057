import { describe, expect, test } from "bun:test";
import type { Field, Node } from "../../src/ir/types.ts";
import { isUnsupported, loadProfile } from "../../src/mapping/index.ts";
import type { Logsource, LogsourceTarget } from "../../src/mapping/profile.ts";

const p = loadProfile("ecs");

function names(name: string, ls: Logsource): string[] {
  const r = p.field(name, ls);
  if (isUnsupported(r)) throw new Error(`unexpected unsupported: ${r.unsupported}`);
  return r.map((f) => f.name);
}
function field1(name: string, ls: Logsource): Field {
  const r = p.field(name, ls);
  if (isUnsupported(r)) throw new Error(r.unsupported);
  expect(r.length).toBe(1);
  return r[0]!;
}
function target(ls: Logsource): LogsourceTarget {
  const r = p.logsource(ls);
  if (isUnsupported(r)) throw new Error(`unexpected unsupported: ${r.unsupported}`);
  return r;
}
const code = (c: string): Node => ({
  kind: "equals",
  field: { name: "event.code", type: "keyword" },
  value: c,
  cased: true,
});
const ch = (c: string): Node => ({
  kind: "equals",
  field: { name: "winlog.channel", type: "keyword" },
  value: c,
  cased: false,
});

const pc = { product: "windows", category: "process_creation" };

describe("ecs fields", () => {
  test("process_creation: Sysmon 1 and 4688 names collapse onto ECS fields", () => {
    expect(names("Image", pc)).toEqual(["process.executable"]);
    expect(names("ParentImage", pc)).toEqual(["process.parent.executable"]);
    expect(names("CommandLine", pc)).toEqual(["process.command_line"]);
    expect(names("ParentCommandLine", pc)).toEqual(["process.parent.command_line"]);
    expect(names("OriginalFileName", pc)).toEqual(["process.pe.original_file_name"]);
    expect(names("User", pc)).toEqual(["user.name"]);
    expect(names("IntegrityLevel", pc)).toEqual(["winlog.event_data.IntegrityLevel"]);
  });

  test("logsource-dependent names", () => {
    expect(names("OriginalFileName", { product: "windows", category: "image_load" })).toEqual([
      "file.pe.original_file_name",
    ]);
    expect(names("ImageLoaded", { product: "windows", category: "image_load" })).toEqual(["file.path"]);
    expect(names("Signature", { product: "windows", category: "driver_load" })).toEqual([
      "file.code_signature.subject_name",
    ]);
    expect(names("SubjectUserName", { product: "windows", service: "security" })).toEqual(["user.name"]);
    expect(names("SubjectUserName", { product: "windows", service: "system" })).toEqual([
      "winlog.event_data.SubjectUserName",
    ]);
    expect(names("CommandLine", { product: "windows", service: "powershell-classic" })).toEqual([
      "powershell.command.value",
    ]);
    expect(names("Description", { product: "windows", category: "sysmon_error" })).toEqual([
      "winlog.event_data.Description",
    ]);
  });

  test("ECS names for the common fields", () => {
    expect(names("TargetFilename", { product: "windows", category: "file_event" })).toEqual(["file.path"]);
    expect(names("TargetObject", { product: "windows", category: "registry_set" })).toEqual(["registry.path"]);
    expect(names("Details", { product: "windows", category: "registry_set" })).toEqual(["winlog.event_data.Details"]);
    expect(names("QueryName", { product: "windows", category: "dns_query" })).toEqual(["dns.question.name"]);
    expect(names("ScriptBlockText", { product: "windows", category: "ps_script" })).toEqual([
      "powershell.file.script_block_text",
    ]);
    expect(names("Payload", { product: "windows", category: "ps_module" })).toEqual([
      "powershell.file.script_block_text",
    ]);
    expect(names("SourceImage", { product: "windows", category: "process_access" })).toEqual(["process.executable"]);
    expect(names("TargetImage", { product: "windows", category: "process_access" })).toEqual([
      "winlog.event_data.TargetImage",
    ]);
    expect(names("PipeName", { product: "windows", category: "pipe_created" })).toEqual(["file.name"]);
  });

  test("types", () => {
    const nc = { product: "windows", category: "network_connection" };
    expect(field1("DestinationIp", nc)).toEqual({ name: "destination.ip", type: "ip", keywordSubfield: "keyword" });
    expect(field1("SourceIp", nc)).toEqual({ name: "source.ip", type: "ip", keywordSubfield: "keyword" });
    expect(field1("DestinationPort", nc)).toEqual({ name: "destination.port", type: "long" });
    expect(field1("IpAddress", { product: "windows", service: "security" }).type).toBe("ip");
    expect(field1("EventID", pc)).toEqual({ name: "event.code", type: "keyword" });
    expect(field1("Signed", { product: "windows", category: "image_load" })).toEqual({
      name: "file.code_signature.signed",
      type: "boolean",
    });
    expect(p.fieldType("process.pid")).toEqual({ name: "process.pid", type: "long" });
  });

  test("other products: names unchanged", () => {
    expect(names("CommandLine", { product: "linux", category: "process_creation" })).toEqual(["CommandLine"]);
  });
});

describe("ecs logsources", () => {
  test("guards use winlog.channel and event.code (a keyword)", () => {
    expect(target(pc).guard).toEqual({
      kind: "or",
      children: [
        { kind: "and", children: [ch("Microsoft-Windows-Sysmon/Operational"), code("1")] },
        { kind: "and", children: [ch("Security"), code("4688")] },
      ],
    });
    expect(target({ product: "windows", service: "security" }).guard).toEqual(ch("Security"));
    expect(target(pc).index).toEqual(["winlogbeat-*"]);
    expect(target({ product: "aws", service: "cloudtrail" }).index).toEqual(["logs-*"]);
  });

  test("unsupported reasons name the profile", () => {
    const r = p.logsource({ product: "windows", category: "nosuch" });
    expect(isUnsupported(r) && r.unsupported).toMatch(
      /^logsource category 'nosuch' is not mapped for product windows .* in profile ecs$/,
    );
  });

  test("keyword fields are string fields only", () => {
    const kw = p.keywordFields(pc);
    expect(kw.map((f) => f.name)).toContain("process.command_line");
    expect(kw.every((f) => f.type === "keyword" || f.type === "text")).toBe(true);
    expect(kw[kw.length - 1]!.name).toBe("message");
  });

  test("index template", () => {
    const props = p.indexTemplate().mappings.properties as Record<string, any>;
    expect(props.source.properties.ip.type).toBe("ip");
    expect(props.destination.properties.port.type).toBe("long");
    expect(props.event.properties.code).toEqual({ type: "keyword", ignore_above: 8191 });
  });
});
