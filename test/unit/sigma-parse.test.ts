import { describe, expect, test } from "bun:test";
import { deepMerge, mayHaveDuplicateKeys, NumLit, parseSigmaFile } from "../../src/rules/sigma/parse.ts";
import { compileYaml, okRule } from "../helpers/sigma-compile.ts";

const GLOBAL = `action: global
title: Base title
id: aaaaaaaa-0000-0000-0000-000000000000
tags:
    - attack.execution
    - attack.t1059.001
logsource:
    product: windows
detection:
    base:
        Image|endswith: '\\\\evil.exe'
    condition: base and extra
level: high
---
logsource:
    service: security
detection:
    extra:
        EventID: 4688
---
title: Second title
logsource:
    category: process_creation
detection:
    extra:
        CommandLine|contains: 'x'
`;

describe("rule documents", () => {
  test("metadata is read into the rule", () => {
    const r = okRule(
      compileYaml(
        `title: T
id: 0b7f1d4f-1f1a-4a4a-9c9c-000000000001
status: experimental
description: what it finds
author: someone
references:
    - https://example.org/a
tags:
    - attack.defense_evasion
    - attack.t1140
    - attack.T1218.005
    - car.2013-05-004
logsource:
    product: windows
    category: process_creation
falsepositives:
    - admins
fields:
    - CommandLine
detection:
    sel:
        Image: x
    condition: sel
level: medium
`,
        undefined,
        "rules/win_mshta_thing.yml",
      )[0],
    );
    expect(r).toMatchObject({
      id: "0b7f1d4f-1f1a-4a4a-9c9c-000000000001",
      title: "T",
      status: "experimental",
      level: "medium",
      description: "what it finds",
      author: "someone",
      references: ["https://example.org/a"],
      falsepositives: ["admins"],
      logsource: { product: "windows", category: "process_creation" },
      index: ["windows-*"],
      timeField: "@timestamp",
      source: { format: "sigma", path: "rules/win_mshta_thing.yml", section: "0" },
      tagsOut: {
        type: ["Sigma hit", "attack.defense_evasion", "attack.t1140", "attack.T1218.005", "car.2013-05-004"],
        reason: "Sigma hit - T",
        summary: "Sigma hit - T",
        modelName: "win_mshta_thing",
        modelType: "sigma",
        techniques: ["T1140", "T1218.005"],
        extra: {},
      },
    });
    // the logsource guard is ANDed into the condition
    expect(r.condition).toEqual({
      kind: "and",
      children: [
        { kind: "equals", field: { name: "event.category", type: "keyword" }, value: "process_creation", cased: false },
        { kind: "equals", field: { name: "winlog.event_data.Image", type: "keyword" }, value: "x", cased: false },
      ],
    });
  });

  test("action: global is deep-merged into every following document", () => {
    const rs = compileYaml(GLOBAL, undefined, "rules/multi.yml");
    expect(rs.length).toBe(2);
    const [r1, r2] = rs.map(okRule) as [ReturnType<typeof okRule>, ReturnType<typeof okRule>];
    expect(r1.title).toBe("Base title");
    expect(r1.logsource).toEqual({ product: "windows", service: "security" });
    expect(r1.tags).toEqual(["attack.execution", "attack.t1059.001"]);
    expect(r1.tagsOut.techniques).toEqual(["T1059.001"]);
    expect(r1.condition).toEqual({
      kind: "and",
      children: [
        { kind: "equals", field: { name: "winlog.channel", type: "keyword" }, value: "security", cased: false },
        {
          kind: "suffix",
          field: { name: "winlog.event_data.Image", type: "keyword" },
          value: "\\evil.exe",
          cased: false,
        },
        { kind: "number", field: { name: "winlog.event_id", type: "long" }, op: "eq", value: 4688 },
      ],
    });
    expect(r2.title).toBe("Second title");
    expect(r2.logsource).toEqual({ product: "windows", category: "process_creation" });
    // same id in one file: the later document gets a suffixed id, with a warning
    expect(r1.id).toBe("aaaaaaaa-0000-0000-0000-000000000000");
    expect(r2.id).toBe("aaaaaaaa-0000-0000-0000-000000000000:2");
    expect(r1.source.section).toBe("1");
    expect(r2.source.section).toBe("2");
    expect(r1.tagsOut.modelName).toBe("multi_1");
    expect(r2.tagsOut.modelName).toBe("multi_2");
    const w = rs[1]!.status === "ok" ? rs[1]!.warnings : undefined;
    expect(w?.some((x) => x.includes("shared with an earlier document"))).toBe(true);
  });

  test("action: reset drops the global part; action: repeat reuses the previous rule", () => {
    const text = `action: global
logsource:
    product: windows
detection:
    condition: sel
---
title: One
id: 00000000-0000-0000-0000-000000000001
detection:
    sel:
        Image: a
---
action: repeat
title: Two
id: 00000000-0000-0000-0000-000000000002
detection:
    sel:
        Image: b
---
action: reset
---
title: Three
id: 00000000-0000-0000-0000-000000000003
detection:
    sel:
        Image: c
    condition: sel
`;
    const rs = compileYaml(text);
    expect(rs.map((r) => r.status)).toEqual(["ok", "ok", "error"]);
    expect(okRule(rs[1]).condition).toMatchObject({ kind: "equals", value: "b" });
    expect(okRule(rs[1]).title).toBe("Two");
    // after reset the third has no logsource any more
    expect(rs[2]!.status !== "ok" && rs[2]!.error).toBe("rules/test_rule.yml:22: logsource: missing logsource");
  });

  test("plain multi-document files are independent rules", () => {
    const one = (n: number) =>
      `title: R${n}\nid: 00000000-0000-0000-0000-00000000000${n}\nlogsource:\n    product: windows\ndetection:\n    s:\n        Image: v${n}\n    condition: s\n`;
    const rs = compileYaml(`${one(1)}---\n${one(2)}`);
    expect(rs.map((r) => okRule(r).title)).toEqual(["R1", "R2"]);
  });

  test("deepMerge: maps merge recursively, lists and scalars are replaced", () => {
    expect(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2], e: 3 } })).toEqual({
      a: { b: 1, c: [2], e: 3 },
      d: 1,
    });
  });

  test("numbers keep their source text when it is not canonical", () => {
    const docs = parseSigmaFile(
      "x.yml",
      `title: t\nlogsource:\n    product: windows\ndetection:\n    s:\n        A: 0x17\n        B: 1.0\n        C: 4688\n    condition: s\n`,
    );
    const s = "rule" in docs[0]! ? (docs[0].rule.detection.searches.get("s") as Record<string, unknown>) : {};
    expect(s).toEqual({ A: new NumLit(23, "0x17"), B: new NumLit(1, "1.0"), C: 4688 });
  });
});

describe("validation errors name the file, the line and the place", () => {
  const bad = (text: string) => {
    const r = compileYaml(text, undefined, "rules/bad.yml")[0]!;
    if (r.status === "ok") throw new Error("expected failure");
    return r.error;
  };

  test("invalid YAML", () => {
    expect(bad("title: x\ndetection:\n  a: [1, 2\n")).toMatch(/^rules\/bad\.yml:\d+: invalid YAML: /);
  });
  test("a YAML file that is not a Sigma rule", () => {
    expect(bad("id: 1\nregression_tests_info:\n    - name: x\n")).toBe(
      "rules/bad.yml:1: not a Sigma rule (no title, logsource or detection)",
    );
  });
  test("a key repeated in one map is an error (the native parser would keep only the last)", () => {
    expect(
      bad(
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        CommandLine|contains: a\n        CommandLine|contains: b\n    condition: s\n",
      ),
    ).toBe(
      "rules/bad.yml:7: duplicate key 'CommandLine|contains' in one map (YAML keys must be unique; one value would be lost)",
    );
  });
  test("not a map", () => {
    expect(bad("- a\n- b\n")).toBe("rules/bad.yml:1: a Sigma rule document must be a YAML map, not a list");
  });
  test("missing title / logsource / detection / condition", () => {
    expect(bad("logsource:\n    product: x\ndetection:\n    s: a\n    condition: s\n")).toBe(
      "rules/bad.yml:1: title: missing title",
    );
    expect(bad("title: t\ndetection:\n    s: a\n    condition: s\n")).toBe(
      "rules/bad.yml:1: logsource: missing logsource",
    );
    expect(bad("title: t\nlogsource:\n    product: x\n")).toBe("rules/bad.yml:1: detection: missing detection");
    expect(bad("title: t\nlogsource:\n    product: x\ndetection:\n    s: a\n")).toBe(
      "rules/bad.yml:4: detection: missing detection.condition",
    );
  });
  test("wrong shapes in the detection", () => {
    expect(
      bad(
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        Image:\n            a: 1\n    condition: s\n",
      ),
    ).toBe("rules/bad.yml:6: detection.s.Image: a value must be a string, number, boolean or null, not a map");
    expect(bad("title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        Image: []\n    condition: s\n")).toBe(
      "rules/bad.yml:6: detection.s.Image: empty value list",
    );
    expect(bad("title: t\nlogsource:\n    product: x\ndetection:\n    s:\n    condition: s\n")).toBe(
      "rules/bad.yml:5: detection.s: empty search identifier",
    );
    expect(bad("title: t\nlogsource:\n    product: x\ndetection:\n    s: a\n    condition: 5\n")).toBe(
      "rules/bad.yml:6: detection.condition: condition must be a string or a list of strings",
    );
  });
  test("errors inside lists of maps point at the list item", () => {
    expect(
      bad(
        "title: t\nlogsource:\n    product: x\ndetection:\n    s:\n        - Image: a\n        - Image|nope: b\n    condition: s\n",
      ),
    ).toBe("rules/bad.yml:7: detection.s.1.Image|nope: unknown modifier 'nope'");
  });
  test("an unsupported logsource names the reason", () => {
    const r = compileYaml(
      "title: t\nid: x1\nlogsource:\n    product: unsupportedproduct\ndetection:\n    s: a\n    condition: s\n",
    )[0]!;
    expect(r).toEqual({
      status: "unsupported",
      id: "x1",
      title: "t",
      path: "rules/test_rule.yml",
      error:
        "rules/test_rule.yml:3: logsource: logsource product 'unsupportedproduct' is not supported by profile 'test'",
      location: { path: "rules/test_rule.yml", line: 3, yamlPath: ["logsource"] },
    });
  });
  test("a correlation document is read (its references are resolved with the whole rule set: correlation-parse.test.ts)", () => {
    const r = compileYaml(
      "title: c\nid: c1\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    condition: {gte: 2}\n",
    )[0]!;
    expect(r.status).toBe("ok");
    expect(r.status === "ok" && r.rule.correlation?.type).toBe("event_count");
  });
});

describe("the duplicate-key trigger", () => {
  test.each([
    ["a: 1\na: 2\n", true],
    ["a:\n    b: 1\n    b: 2\n", true],
    ["l:\n  - a: 1\n    a: 2\n", true],
    ["'q': 1\n\"q\": 2\nq: 3\n", true],
    ["a:\n  b: 1\nc:\n  b: 2\n", false],
    ["l:\n  - a: 1\n    b: 2\n  - a: 3\n", false],
    ["d: |\n  x: 1\n  x: 2\ne: 1\n", false],
    ["a: 1 # b: 2\nb: 3\n", false],
    ["a: 'x: 1'\nb: 'x: 1'\n", false],
    ["a: 1\n---\na: 2\n", false],
  ])("%j -> %p", (text, want) => {
    expect(mayHaveDuplicateKeys(text)).toBe(want);
  });
});
