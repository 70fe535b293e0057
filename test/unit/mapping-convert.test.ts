/**
 * The Sigma converter and the profiles together: fields a profile resolves to several names
 * (Sysmon 1 / Security 4688) are ORed for values and ANDed for `null` / `exists: false`.
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

test("null on a renamed field: none of the alternatives has a value", () => {
  const c = condition("  sel:\n    Image: null\n  condition: sel");
  // guard AND not-exists(Image) AND not-exists(NewProcessName), flattened into one AND
  if (c.kind !== "and") throw new Error(JSON.stringify(c));
  expect(c.children.length).toBe(3);
  expect(c.children).toContainEqual({ kind: "exists", field: img, exists: false });
  expect(c.children).toContainEqual({ kind: "exists", field: npn, exists: false });
});

test("a value on a renamed field: any alternative", () => {
  const c = condition("  sel:\n    Image|endswith: '\\\\cmd.exe'\n  condition: sel");
  expect(JSON.stringify(c)).toContain(
    JSON.stringify({
      kind: "or",
      children: [
        { kind: "suffix", field: img, value: "\\cmd.exe", cased: false },
        { kind: "suffix", field: npn, value: "\\cmd.exe", cased: false },
      ],
    }),
  );
});
