import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Field, Node } from "../../src/ir/types.ts";
import { isUnsupported, loadProfile } from "../../src/mapping/index.ts";
import type { Logsource, LogsourceTarget } from "../../src/mapping/profile.ts";
import { InputError, UsageError } from "../../src/util/errors.ts";

const FIXTURE = path.resolve(import.meta.dir, "../fixtures/mapping/sigmac-example.yml");
const p = loadProfile(FIXTURE);
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-sigmac-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function names(name: string, ls: Logsource): string[] {
  const r = p.field(name, ls);
  if (isUnsupported(r)) throw new Error(r.unsupported);
  return r.map((f: Field) => f.name);
}
function target(ls: Logsource): LogsourceTarget {
  const r = p.logsource(ls);
  if (isUnsupported(r)) throw new Error(r.unsupported);
  return r;
}
const eq = (field: string, value: string): Node => ({
  kind: "equals",
  field: { name: field, type: "keyword" },
  value,
  cased: false,
});
const num = (field: string, value: number): Node => ({
  kind: "number",
  field: { name: field, type: "long" },
  op: "eq",
  value,
});

/** Writes a mapping file and returns the error loading it gives. */
function loadError(name: string, text: string): Error {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  try {
    loadProfile(f);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("sigmac mapping file: fieldmappings", () => {
  const pc = { product: "windows", category: "process_creation" };
  test("string, list, unmapped", () => {
    expect(names("Image", pc)).toEqual(["winlog.event_data.Image"]);
    expect(names("ParentImage", pc)).toEqual(["winlog.event_data.ParentImage"]);
    expect(names("CommandLine", pc)).toEqual(["winlog.event_data.CommandLine", "process.command_line"]);
    expect(names("OriginalFileName", pc)).toEqual(["OriginalFileName"]);
  });

  test("conditional on the logsource, with default", () => {
    expect(names("User", pc)).toEqual(["winlog.event_data.User"]);
    expect(names("User", { product: "windows", service: "security" })).toEqual(["winlog.event_data.SubjectUserName"]);
    expect(names("User", { product: "linux" })).toEqual(["user.name"]);
    // no matching condition and no default: the name stays
    expect(names("ScriptBlockText", { product: "linux" })).toEqual(["ScriptBlockText"]);
    expect(names("ScriptBlockText", { product: "Windows", category: "ps_script" })).toEqual([
      "powershell.file.script_block_text",
    ]);
  });

  test("types come from the winlogbeat table", () => {
    const r = p.field("DestinationIp", { product: "windows", category: "network_connection" });
    expect(r).toEqual([{ name: "winlog.event_data.DestinationIp", type: "ip", keywordSubfield: "keyword" }]);
    expect(p.field("EventID", pc)).toEqual([{ name: "winlog.event_id", type: "long" }]);
  });

  test("conditions on detection values are unsupported with a reason", () => {
    const f = path.join(tmp, "byvalue.yml");
    writeFileSync(f, "fieldmappings:\n  Image:\n    EventID=4688: winlog.event_data.NewProcessName\n");
    const r = loadProfile(f).field("Image", { product: "windows" });
    expect(isUnsupported(r) && r.unsupported).toBe(
      `field 'Image' in mapping file ${f}: conditional mapping on detection values (EventID=4688) is not supported, only product=/category=/service= conditions and default`,
    );
  });
});

describe("sigmac mapping file: logsources", () => {
  test("matching entries: indices united, conditions ANDed", () => {
    expect(target({ product: "windows", service: "sysmon" })).toEqual({
      index: ["winlogbeat-*"],
      guard: eq("winlog.channel", "Microsoft-Windows-Sysmon/Operational"),
    });
    expect(target({ product: "windows", category: "process_creation" })).toEqual({
      index: ["winlogbeat-*"],
      guard: {
        kind: "and",
        children: [
          {
            kind: "or",
            children: [eq("winlog.channel", "Microsoft-Windows-Sysmon/Operational"), eq("winlog.channel", "Security")],
          },
          { kind: "or", children: [num("winlog.event_id", 1), num("winlog.event_id", 4688)] },
        ],
      },
    });
  });

  test("index lists, defaultindex, no guard when nothing matches", () => {
    expect(target({ product: "linux", service: "auditd" })).toEqual({
      index: ["auditbeat-*", "logs-linux-*"],
      guard: eq("event.module", "auditd"),
    });
    expect(target({ product: "aws", service: "cloudtrail" })).toEqual({
      index: ["logs-*"],
      guard: { kind: "const", value: true },
    });
    // windows entry gives the index; an unknown category adds no condition
    expect(target({ product: "windows", category: "nosuch" })).toEqual({
      index: ["winlogbeat-*"],
      guard: { kind: "const", value: true },
    });
  });

  test("keyword fields: corpus fields mapped through the file, plus message; or the file's own list", () => {
    const kw = p.keywordFields({ product: "windows", category: "process_creation" }).map((f) => f.name);
    expect(kw).toContain("winlog.event_data.Image");
    expect(kw).toContain("process.command_line");
    expect(kw).toContain("OriginalFileName");
    expect(kw[kw.length - 1]).toBe("message");
    const f = path.join(tmp, "kw.yml");
    writeFileSync(f, "keywordfields: [message, winlog.event_data.Data]\n");
    expect(
      loadProfile(f)
        .keywordFields({ product: "windows" })
        .map((x) => x.name),
    ).toEqual(["message", "winlog.event_data.Data"]);
  });
});

describe("sigmac mapping file: other forms", () => {
  test("logsourcemerging or, category-only entries, identity mapping, no defaultindex", () => {
    const f = path.join(tmp, "merge.yml");
    writeFileSync(
      f,
      [
        "logsourcemerging: or",
        "logsources:",
        "  a:",
        "    category: process_creation",
        "    conditions:",
        "      event.category: process",
        "  b:",
        "    product: windows",
        "    conditions:",
        "      event.module: sysmon",
        "fieldmappings:",
        "  Image:",
        "",
      ].join("\n"),
    );
    const q = loadProfile(f);
    expect(q.logsource({ product: "windows", category: "process_creation" })).toEqual({
      index: ["*"],
      guard: { kind: "or", children: [eq("event.category", "process"), eq("event.module", "sysmon")] },
    });
    expect(q.logsource({ product: "linux", category: "process_creation" })).toEqual({
      index: ["*"],
      guard: eq("event.category", "process"),
    });
    expect(q.field("Image", { product: "windows" })).toEqual([{ name: "Image", type: "keyword" }]);
  });
});

describe("sigmac mapping file: errors name the file and the place", () => {
  test("bad YAML", () => {
    const e = loadError("bad.yml", "fieldmappings:\n  Image: [a, b\n  Other: c\n");
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(
      new RegExp(`^${path.join(tmp, "bad.yml").replace(/[.\\/]/g, "\\$&")}:\\d+:\\d+: invalid YAML: `),
    );
  });

  test("unknown top-level key", () => {
    const e = loadError("top.yml", "title: x\nfieldmapping:\n  Image: a\n");
    expect(e.message).toBe(
      `${path.join(tmp, "top.yml")}:2: fieldmapping: unknown key 'fieldmapping' (expected one of: title, order, backends, logsources, logsourcemerging, defaultindex, fieldmappings, placeholders, keywordfields)`,
    );
  });

  test("bad field mapping target", () => {
    const e = loadError("target.yml", "fieldmappings:\n  Image: 42\n");
    expect(e.message).toBe(
      `${path.join(tmp, "target.yml")}:2: fieldmappings.Image: expected an index field name, a list of names, or a map of conditions`,
    );
    const e2 = loadError("cond.yml", "fieldmappings:\n  Image:\n    nonsense: a\n");
    expect(e2.message).toBe(
      `${path.join(tmp, "cond.yml")}:3: fieldmappings.Image.nonsense: expected \`default\` or a condition \`product=…\`, \`category=…\`, \`service=…\``,
    );
  });

  test("bad logsource entry", () => {
    const e = loadError("ls.yml", "logsources:\n  sysmon:\n    product: windows\n    conditons:\n      a: b\n");
    expect(e.message).toBe(
      `${path.join(tmp, "ls.yml")}:4: logsources.sysmon.conditons: unknown key 'conditons' (expected one of: product, category, service, index, conditions, rewrite, sources)`,
    );
    const e2 = loadError("cond2.yml", "logsources:\n  s:\n    conditions:\n      winlog.channel: {a: b}\n");
    expect(e2.message).toBe(
      `${path.join(tmp, "cond2.yml")}:4: logsources.s.conditions.winlog.channel: expected a value or a list of values (strings or numbers)`,
    );
  });

  test("not a map, empty, missing file, unknown name", () => {
    expect(loadError("list.yml", "- a\n- b\n").message).toBe(
      `${path.join(tmp, "list.yml")}: expected a map with \`fieldmappings\`, \`logsources\` and/or \`defaultindex\``,
    );
    expect(loadError("empty.yml", "").message).toBe(`${path.join(tmp, "empty.yml")}: empty mapping file`);
    const missing = path.join(tmp, "nope.yml");
    expect(() => loadProfile(missing)).toThrow(new InputError(missing, "no such mapping file"));
    expect(() => loadProfile("nosuchprofile")).toThrow(UsageError);
  });
});
