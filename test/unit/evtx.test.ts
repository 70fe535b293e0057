import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Glob } from "bun";
import { eventDataOf, evtxToWinlogbeat, isEvtxEvent, userDataOf } from "../../src/events/evtx-json.ts";
import { isExact, LosslessNumber, parseJson } from "../../src/events/json-numbers.ts";
import { parseDocs } from "../../src/events/docs-file.ts";

const REGRESSION = path.resolve(import.meta.dir, "../../../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared)
  console.warn(`skipping regression-event tests: ${REGRESSION} is missing (fresh clone without ../shared)`);

function regressionFiles(): string[] {
  return [...new Glob("**/*.json").scanSync({ cwd: REGRESSION })].sort().map((f) => path.join(REGRESSION, f));
}

/** Every raw object of a file of back-to-back pretty-printed JSON values, parsed independently of our splitter. */
function rawObjects(text: string): any[] {
  const out: any[] = [];
  // Each value of evtx_dump output starts with "{" at column 0 and the next one too.
  const chunks = text.split(/\n(?=\{)/);
  for (const c of chunks) if (c.trim()) out.push(JSON.parse(c));
  return out;
}

describe("evtx → winlogbeat on the real regression events", () => {
  test.skipIf(!haveShared)("every event converts per the contract's table, event data as Winlogbeat's strings", () => {
    const files = regressionFiles();
    expect(files.length).toBeGreaterThan(50);
    let events = 0;
    let numericValues = 0;
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      const raws = rawObjects(text);
      const docs = parseDocs(text, "evtx-json");
      expect(docs.map((d) => d.error).filter(Boolean)).toEqual([]);
      expect(docs.length).toBe(raws.length);
      raws.forEach((raw, k) => {
        const sys = raw.Event.System;
        const data = raw.Event.EventData ?? {};
        const expected: any = {
          "@timestamp": sys.TimeCreated["#attributes"].SystemTime,
          event: { code: String(sys.EventID) },
          winlog: {
            event_id: sys.EventID,
            channel: sys.Channel,
            provider_name: sys.Provider["#attributes"].Name,
            computer_name: sys.Computer,
            record_id: sys.EventRecordID,
            ...(Object.keys(data).length
              ? {
                  event_data: Object.fromEntries(
                    Object.entries(data).map(([k, v]) => [k, String(v).replaceAll("\r\n", "\n").replace(/\n+$/, "")]),
                  ),
                }
              : {}),
          },
        };
        expect(docs[k]!.doc).toEqual(expected);
        for (const v of Object.values(data)) if (typeof v === "number") numericValues++;
        events++;
      });
    }
    // The regression set holds 108 events in 92 files, some with numeric EventData values that become strings.
    expect(events).toBe(108);
    expect(numericValues).toBeGreaterThan(0);
  });

  test.skipIf(!haveShared)("a known Sysmon process-creation event", () => {
    const f = path.join(
      REGRESSION,
      "rules-emerging-threats/2025/Malware/Shai-Hulud/proc_creation_win_mal_shai_hulud_malicious_node_bun_execution/5299fadf-f228-4526-8274-251db1960be9.json",
    );
    const docs = parseDocs(readFileSync(f, "utf8"), "evtx-json");
    const d = docs[0]!.doc as any;
    expect(d["@timestamp"]).toBe("2025-11-28T07:59:01.340553Z");
    expect(d.event).toEqual({ code: "1" });
    expect(d.winlog.event_id).toBe(1);
    expect(d.winlog.channel).toBe("Microsoft-Windows-Sysmon/Operational");
    expect(d.winlog.provider_name).toBe("Microsoft-Windows-Sysmon");
    expect(d.winlog.computer_name).toBe("swachchhanda");
    expect(d.winlog.record_id).toBe(2455038);
    expect(d.winlog.event_data.Image).toBe("C:\\Windows\\System32\\cmd.exe");
    expect(d.winlog.event_data.ProcessId).toBe("8752");
    expect(d.winlog.event_data.TerminalSessionId).toBe("1");
  });
});

describe("evtx shapes not in the regression set", () => {
  const sys = {
    Provider: { "#attributes": { Name: "Microsoft-Windows-Security-Auditing" } },
    EventID: { "#attributes": { Qualifiers: 0 }, "#text": 4625 },
    TimeCreated: { "#attributes": { SystemTime: "2024-01-01T00:00:00Z" } },
    EventRecordID: 7,
    Channel: "Security",
    Computer: "dc1",
  };
  test("EventID with attributes, null EventData", () => {
    const d = evtxToWinlogbeat({ Event: { System: sys, EventData: null } });
    expect(d).toEqual({
      "@timestamp": "2024-01-01T00:00:00Z",
      event: { code: "4625" },
      winlog: {
        event_id: 4625,
        channel: "Security",
        provider_name: "Microsoft-Windows-Security-Auditing",
        computer_name: "dc1",
        record_id: 7,
      },
    });
  });
  test("Data arrays with Name attributes, a single Data object, unnamed data, #attributes on EventData", () => {
    expect(
      eventDataOf({
        "#attributes": { Name: "ignored" },
        Data: [
          { "#attributes": { Name: "TargetUserName" }, "#text": "bob" },
          { "#attributes": { Name: "LogonType" }, "#text": 3 },
          { "#attributes": { Name: "Empty" } },
        ],
      }),
    ).toEqual({ TargetUserName: "bob", LogonType: "3" });
    expect(eventDataOf({ Data: { "#attributes": { Name: "X" }, "#text": "y" } })).toEqual({ X: "y" });
    expect(eventDataOf({ Data: ["a", 2, { "#text": "c" }] })).toEqual({ param1: "a", param2: "2", param3: "c" });
    expect(eventDataOf({ Data: null })).toBeUndefined();
    expect(eventDataOf(null)).toBeUndefined();
  });
  test("Winlogbeat's pair rules: positional param names, empty values dropped, first name wins, CRLF, booleans", () => {
    // evtx_dump folds repeated unnamed <Data> into {"#text": [...]}; an empty one keeps its position.
    expect(eventDataOf({ Data: { "#text": ["a", "", "c"] } })).toEqual({ param1: "a", param3: "c" });
    expect(eventDataOf({ A: "x", Data: ["p"], B: "", C: null })).toEqual({ A: "x", param2: "p" });
    expect(
      eventDataOf({
        Data: [
          { "#attributes": { Name: "N" }, "#text": "1" },
          { "#attributes": { Name: "N" }, "#text": "2" },
        ],
      }),
    ).toEqual({ N: "1" });
    expect(
      eventDataOf({ Script: "line1\r\nline2\r\n\n", Initiated: true, Big: new LosslessNumber("18446744073709551615") }),
    ).toEqual({
      Script: "line1\nline2",
      Initiated: "true",
      Big: "18446744073709551615",
    });
    // Text directly inside EventData is not a pair (Winlogbeat reads child elements only).
    expect(eventDataOf({ "#text": "loose" })).toBeUndefined();
    // Defender writes names with spaces; they are kept.
    expect(eventDataOf({ "Threat Name": "Virus:DOS/EICAR_Test_File", "Source Name": "Real-Time Protection" })).toEqual({
      "Threat Name": "Virus:DOS/EICAR_Test_File",
      "Source Name": "Real-Time Protection",
    });
  });
  test("UserData: the pairs of its one element, and the element's name as xml_name", () => {
    const wmi = {
      Operation_ClientFailure: {
        "#attributes": { xmlns: "http://manifests.microsoft.com/win/2006/windows/WMI" },
        Id: "{5E6E1AE2-6B0A-0002-E41A-6E5E0A6BD801}",
        ClientMachine: "WS1",
        User: "CORP\\bob",
        ClientProcessId: 4040,
        Component: "Unknown",
        Operation:
          "Start IWbemServices::ExecMethod - root\\cimv2 : Win32_NTEventlogFile.Name='C:\\Windows\\System32\\Config\\Security.evtx'::ClearEventlog",
        ResultCode: "0x80041003",
        PossibleCause: "Unknown",
      },
    };
    expect(userDataOf(wmi)).toEqual({
      Id: "{5E6E1AE2-6B0A-0002-E41A-6E5E0A6BD801}",
      ClientMachine: "WS1",
      User: "CORP\\bob",
      ClientProcessId: "4040",
      Component: "Unknown",
      Operation: wmi.Operation_ClientFailure.Operation,
      ResultCode: "0x80041003",
      PossibleCause: "Unknown",
      xml_name: "Operation_ClientFailure",
    });
    const d = evtxToWinlogbeat({
      Event: {
        System: { EventID: 5858, Channel: "Microsoft-Windows-WMI-Activity/Operational", EventRecordID: 9 },
        UserData: wmi,
      },
    });
    expect((d.winlog as any).user_data.Operation).toContain("ClearEventlog");
    expect((d.winlog as any).event_data).toBeUndefined();
    expect(userDataOf({ Empty: { "#attributes": { xmlns: "x" } } })).toBeUndefined();
    expect(userDataOf(null)).toBeUndefined();
  });
  test("isEvtxEvent tells raw evtx from winlogbeat documents", () => {
    expect(isEvtxEvent({ Event: { System: {} } })).toBe(true);
    expect(isEvtxEvent({ winlog: { event_id: 1 } })).toBe(false);
    expect(() => evtxToWinlogbeat({ winlog: {} })).toThrow(/not an evtx event/);
  });
});

describe("docs files", () => {
  test("NDJSON: a bad line is one failed document with its line number", () => {
    const text = '{"a":1}\n\n{"a":\n{"b":2}\n[1]\n';
    const docs = parseDocs(text, "ndjson");
    expect(docs.map((d) => [d.line, d.doc ?? null, d.error ? "error" : null])).toEqual([
      [1, { a: 1 }, null],
      [3, null, "error"],
      [4, { b: 2 }, null],
      [5, null, "error"],
    ]);
  });
  test("a JSON array and back-to-back pretty objects keep start lines", () => {
    expect(parseDocs('[\n {"a": 1},\n {\n  "b": "x}"\n }\n]\n', "auto").map((d) => [d.line, d.doc])).toEqual([
      [2, { a: 1 }],
      [3, { b: "x}" }],
    ]);
    expect(parseDocs('{\n "a": 1\n}\n{\n "b": 2\n}\n', "auto").map((d) => [d.line, d.doc])).toEqual([
      [1, { a: 1 }],
      [4, { b: 2 }],
    ]);
  });
  test("auto converts raw evtx and keeps other documents; evtx-json rejects non-evtx", () => {
    const raw = { Event: { System: { EventID: 1, Channel: "c" } } };
    const text = JSON.stringify(raw) + "\n" + JSON.stringify({ x: 1 }) + "\n";
    expect(parseDocs(text, "auto").map((d) => d.doc)).toEqual([
      { event: { code: "1" }, winlog: { event_id: 1, channel: "c" } },
      { x: 1 },
    ]);
    const strict = parseDocs(text, "evtx-json");
    expect(strict[1]!.error).toMatch(/not an evtx event/);
    expect(strict[1]!.line).toBe(2);
  });
});

describe("numbers a JavaScript number cannot hold", () => {
  test("isExact", () => {
    expect(isExact("9007199254740991", 9007199254740991)).toBe(true);
    expect(isExact("9007199254740993", Number("9007199254740993"))).toBe(false);
    expect(isExact("1e400", Number("1e400"))).toBe(false);
    expect(isExact("1e-400", 0)).toBe(false);
    expect(isExact("1.50", 1.5)).toBe(true);
    expect(isExact("0.1", 0.1)).toBe(true);
    expect(isExact("12e2", 1200)).toBe(true);
    expect(isExact("0.12345678901234567890123", Number("0.12345678901234567890123"))).toBe(false);
  });
  test("parseJson keeps them as their text; the rest parse as numbers", () => {
    const v = parseJson('{"a": 18446744073709551615, "b": 1e400, "c": [1, 2.5], "d": "x18446744073709551615"}') as any;
    expect(v.a).toBeInstanceOf(LosslessNumber);
    expect(JSON.stringify(v)).toBe('{"a":"18446744073709551615","b":"1e400","c":[1,2.5],"d":"x18446744073709551615"}');
  });
  test("parseDocs warns with the line and the field; evtx event data is a string anyway", () => {
    const docs = parseDocs('{"n": 1}\n{"x": {"big": 18446744073709551615}, "f": 1e400}\n', "ndjson");
    expect(docs[0]!.warnings).toBeUndefined();
    expect(docs[1]!.line).toBe(2);
    expect(docs[1]!.warnings).toEqual([
      'x.big: the number 18446744073709551615 does not fit a JSON number exactly; sent as the string "18446744073709551615"',
      'f: the number 1e400 does not fit a JSON number exactly; sent as the string "1e400"',
    ]);
    const evtx = parseDocs(
      '{"Event": {"System": {"EventID": 1}, "EventData": {"Big": 18446744073709551615}}}\n',
      "evtx-json",
    );
    expect((evtx[0]!.doc as any).winlog.event_data.Big).toBe("18446744073709551615");
    expect(evtx[0]!.warnings).toBeUndefined();
  });
});

describe("docs files: recovery after a broken pretty-printed value", () => {
  test("an unbalanced value costs only itself; the next column-0 object is read again", () => {
    const text = '{\n "a": 1\n}\n{\n  "b": {"c": 1,\n}\n{\n "d": 2\n}\n{"e": 3}\n';
    const docs = parseDocs(text, "auto");
    expect(docs.map((d) => [d.line, d.doc ?? "error"])).toEqual([
      [1, { a: 1 }],
      [4, "error"],
      [7, { d: 2 }],
      [10, { e: 3 }],
    ]);
  });
});
