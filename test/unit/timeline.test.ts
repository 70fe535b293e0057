/**
 * scan's timeline (src/local/timeline.ts): the fields a rule tests come from its IR, rows sort by
 * time (events without one last), the terminal layout fits the width, and CSV / JSON lines carry the
 * same rows whole.
 */
import { describe, expect, test } from "bun:test";
import type { Field, Node, Rule } from "../../src/ir/types.ts";
import { csvHeader, csvRow, formatTimeline, jsonlRow, ruleFields, Timeline } from "../../src/local/timeline.ts";

const kw = (name: string): Field => ({ name, type: "keyword" });

function rule(id: string, level: string, condition: Node): Rule {
  return { id, title: `Rule ${id}`, level, condition } as unknown as Rule;
}

const PROC = rule("proc", "high", {
  kind: "and",
  children: [
    { kind: "equals", field: kw("winlog.channel"), value: "Microsoft-Windows-Sysmon/Operational", cased: false },
    { kind: "number", field: { name: "winlog.event_id", type: "long" }, op: "eq", value: 1 },
    {
      kind: "or",
      children: [
        { kind: "suffix", field: kw("winlog.event_data.Image"), value: "\\whoami.exe", cased: false },
        {
          kind: "not",
          child: { kind: "contains", field: kw("winlog.event_data.CommandLine"), value: "x", cased: false },
        },
      ],
    },
    {
      kind: "keyword",
      fields: [kw("winlog.event_data.User"), kw("winlog.event_data.Image")],
      parts: [{ any: true }],
      cased: false,
    },
  ],
});
const OTHER = rule("other", "low", { kind: "exists", field: kw("winlog.event_data.TargetFilename"), exists: true });

function event(time: string | undefined, image: string, extra: Record<string, unknown> = {}) {
  return {
    ...(time ? { "@timestamp": time } : {}),
    winlog: {
      computer_name: "host-1",
      channel: "Microsoft-Windows-Sysmon/Operational",
      event_id: 1,
      event_data: { Image: image, CommandLine: `${image} /all, "quoted"`, User: "CORP\\bob", ...extra },
    },
  };
}

describe("timeline", () => {
  test("a rule's fields are the fields its IR tests, once each, without the row's fixed columns", () => {
    expect(ruleFields(PROC)).toEqual([
      "winlog.event_data.Image",
      "winlog.event_data.CommandLine",
      "winlog.event_data.User",
    ]);
  });

  test("rows sort by time, then in the order read; events without a time come last", () => {
    const t = new Timeline();
    t.add(event("2024-01-02T00:00:00.000Z", "b.exe"), [PROC], { file: "f", line: 1 });
    t.add(event(undefined, "none.exe"), [PROC], { file: "f", line: 2 });
    t.add(event("2024-01-01T00:00:00.000Z", "a.exe", { TargetFilename: "C:\\x" }), [PROC, OTHER], {
      file: "f",
      line: 3,
    });
    const rows = t.sorted();
    expect(rows.map((r) => [r.timestamp, r.ruleId])).toEqual([
      ["2024-01-01T00:00:00.000Z", "proc"],
      ["2024-01-01T00:00:00.000Z", "other"],
      ["2024-01-02T00:00:00.000Z", "proc"],
      ["", "proc"],
    ]);
    expect(rows[0]).toMatchObject({
      computer: "host-1",
      channel: "Microsoft-Windows-Sysmon/Operational",
      eventId: "1",
      level: "high",
      line: 3,
    });
    expect(rows[0]!.values).toEqual([
      ["winlog.event_data.Image", "a.exe"],
      ["winlog.event_data.CommandLine", 'a.exe /all, "quoted"'],
      ["winlog.event_data.User", "CORP\\bob"],
    ]);
    expect(rows[1]!.values).toEqual([["winlog.event_data.TargetFilename", "C:\\x"]]);
  });

  test("the terminal layout fits the width and names the columns", () => {
    const t = new Timeline();
    const long = `C:\\${"very-long-folder\\".repeat(20)}tool.exe`;
    t.add(event("2024-01-01T10:11:12.123Z", long), [PROC], { file: "f", line: 1 });
    for (const width of [100, 160, 240]) {
      const lines = formatTimeline(t.sorted(), width);
      expect(lines[0]).toMatch(/^time \(UTC\)\s+computer\s+channel:event\s+level\s+rule\s+matched values$/);
      expect(lines[1]).toMatch(
        /^2024-01-01 10:11:12\.123 {2}host-1\s+Sysmon:1\s+high\s+Rule proc\s+Image=C:\\very-long/,
      );
      expect(lines[1]!.endsWith("…")).toBe(true);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
    }
  });

  test("CSV and JSON lines hold the same rows, whole", () => {
    const t = new Timeline();
    t.add(event("2024-01-01T00:00:00.000Z", "a.exe"), [PROC], { file: "e.json", line: 7 });
    const [row] = t.sorted();
    const j = JSON.parse(jsonlRow(row!));
    expect(j).toEqual({
      timestamp: "2024-01-01T00:00:00.000Z",
      computer: "host-1",
      channel: "Microsoft-Windows-Sysmon/Operational",
      event_id: "1",
      level: "high",
      rule_id: "proc",
      rule_title: "Rule proc",
      matched_values: {
        "winlog.event_data.Image": "a.exe",
        "winlog.event_data.CommandLine": 'a.exe /all, "quoted"',
        "winlog.event_data.User": "CORP\\bob",
      },
      file: "e.json",
      line: 7,
    });
    expect(csvHeader()).toBe(
      "timestamp,computer,channel,event_id,level,rule_id,rule_title,matched_values,file,line\r\n",
    );
    const values = JSON.stringify(j.matched_values).replace(/"/g, '""');
    expect(csvRow(row!)).toBe(
      `2024-01-01T00:00:00.000Z,host-1,Microsoft-Windows-Sysmon/Operational,1,high,proc,Rule proc,"${values}",e.json,7\r\n`,
    );
  });
});
