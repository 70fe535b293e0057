import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Glob } from "bun";
import { eventDataOf, evtxToWinlogbeat, isEvtxEvent } from "../../src/cluster/evtx.ts";
import { parseDocs } from "../../src/cluster/docs-file.ts";

const REGRESSION = path.resolve(import.meta.dir, "../../../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared) console.warn(`skipping regression-event tests: ${REGRESSION} is missing (fresh clone without ../shared)`);

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
  test.skipIf(!haveShared)("every event converts exactly per the contract's table", () => {
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
            ...(Object.keys(data).length ? { event_data: data } : {}),
          },
        };
        expect(docs[k]!.doc).toEqual(expected);
        for (const v of Object.values(data)) if (typeof v === "number") numericValues++;
        events++;
      });
    }
    // The regression set holds 108 events in 92 files, some with numeric EventData values that must stay numbers.
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
    expect(d.winlog.event_data.ProcessId).toBe(8752);
    expect(d.winlog.event_data.TerminalSessionId).toBe(1);
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
      winlog: { event_id: 4625, channel: "Security", provider_name: "Microsoft-Windows-Security-Auditing", computer_name: "dc1", record_id: 7 },
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
    ).toEqual({ TargetUserName: "bob", LogonType: 3, Empty: null });
    expect(eventDataOf({ Data: { "#attributes": { Name: "X" }, "#text": "y" } })).toEqual({ X: "y" });
    expect(eventDataOf({ Data: ["a", 2, { "#text": "c" }] })).toEqual({ param1: "a", param2: 2, param3: "c" });
    expect(eventDataOf({ Data: null })).toBeUndefined();
    expect(eventDataOf(null)).toBeUndefined();
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
    expect(parseDocs(text, "auto").map((d) => d.doc)).toEqual([{ event: { code: "1" }, winlog: { event_id: 1, channel: "c" } }, { x: 1 }]);
    const strict = parseDocs(text, "evtx-json");
    expect(strict[1]!.error).toMatch(/not an evtx event/);
    expect(strict[1]!.line).toBe(2);
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
