/**
 * The Sigma converter and the profiles together: fields a profile resolves to several names
 * (Sysmon 1 / Security 4688) compile once per source, each under its own guard (issue 17 item 6).
 */
import { expect, test } from "bun:test";
import type { Node } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileSigmaText } from "../../src/rules/sigma/index.ts";

const profile = loadProfile("winlogbeat");

function condition(detection: string): Node {
  const text = `title: t
id: 00000000-0000-0000-0000-000000000001
logsource:
  product: windows
  category: process_creation
detection:
${detection}
`;
  const [r] = compileSigmaText("t.yml", text, { profile });
  if (!r || r.status !== "ok") throw new Error(JSON.stringify(r));
  return r.rule.condition;
}

const img = { name: "winlog.event_data.Image", type: "keyword" } as const;
const npn = { name: "winlog.event_data.NewProcessName", type: "keyword" } as const;

const sysmon1 = {
  kind: "and",
  children: [
    {
      kind: "equals",
      field: { name: "winlog.channel", type: "keyword" },
      value: "Microsoft-Windows-Sysmon/Operational",
      cased: false,
    },
    { kind: "number", field: { name: "winlog.event_id", type: "long" }, op: "eq", value: 1 },
  ],
};
const sec4688 = {
  kind: "and",
  children: [
    { kind: "equals", field: { name: "winlog.channel", type: "keyword" }, value: "Security", cased: false },
    { kind: "number", field: { name: "winlog.event_id", type: "long" }, op: "eq", value: 4688 },
  ],
};

// Issue 17 item 6: each source's name applies only under that source's guard.
test("null on a renamed field: the source's own name has no value, per source", () => {
  const c = condition("  sel:\n    Image: null\n  condition: sel");
  expect(c).toEqual({
    kind: "or",
    children: [
      { kind: "and", children: [...sysmon1.children, { kind: "exists", field: img, exists: false }] },
      { kind: "and", children: [...sec4688.children, { kind: "exists", field: npn, exists: false }] },
    ],
  } as Node);
});

test("a value on a renamed field: Image under Sysmon 1, NewProcessName under Security 4688", () => {
  const c = condition("  sel:\n    Image|endswith: '\\\\cmd.exe'\n  condition: sel");
  expect(c).toEqual({
    kind: "or",
    children: [
      {
        kind: "and",
        children: [...sysmon1.children, { kind: "suffix", field: img, value: "\\cmd.exe", cased: false }],
      },
      {
        kind: "and",
        children: [...sec4688.children, { kind: "suffix", field: npn, value: "\\cmd.exe", cased: false }],
      },
    ],
  } as Node);
});

test("a rule on no renamed field keeps one tree under the ORed guard", () => {
  const c = condition("  sel:\n    CommandLine|contains: 'whoami'\n  condition: sel");
  expect(c.kind).toBe("and");
  expect(JSON.stringify(c)).not.toContain("NewProcessName");
});
