/**
 * The JavaScript emitter's building blocks without a cluster: Java's number text and parsing, the
 * ip parser against the encoder's bytes, the event's dotted-path leaves, and the matcher and tagger
 * on hand-built rules (shared subtrees, merged keyword searches, whitelists, repeat tagging). Their
 * equality with the live pipeline is checked on the real node (painless-semantics, pipeline-equals-query).
 */
import { describe, expect, test } from "bun:test";
import { Matcher } from "../../src/emit/js/matcher.ts";
import { tagEvent, tagSet } from "../../src/emit/js/tagger.ts";
import { flatten, javaDoubleText, javaNumberText, javaParseDouble } from "../../src/emit/js/values.ts";
import { ipBytes, ipText, isIp, parseIp } from "../../src/ir/ip.ts";
import type { Node } from "../../src/ir/types.ts";
import { kw, long, rule } from "../helpers/rules.ts";

describe("Java number text", () => {
  test("Double.toString", () => {
    expect([1.5, 100, 0.001, 1e7, 1.5e-4, 12345678.9, -0, 0, 1e21].map(javaDoubleText)).toEqual([
      "1.5",
      "100.0",
      "0.001",
      "1.0E7",
      "1.5E-4",
      "1.23456789E7",
      "-0.0",
      "0.0",
      "1.0E21",
    ]);
    expect(javaNumberText(4688)).toBe("4688");
    expect(javaNumberText(0.25)).toBe("0.25");
  });

  test("Double.parseDouble after trim", () => {
    expect([" 12 ", "1.5d", "2F", "1e3", ".5", "-3.", "Infinity"].map(javaParseDouble)).toEqual([
      12,
      1.5,
      2,
      1000,
      0.5,
      -3,
      Infinity,
    ]);
    for (const bad of ["", " ", "0x10", "1_000", "1,5", "abc", "1e", "--1"]) expect(javaParseDouble(bad)).toBeNaN();
  });
});

describe("ip parsing (the Painless oxIp twin)", () => {
  test("valid addresses parse to the encoder's bytes", () => {
    for (const a of [
      "10.1.2.3",
      "0.0.0.0",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "FE80:0:0:0:0:0:0:1",
      "2001:db8::8:800:200c:417a",
      "::ffff:10.9.9.9",
      "1:2:3:4:5:6:7::",
      "64:ff9b::192.0.2.33",
    ]) {
      expect(isIp(a)).toBe(true);
      expect(parseIp(a)).toEqual(ipBytes(a));
    }
  });

  test("invalid addresses are refused", () => {
    for (const a of [
      "-",
      "",
      "1.2.3",
      "01.2.3.4",
      "1.2.3.256",
      "::1::2",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "1.2.3.4/8",
      "g::1",
      ":1:2",
    ])
      expect(parseIp(a)).toBeNull();
  });

  test("canonical text as ip doc values print it", () => {
    const t = (s: string) => ipText(parseIp(s)!);
    expect(t("FE80:0:0:0:0:0:0:1")).toBe("fe80::1");
    expect(t("::ffff:10.9.9.9")).toBe("10.9.9.9");
    expect(t("2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1");
    expect(t("1:0:0:2:0:0:0:3")).toBe("1:0:0:2::3");
  });
});

test("leaves by dotted path: nested objects, literal dotted keys, arrays, nulls left out", () => {
  const out = new Map<string, unknown[]>();
  flatten({ a: { b: [1, null, { c: "x" }] }, "a.b": "y", "a.b.c": ["z"], n: null }, null, out);
  expect(Object.fromEntries(out)).toEqual({ "a.b": [1, "y"], "a.b.c": ["x", "z"] });
});

describe("matcher and tagger", () => {
  const CH = kw("winlog.channel");
  const EID = long("winlog.event_id");
  const IMG = kw("winlog.event_data.Image");
  const CMD = kw("winlog.event_data.CommandLine");
  const guard: Node = {
    kind: "and",
    children: [
      { kind: "equals", field: CH, value: "Microsoft-Windows-Sysmon/Operational", cased: false },
      { kind: "number", field: EID, op: "eq", value: 1 },
    ],
  };
  const rules = [
    rule(
      "r1",
      { kind: "and", children: [guard, { kind: "suffix", field: IMG, value: "\\whoami.exe", cased: false }] },
      { tags: ["attack.t1033"] },
    ),
    rule(
      "r2",
      { kind: "and", children: [guard, { kind: "contains", field: CMD, value: " -enc ", cased: false }] },
      { whitelist: { kind: "contains", field: CMD, value: "trusted", cased: true } },
    ),
    rule("r3", {
      kind: "or",
      children: [
        {
          kind: "keyword",
          fields: [IMG, CMD],
          parts: [{ any: true }, { lit: "mimikatz" }, { any: true }],
          cased: false,
        },
        { kind: "keyword", fields: [CMD], parts: [{ lit: "sekurlsa::" }, { any: true }], cased: false },
      ],
    }),
  ];
  const ev = (img: string, cmd: string) => ({
    winlog: {
      channel: "Microsoft-Windows-Sysmon/Operational",
      event_id: "1",
      event_data: { Image: img, CommandLine: cmd },
    },
  });
  const ids = (m: Matcher, doc: object) => m.match(doc).hits.map((i) => m.rules[i]!.rule.id);

  test("predicates, shared guards, merged keyword searches and whitelists", () => {
    const m = new Matcher(rules);
    expect(m.skipped).toEqual([]);
    expect(ids(m, ev("C:\\Windows\\System32\\WHOAMI.EXE", "whoami"))).toEqual(["r1"]);
    expect(ids(m, ev("C:\\x\\whoami.exe", "powershell -ENC abc"))).toEqual(["r1", "r2"]);
    expect(ids(m, ev("C:\\x\\p.exe", "powershell -enc abc trusted"))).toEqual([]);
    expect(ids(m, ev("C:\\x\\p.exe", "powershell -enc abc TRUSTED"))).toEqual(["r2"]);
    expect(ids(m, { message: "x", winlog: { event_data: { CommandLine: "SEKURLSA::logonpasswords" } } })).toEqual([
      "r3",
    ]);
    expect(ids(m, { winlog: { event_data: { Image: "C:\\MimiKatz.exe" } } })).toEqual(["r3"]);
    expect(
      ids(m, { winlog: { channel: "Security", event_id: 1, event_data: { Image: "C:\\x\\whoami.exe" } } }),
    ).toEqual([]);
  });

  test("a rule the live pipeline cannot take is skipped with the reason, the others run", () => {
    const bad = rule("bad", { kind: "cidr", field: IMG, cidr: "10.0.0.0/8" });
    const m = new Matcher([bad, rules[0]!]);
    expect(m.skipped).toEqual([
      { id: "bad", reason: "winlog.event_data.Image|cidr: the field is mapped as keyword, not ip" },
    ]);
    expect(m.rules.map((r) => r.rule.id)).toEqual(["r1"]);
  });

  test("tags as the pipeline writes them, never a rule twice", () => {
    const m = new Matcher(rules);
    const set = tagSet(m.rules.map((r) => r.rule));
    const doc: Record<string, unknown> = { ...ev("C:\\x\\whoami.exe", "a -enc b"), tags: "seen" };
    expect(tagEvent(doc, set, m.match(doc).hits, [])).toBe(2);
    expect(doc.tags).toEqual(["seen", "outlier"]);
    expect(doc.threat).toEqual({ technique: { id: ["T1033"] } });
    expect(doc.outliers).toEqual({
      rule_id: ["r1", "r2"],
      type: ["Sigma hit", "Sigma hit"],
      reason: ["Sigma hit - Rule r1", "Sigma hit - Rule r2"],
      summary: ["Sigma hit - Rule r1", "Sigma hit - Rule r2"],
      model_name: ["Rule r1", "Rule r2"],
      model_type: ["sigma", "sigma"],
      level: ["informational", "informational"],
      max_level: "informational",
      max_severity: 1,
      total_outliers: 2,
      added: {
        outliers_created: true,
        entries: [
          { r: "r1", k: "rule_id", p: 0, n: 1 },
          { r: "r1", k: "type", p: 0, n: 1 },
          { r: "r1", k: "reason", p: 0, n: 1 },
          { r: "r1", k: "summary", p: 0, n: 1 },
          { r: "r1", k: "model_name", p: 0, n: 1 },
          { r: "r1", k: "model_type", p: 0, n: 1 },
          { r: "r1", k: "level", p: 0, n: 1 },
          { r: "r2", k: "rule_id", p: 1, n: 1 },
          { r: "r2", k: "type", p: 1, n: 1 },
          { r: "r2", k: "reason", p: 1, n: 1 },
          { r: "r2", k: "summary", p: 1, n: 1 },
          { r: "r2", k: "model_name", p: 1, n: 1 },
          { r: "r2", k: "model_type", p: 1, n: 1 },
          { r: "r2", k: "level", p: 1, n: 1 },
        ],
        scalars: [{ p: "tags", s: "seen" }],
        total: { base: 0 },
        outlier_tag: true,
        threat_created: ["threat", "threat.technique"],
        techniques: [["T1033", "r1"]],
      },
    });
    const again = structuredClone(doc);
    expect(tagEvent(again, set, m.match(again).hits, [])).toBe(0);
    expect(again).toEqual(doc);
  });

  test('rules another writer recorded in a scalar rule_id: the other lists get "" for them first', () => {
    const m = new Matcher(rules);
    const set = tagSet(m.rules.map((r) => r.rule));
    const doc: Record<string, unknown> = {
      ...ev("C:\\x\\whoami.exe", "x"),
      outliers: { rule_id: "old", summary: "theirs" },
    };
    expect(tagEvent(doc, set, m.match(doc).hits, [])).toBe(1);
    const o = doc.outliers as Record<string, unknown>;
    expect(o.rule_id).toEqual(["old", "r1"]);
    expect(o.summary).toEqual(["theirs", "Sigma hit - Rule r1"]);
    expect(o.reason).toEqual(["", "Sigma hit - Rule r1"]);
    expect(o.model_name).toEqual(["", "Rule r1"]);
    expect(o.model_type).toEqual(["", "sigma"]);
    expect(o.type).toEqual(["Sigma hit"]);
    expect(o.total_outliers).toBe(2);
    // Provenance names exactly what this tool appended: the "" padding (owner "") and r1's entries.
    expect((o.added as Record<string, unknown>).entries).toEqual([
      { r: "r1", k: "rule_id", p: 1, n: 1 },
      { r: "r1", k: "type", p: 0, n: 1 },
      { r: "", k: "reason", p: 0, n: 1 },
      { r: "r1", k: "reason", p: 1, n: 1 },
      { r: "r1", k: "summary", p: 1, n: 1 },
      { r: "", k: "model_name", p: 0, n: 1 },
      { r: "r1", k: "model_name", p: 1, n: 1 },
      { r: "", k: "model_type", p: 0, n: 1 },
      { r: "r1", k: "model_type", p: 1, n: 1 },
      { r: "", k: "level", p: 0, n: 1 },
      { r: "r1", k: "level", p: 1, n: 1 },
    ]);
  });
});
