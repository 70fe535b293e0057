import { describe, expect, test } from "bun:test";
import { cond, failure, F } from "../helpers/sigma-compile.ts";

const CL = F("CommandLine");
const IMG = F("Image");

describe("string modifiers", () => {
  test("contains, startswith, endswith pick the predicate shape", () => {
    expect(cond(`    sel:\n        CommandLine|contains: 'vbscript'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "vbscript",
      cased: false,
    });
    expect(cond(`    sel:\n        CommandLine|startswith: 'cmd'\n    condition: sel`)).toEqual({
      kind: "prefix",
      field: CL,
      value: "cmd",
      cased: false,
    });
    expect(cond(`    sel:\n        Image|endswith: '\\mshta.exe'\n    condition: sel`)).toEqual({
      kind: "suffix",
      field: IMG,
      value: "\\mshta.exe",
      cased: false,
    });
  });

  test("contains does not double a wildcard already there; inner wildcards make a wildcard predicate", () => {
    expect(cond(`    sel:\n        CommandLine|contains: '*abc'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "abc",
      cased: false,
    });
    expect(cond(`    sel:\n        CommandLine|contains: 'a*b'\n    condition: sel`)).toEqual({
      kind: "wildcard",
      field: CL,
      parts: [{ any: true }, { lit: "a" }, { any: true }, { lit: "b" }, { any: true }],
      cased: false,
    });
  });

  test("an escaped star under contains stays literal", () => {
    expect(cond(`    sel:\n        CommandLine|contains: 'a\\*b'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "a*b",
      cased: false,
    });
  });

  test("all ANDs the values; without it they are ORed", () => {
    expect(
      cond(`    sel:\n        CommandLine|contains|all:\n            - 'a'\n            - 'b'\n    condition: sel`),
    ).toEqual({
      kind: "and",
      children: [
        { kind: "contains", field: CL, value: "a", cased: false },
        { kind: "contains", field: CL, value: "b", cased: false },
      ],
    });
    expect(
      cond(`    sel:\n        CommandLine|contains:\n            - 'a'\n            - 'b'\n    condition: sel`),
    ).toEqual({
      kind: "or",
      children: [
        { kind: "contains", field: CL, value: "a", cased: false },
        { kind: "contains", field: CL, value: "b", cased: false },
      ],
    });
  });

  test("cased makes matching case-sensitive", () => {
    expect(cond(`    sel:\n        CommandLine|cased: 'AbC'\n    condition: sel`)).toEqual({
      kind: "equals",
      field: CL,
      value: "AbC",
      cased: true,
    });
    expect(cond(`    sel:\n        CommandLine|contains|cased: 'AbC'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "AbC",
      cased: true,
    });
  });

  test("windash: every flag dash becomes -, /, en dash, em dash and horizontal bar", () => {
    const n = cond(`    sel:\n        CommandLine|windash|contains: ' -enc '\n    condition: sel`);
    expect(n).toEqual({
      kind: "or",
      children: ["-", "/", "\u2013", "\u2014", "\u2015"].map((d) => ({
        kind: "contains",
        field: CL,
        value: ` ${d}enc `,
        cased: false,
      })),
    });
  });

  test("windash: contains before windash gives the same; a dash inside a word is left alone", () => {
    const n = cond(`    sel:\n        CommandLine|contains|windash: 'x-y -a'\n    condition: sel`);
    expect(n.kind).toBe("or");
    const values = (n as { children: { value: string }[] }).children.map((c) => c.value);
    expect(values).toEqual(["x-y -a", "x-y /a", "x-y \u2013a", "x-y \u2014a", "x-y \u2015a"]);
  });

  test("windash: two flags give all 25 combinations; /flag is expanded too", () => {
    const n = cond(`    sel:\n        CommandLine|windash|contains: '/s -q'\n    condition: sel`) as {
      kind: string;
      children: { value: string }[];
    };
    expect(n.children.length).toBe(25);
    expect(n.children[0]!.value).toBe("-s -q");
    expect(n.children.map((c) => c.value)).toContain("\u2015s /q");
  });

  test("windash values stay ORed under all, the items are ANDed", () => {
    const n = cond(
      `    sel:\n        CommandLine|windash|contains|all:\n            - ' -a'\n            - ' -b'\n    condition: sel`,
    ) as { kind: string; children: { kind: string; children: unknown[] }[] };
    expect(n.kind).toBe("and");
    expect(n.children.map((c) => [c.kind, c.children.length])).toEqual([
      ["or", 5],
      ["or", 5],
    ]);
  });
});

describe("encodings", () => {
  test("base64 encodes the whole value (case-sensitive equals)", () => {
    expect(cond(`    sel:\n        CommandLine|base64: 'cmd'\n    condition: sel`)).toEqual({
      kind: "equals",
      field: CL,
      value: "Y21k",
      cased: true,
    });
    expect(cond(`    sel:\n        CommandLine|base64|contains: 'cmd'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "Y21k",
      cased: true,
    });
  });

  test("base64offset gives the three alignments as pySigma does, matched anywhere", () => {
    // pySigma: base64offset of 'http://' -> aHR0cDovL, h0dHA6Ly, odHRwOi8v
    const n = cond(`    sel:\n        CommandLine|base64offset|contains: 'http://'\n    condition: sel`);
    expect(n).toEqual({
      kind: "or",
      children: ["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"].map((v) => ({
        kind: "contains",
        field: CL,
        value: v,
        cased: true,
      })),
    });
    // without contains it still matches anywhere (a fragment is never a whole value)
    expect(cond(`    sel:\n        CommandLine|base64offset: 'http://'\n    condition: sel`)).toEqual(n);
  });

  test("each base64offset alignment is found in real encodings of the value at that offset", () => {
    const n = cond(`    sel:\n        CommandLine|base64offset|contains: 'Invoke-Mimikatz'\n    condition: sel`) as {
      children: { value: string }[];
    };
    const frags = n.children.map((c) => c.value);
    for (let pre = 0; pre < 6; pre++) {
      const enc = Buffer.from("x".repeat(pre) + "Invoke-Mimikatz" + "yz").toString("base64");
      expect(frags.some((f) => enc.includes(f))).toBe(true);
    }
  });

  test("utf16le / wide, utf16be, utf16 (with BOM) produce the byte strings; with base64 they are encoded", () => {
    const le = cond(`    sel:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: sel`) as {
      children: { value: string }[];
    };
    // pySigma: 'ping' wide base64offset -> cABpAG4AZw, AAaQBuAGcA, wAGkAbgBnA
    expect(le.children.map((c) => c.value)).toEqual(["cABpAG4AZw", "AAaQBuAGcA", "wAGkAbgBnA"]);
    expect(cond(`    sel:\n        CommandLine|utf16le|base64: 'cmd'\n    condition: sel`)).toEqual({
      kind: "equals",
      field: CL,
      value: Buffer.from("cmd", "utf16le").toString("base64"),
      cased: true,
    });
    const be = Buffer.from([0, 0x63, 0, 0x6d, 0, 0x64]).toString("base64");
    expect(cond(`    sel:\n        CommandLine|utf16be|base64: 'cmd'\n    condition: sel`)).toEqual({
      kind: "equals",
      field: CL,
      value: be,
      cased: true,
    });
    const bom = Buffer.from([0xff, 0xfe, 0x63, 0, 0x6d, 0, 0x64, 0]).toString("base64");
    expect(cond(`    sel:\n        CommandLine|utf16|base64: 'cmd'\n    condition: sel`)).toEqual({
      kind: "equals",
      field: CL,
      value: bom,
      cased: true,
    });
    expect(cond(`    sel:\n        CommandLine|wide|contains: 'ab'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "a\u0000b\u0000",
      cased: false,
    });
  });

  test("non-ASCII text is encoded as UTF-16 code units (not refused as pySigma does)", () => {
    const v = Buffer.from("é", "utf16le").toString("base64");
    expect(cond(`    sel:\n        CommandLine|wide|base64: 'é'\n    condition: sel`)).toEqual({
      kind: "equals",
      field: CL,
      value: v,
      cased: true,
    });
  });

  test("base64 of a value with wildcards is an error", () => {
    const f = failure(`    sel:\n        CommandLine|base64: 'a*'\n    condition: sel`);
    expect(f.status).toBe("error");
    expect(f.error).toContain(
      "detection.sel.CommandLine|base64: modifier 'base64' cannot encode a value with wildcards",
    );
  });
});

describe("regular expressions", () => {
  test("re keeps the pattern as written (no wildcard or escape processing)", () => {
    expect(cond(`    sel:\n        CommandLine|re: '\\\\\\w+\\*.exe$'\n    condition: sel`)).toEqual({
      kind: "regex",
      field: CL,
      regex: { pattern: "\\\\\\w+\\*.exe$", flags: { i: false, m: false, s: false } },
    });
  });

  test("re|i, re|m, re|s set the flags", () => {
    expect(cond(`    sel:\n        CommandLine|re|i|m|s: 'a.b'\n    condition: sel`)).toEqual({
      kind: "regex",
      field: CL,
      regex: { pattern: "a.b", flags: { i: true, m: true, s: true } },
    });
  });

  test("a flag without re is an error; re after another modifier is an error", () => {
    expect(failure(`    sel:\n        CommandLine|i: 'a'\n    condition: sel`).error).toContain(
      "modifier 'i' only applies after 're'",
    );
    expect(failure(`    sel:\n        CommandLine|contains|re: 'a'\n    condition: sel`).error).toContain(
      "modifier 're' must come first",
    );
  });

  test("an invalid regular expression is an error naming it", () => {
    expect(failure(`    sel:\n        CommandLine|re: 'a(b'\n    condition: sel`).error).toContain(
      "invalid regular expression 'a(b'",
    );
  });
});

describe("cidr, exists, comparisons, fieldref", () => {
  const SIP = { name: "winlog.event_data.SourceIp", type: "ip" } as const;
  test("cidr: IPv4 and IPv6 networks; a bare address is a host network", () => {
    expect(
      cond(
        `    sel:\n        SourceIp|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n            - '192.168.1.1'\n    condition: sel`,
      ),
    ).toEqual({
      kind: "or",
      children: [
        { kind: "cidr", field: SIP, cidr: "10.0.0.0/8" },
        { kind: "cidr", field: SIP, cidr: "fe80::/10" },
        { kind: "cidr", field: SIP, cidr: "192.168.1.1/32" },
      ],
    });
    expect(cond(`    sel:\n        SourceIp|cidr: '::ffff:10.0.0.0/104'\n    condition: sel`)).toEqual({
      kind: "cidr",
      field: SIP,
      cidr: "::ffff:10.0.0.0/104",
    });
  });

  test("cidr: invalid networks are errors", () => {
    for (const bad of ["10.0.0.256/8", "10.0.0.0/33", "fe80::1::2/10", "nonsense", "fe80::/129"]) {
      expect(failure(`    sel:\n        SourceIp|cidr: '${bad}'\n    condition: sel`).error).toContain(
        `invalid CIDR network '${bad}'`,
      );
    }
  });

  test("exists true/false", () => {
    expect(cond(`    sel:\n        Image|exists: true\n    condition: sel`)).toEqual({
      kind: "exists",
      field: IMG,
      exists: true,
    });
    expect(cond(`    sel:\n        Image|exists: false\n    condition: sel`)).toEqual({
      kind: "exists",
      field: IMG,
      exists: false,
    });
    expect(failure(`    sel:\n        Image|exists: 'maybe'\n    condition: sel`).error).toContain(
      "modifier 'exists' needs true or false",
    );
  });

  test("gt/gte/lt/lte become number predicates", () => {
    const SIZE = { name: "winlog.event_data.Size", type: "long" } as const;
    expect(cond(`    sel:\n        Size|gt: 10\n    condition: sel`)).toEqual({
      kind: "number",
      field: SIZE,
      op: "gt",
      value: 10,
    });
    expect(cond(`    sel:\n        Size|gte: '10'\n    condition: sel`)).toEqual({
      kind: "number",
      field: SIZE,
      op: "gte",
      value: 10,
    });
    expect(cond(`    sel:\n        Size|lt: 1.5\n    condition: sel`)).toEqual({
      kind: "number",
      field: SIZE,
      op: "lt",
      value: 1.5,
    });
    expect(cond(`    sel:\n        Size|lte: -3\n    condition: sel`)).toEqual({
      kind: "number",
      field: SIZE,
      op: "lte",
      value: -3,
    });
    expect(failure(`    sel:\n        Size|gt: 'big'\n    condition: sel`).error).toContain(
      "modifier 'gt' needs a number",
    );
  });

  test("neq negates each value", () => {
    expect(cond(`    sel:\n        Image|neq: 'a'\n    condition: sel`)).toEqual({
      kind: "not",
      child: { kind: "equals", field: IMG, value: "a", cased: false },
    });
  });

  test("fieldref compares two fields", () => {
    expect(cond(`    sel:\n        Image|fieldref: ParentImage\n    condition: sel`)).toEqual({
      kind: "fieldref",
      field: IMG,
      other: F("ParentImage"),
      cased: false,
    });
    expect(failure(`    sel:\n        Image|fieldref|contains: ParentImage\n    condition: sel`).status).toBe(
      "unsupported",
    );
  });
});

describe("expand (placeholders)", () => {
  test("without values the rule is unsupported with the placeholder's name", () => {
    const f = failure(`    sel:\n        ComputerName|expand: '%Workstations%'\n    condition: sel`);
    expect(f.status).toBe("unsupported");
    expect(f.error).toContain("detection.sel.ComputerName|expand: placeholder %Workstations% has no value");
  });

  test("values replace the placeholder (ORed); values are Sigma strings with wildcards", () => {
    const ph = { Workstations: ["ws-*", "laptop01"] };
    expect(cond(`    sel:\n        ComputerName|expand: '%Workstations%'\n    condition: sel`, ph)).toEqual({
      kind: "or",
      children: [
        { kind: "prefix", field: F("ComputerName"), value: "ws-", cased: false },
        { kind: "equals", field: F("ComputerName"), value: "laptop01", cased: false },
      ],
    });
  });

  test("contains before expand still wraps the expanded values", () => {
    expect(
      cond(`    sel:\n        CommandLine|contains|expand: '\\\\%userdomain%\\\\'\n    condition: sel`, {
        userdomain: ["CORP"],
      }),
    ).toEqual({
      kind: "contains",
      field: CL,
      value: "\\CORP\\",
      cased: false,
    });
  });

  test("without expand, %name% is plain text", () => {
    expect(cond(`    sel:\n        CommandLine|contains: '%APPDATA%'\n    condition: sel`)).toEqual({
      kind: "contains",
      field: CL,
      value: "%APPDATA%",
      cased: false,
    });
  });
});

describe("unknown and unsupported modifiers", () => {
  test("an unknown modifier is an error naming file, line, place and modifier", () => {
    const f = failure(`    selection:\n        Image|foo: 'x'\n    condition: selection`);
    expect(f.status).toBe("error");
    expect(f.error).toBe("rules/test_rule.yml:8: detection.selection.Image|foo: unknown modifier 'foo'");
  });

  test("time modifiers are unsupported with their name", () => {
    expect(failure(`    sel:\n        UtcTime|hour: 3\n    condition: sel`)).toEqual({
      status: "unsupported",
      error: "rules/test_rule.yml:8: detection.sel.UtcTime|hour: time modifier 'hour' is not supported",
    });
  });
});
