/** Placeholder values (--placeholders): a plain YAML map or a sigma-cli pipeline's `vars:`; missing ones named with the fix. */
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { missingPlaceholders, placeholderHint, readPlaceholders } from "../../src/commands/rule-set.ts";
import { runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-placeholders-"));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const ET = path.resolve(import.meta.dir, "../../../shared/sigma/rules-emerging-threats");

test("a plain map and a sigma-cli pipeline file (vars:) give the same values", () => {
  const plain = file("plain.yml", "known_cdcs:\n  - CDC01\n  - CDC02\nadmins: root\n");
  const pipeline = file(
    "pipeline.yml",
    "name: site values\npriority: 10\nvars:\n  known_cdcs:\n    - CDC01\n    - CDC02\n  admins: root\ntransformations:\n  - type: value_placeholders\n    include: [known_cdcs, admins]\n",
  );
  const want = { known_cdcs: ["CDC01", "CDC02"], admins: ["root"] };
  expect(readPlaceholders(plain)).toEqual(want);
  expect(readPlaceholders(pipeline)).toEqual(want);
  expect(() => readPlaceholders(file("bad.yml", "vars:\n  x:\n    - {a: 1}\ntransformations: []\n"))).toThrow(
    /bad\.yml.*x: a placeholder's values are strings or numbers/,
  );
});

test("missing placeholders are counted per name and the hint says how to supply them", () => {
  const m = missingPlaceholders([
    {
      status: "unsupported",
      path: "a.yml",
      error: "a.yml:3: detection.s.X|expand: placeholder %known_cdcs% has no value",
    },
    {
      status: "unsupported",
      path: "b.yml",
      error: "b.yml:3: detection.s.X|expand: placeholder %known_cdcs% has no value",
    },
    { status: "error", path: "c.yml", error: "c.yml: something else" },
  ]);
  expect(m).toEqual({ known_cdcs: 2 });
  expect(placeholderHint(m)).toContain("%known_cdcs% (2 rules)");
  expect(placeholderHint(m)).toContain("--placeholders FILE");
  expect(placeholderHint({})).toBe("");
});

test("compile of emerging-threats: exit 1 naming %known_cdcs% and the fix; with a sigma-cli pipeline file, exit 0", async () => {
  const out = path.join(dir, "et.json");
  const without = await runBin(["compile", ET, "--target", "dsl", "--out", out]);
  expect(without.code).toBe(1);
  expect(without.stderr).toMatch(/placeholders without a value: %known_cdcs% \(\d+ rules?\).*--placeholders FILE/);
  const pipeline = file("cdcs.yml", "name: cdcs\nvars:\n  known_cdcs: [CDC01]\ntransformations: []\n");
  const withValues = await runBin(["compile", ET, "--target", "dsl", "--out", out, "--placeholders", pipeline]);
  expect(withValues.stderr).toBe("");
  expect(withValues.code).toBe(0);
});
