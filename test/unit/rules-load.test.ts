import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findRuleFiles, loadRules, RULE_KINDS, type RuleKind } from "../../src/rules/load.ts";
import type { CompileResult } from "../../src/ir/types.ts";
import { testProfile } from "../helpers/sigma-test-profile.ts";

const pathOf = (r: CompileResult) => (r.status === "ok" ? r.rule.source.path : r.path);

const rule = (id: string, title: string, image = "a") =>
  `title: ${title}\nid: ${id}\nlogsource:\n    product: windows\ndetection:\n    s:\n        Image: ${image}\n    condition: s\n`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "outliers-load-"));
  mkdirSync(join(dir, "rules/sub/deeper"), { recursive: true });
  writeFileSync(join(dir, "rules/b.yml"), rule("id-b", "B"));
  writeFileSync(join(dir, "rules/a.yaml"), rule("id-a", "A"));
  writeFileSync(join(dir, "rules/sub/c.yml"), rule("id-c", "C"));
  writeFileSync(join(dir, "rules/sub/deeper/dup.yml"), rule("id-a", "Dup of A"));
  writeFileSync(join(dir, "rules/sub/broken.yml"), "title: [oops\n");
  writeFileSync(join(dir, "rules/README.md"), "# not a rule\n");
  writeFileSync(join(dir, "notes.txt"), "not a rule\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadRules", () => {
  test("a folder is searched recursively; results sorted by path; broken files and duplicate ids are per-file errors", () => {
    const rs = loadRules([join(dir, "rules")], { profile: testProfile });
    expect(rs.map((r) => [pathOf(r).slice(dir.length + 1), r.status])).toEqual([
      ["rules/a.yaml", "ok"],
      ["rules/b.yml", "ok"],
      ["rules/sub/broken.yml", "error"],
      ["rules/sub/c.yml", "ok"],
      ["rules/sub/deeper/dup.yml", "error"],
    ]);
    const dup = rs[4]!;
    expect(dup.status !== "ok" && dup.error).toBe(
      `${join(dir, "rules/sub/deeper/dup.yml")}: duplicate rule id 'id-a' (already used by ${join(dir, "rules/a.yaml")})`,
    );
    expect(rs[2]!.status !== "ok" && rs[2]!.error).toMatch(/broken\.yml:\d+: invalid YAML/);
  });

  test("globs (Bun.Glob), files, and a missing path", () => {
    const rs = loadRules([join(dir, "rules/*.yml"), join(dir, "rules/sub/c.yml"), join(dir, "nope.yml")], {
      profile: testProfile,
    });
    expect(rs.map((r) => [pathOf(r).slice(dir.length + 1), r.status])).toEqual([
      ["nope.yml", "error"],
      ["rules/b.yml", "ok"],
      ["rules/sub/c.yml", "ok"],
    ]);
    expect(rs[0]!.status !== "ok" && rs[0]!.error).toBe(
      `${join(dir, "nope.yml")}: no such file, folder or matching glob`,
    );
  });

  test("an explicit file of unknown kind is an error; the others still load", () => {
    const rs = loadRules([join(dir, "notes.txt"), join(dir, "rules/b.yml")], { profile: testProfile });
    expect(rs.map((r) => r.status)).toEqual(["error", "ok"]);
    expect(rs[0]!.status !== "ok" && rs[0]!.error).toContain("unknown rule file type '.txt'");
  });

  test("no PATHS means ./rules", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { files } = findRuleFiles([]);
      expect(files.map((f) => f.replace(/^\.\//, ""))).toEqual([
        "rules/a.yaml",
        "rules/b.yml",
        "rules/sub/broken.yml",
        "rules/sub/c.yml",
        "rules/sub/deeper/dup.yml",
      ]);
    } finally {
      process.chdir(cwd);
    }
  });

  test("relative globs keep relative paths", () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const rs = loadRules(["rules/**/*.yaml"], { profile: testProfile });
      expect(rs.map(pathOf)).toEqual(["rules/a.yaml"]);
    } finally {
      process.chdir(cwd);
    }
  });

  test("a rule kind compiles all its files at once; a failing compiler loses only its own files", () => {
    writeFileSync(join(dir, "rules/x.fake1"), "x\n");
    writeFileSync(join(dir, "rules/y.fake2"), "y\n");
    const seen: string[][] = [];
    const kind: RuleKind = {
      name: "test-set",
      extensions: [".fake1", ".fake2"],
      compile(files) {
        seen.push(files.map((f) => f.path.slice(dir.length + 1)));
        throw new Error("boom");
      },
    };
    RULE_KINDS.push(kind);
    try {
      const rs = loadRules([join(dir, "rules")], { profile: testProfile });
      expect(seen).toEqual([["rules/x.fake1", "rules/y.fake2"]]);
      const failed = rs.flatMap((r) => (r.status === "ok" ? [] : [r.error.slice(dir.length + 1)]));
      expect(failed).toContain("rules/x.fake1: test-set compiler failed: boom");
      expect(failed).toContain("rules/y.fake2: test-set compiler failed: boom");
      expect(rs.filter((r) => r.status === "ok").length).toBe(3);
    } finally {
      RULE_KINDS.splice(RULE_KINDS.indexOf(kind), 1);
      rmSync(join(dir, "rules/x.fake1"));
      rmSync(join(dir, "rules/y.fake2"));
    }
  });
});
