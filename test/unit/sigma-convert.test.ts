import { describe, expect, test } from "bun:test";
import { compileYaml, cond, failure, F, okRule, ruleWith } from "../helpers/sigma-compile.ts";

const IMG = F("Image");
const EID = { name: "winlog.event_id", type: "long" } as const;
const KW = [{ name: "message", type: "text", keywordSubfield: "keyword" }, F("CommandLine")] as {
  name: string;
  type: "text" | "keyword";
  keywordSubfield?: string;
}[];

describe("detection shapes", () => {
  test("a map is the AND of its fields; a list of maps is the OR of the maps", () => {
    expect(cond(`    s:\n        Image: a\n        User: b\n    condition: s`)).toEqual({
      kind: "and",
      children: [
        { kind: "equals", field: IMG, value: "a", cased: false },
        { kind: "equals", field: F("User"), value: "b", cased: false },
      ],
    });
    expect(cond(`    s:\n        - Image: a\n          User: b\n        - Image: c\n    condition: s`)).toEqual({
      kind: "or",
      children: [
        {
          kind: "and",
          children: [
            { kind: "equals", field: IMG, value: "a", cased: false },
            { kind: "equals", field: F("User"), value: "b", cased: false },
          ],
        },
        { kind: "equals", field: IMG, value: "c", cased: false },
      ],
    });
  });

  test("a keyword list is ORed keyword predicates over the profile's keyword fields, each found anywhere in a value", () => {
    expect(cond(`    keywords:\n        - 'event::clear'\n        - '*mimikatz*'\n    condition: keywords`)).toEqual({
      kind: "or",
      children: [
        { kind: "keyword", fields: KW, parts: [{ any: true }, { lit: "event::clear" }, { any: true }], cased: false },
        { kind: "keyword", fields: KW, parts: [{ any: true }, { lit: "mimikatz" }, { any: true }], cased: false },
      ],
    });
  });

  test("'|all': keywords are ANDed; '|contains': keywords get wildcards", () => {
    expect(
      cond(`    k:\n        '|all':\n            - 'Oab'\n            - ' -ExternalUrl '\n    condition: k`),
    ).toEqual({
      kind: "and",
      children: [
        { kind: "keyword", fields: KW, parts: [{ any: true }, { lit: "Oab" }, { any: true }], cased: false },
        { kind: "keyword", fields: KW, parts: [{ any: true }, { lit: " -ExternalUrl " }, { any: true }], cased: false },
      ],
    });
    expect(cond(`    k:\n        '|contains': 'abc'\n    condition: k`)).toEqual({
      kind: "keyword",
      fields: KW,
      parts: [{ any: true }, { lit: "abc" }, { any: true }],
      cased: false,
    });
  });

  test("a field on several index fields is their OR", () => {
    expect(cond(`    s:\n        Hashes|contains: 'abc'\n    condition: s`)).toEqual({
      kind: "or",
      children: [
        { kind: "contains", field: F("Hashes"), value: "abc", cased: false },
        { kind: "contains", field: { name: "hash.all", type: "keyword" }, value: "abc", cased: false },
      ],
    });
  });

  test("an unmapped field makes the rule unsupported with the profile's reason", () => {
    expect(failure(`    s:\n        Unmapped: x\n    condition: s`)).toEqual({
      status: "unsupported",
      error: "rules/test_rule.yml:8: detection.s.Unmapped: field 'Unmapped' is not mapped by profile 'test'",
    });
  });
});

describe("special values", () => {
  test("null is exists:false; '' is equals ''; '*' alone is exists:true", () => {
    expect(cond(`    s:\n        Image: null\n    condition: s`)).toEqual({
      kind: "exists",
      field: IMG,
      exists: false,
    });
    expect(cond(`    s:\n        Image: ''\n    condition: s`)).toEqual({
      kind: "equals",
      field: IMG,
      value: "",
      cased: false,
    });
    expect(cond(`    s:\n        Image: '*'\n    condition: s`)).toEqual({ kind: "exists", field: IMG, exists: true });
  });

  test("null among other values", () => {
    expect(cond(`    s:\n        Image:\n            - null\n            - ''\n    condition: s`)).toEqual({
      kind: "or",
      children: [
        { kind: "exists", field: IMG, exists: false },
        { kind: "equals", field: IMG, value: "", cased: false },
      ],
    });
  });

  test("numbers: number eq on numeric fields, the text as written on keyword fields", () => {
    expect(cond(`    s:\n        EventID:\n            - 4688\n            - '1'\n    condition: s`)).toEqual({
      kind: "or",
      children: [
        { kind: "number", field: EID, op: "eq", value: 4688 },
        { kind: "number", field: EID, op: "eq", value: 1 },
      ],
    });
    expect(cond(`    s:\n        Status: 0x17\n    condition: s`)).toEqual({
      kind: "equals",
      field: F("Status"),
      value: "0x17",
      cased: false,
    });
    expect(cond(`    s:\n        Version: 1.0\n    condition: s`)).toEqual({
      kind: "equals",
      field: F("Version"),
      value: "1.0",
      cased: false,
    });
    expect(cond(`    s:\n        LogonType: 3\n    condition: s`)).toEqual({
      kind: "equals",
      field: F("LogonType"),
      value: "3",
      cased: false,
    });
  });

  test("booleans compare as their text", () => {
    expect(cond(`    s:\n        Enabled: true\n    condition: s`)).toEqual({
      kind: "equals",
      field: F("Enabled"),
      value: "true",
      cased: false,
    });
  });

  test("string predicate values are the raw strings, not lowercased", () => {
    expect(cond(`    s:\n        Image|endswith: '\\PowerShell.EXE'\n    condition: s`)).toEqual({
      kind: "suffix",
      field: IMG,
      value: "\\PowerShell.EXE",
      cased: false,
    });
  });

  test("Windows paths with single and trailing backslashes stay literal", () => {
    expect(cond(`    s:\n        Image|startswith: 'C:\\Windows\\'\n    condition: s`)).toEqual({
      kind: "prefix",
      field: IMG,
      value: "C:\\Windows\\",
      cased: false,
    });
    // a single backslash before * escapes the star (spec): literal text
    expect(cond(`    s:\n        Image: 'C:\\Windows\\*\\cmd.exe'\n    condition: s`)).toEqual({
      kind: "equals",
      field: IMG,
      value: "C:\\Windows*\\cmd.exe",
      cased: false,
    });
    expect(cond(`    s:\n        Image: 'C:\\Windows\\\\*\\cmd.exe'\n    condition: s`)).toEqual({
      kind: "wildcard",
      field: IMG,
      parts: [{ lit: "C:\\Windows\\" }, { any: true }, { lit: "\\cmd.exe" }],
      cased: false,
    });
  });
});

describe("rule ids and tags", () => {
  test("a rule without id gets a stable id derived from its path, with a warning", () => {
    const text = ruleWith(`    s:\n        Image: a\n    condition: s`).replace(/^id: .*\n/m, "");
    const a = compileYaml(text, undefined, "rules/x/no_id.yml")[0]!;
    const b = compileYaml(text, undefined, "rules/x/no_id.yml")[0]!;
    const c = compileYaml(text, undefined, "rules/y/no_id.yml")[0]!;
    expect(okRule(a).id).toBe(okRule(b).id);
    expect(okRule(a).id).not.toBe(okRule(c).id);
    expect(okRule(a).id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.status === "ok" && a.warnings?.[0]).toContain("no id; using");
  });
});
