/**
 * Rule selection (src/rules/select.ts): each filter's meaning, the default status set, a rule without
 * a level or status, the exclude file (ids, titles, paths, folders, comments; a bad file names its
 * line) and the per-filter, per-level counts every summary prints.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Rule } from "../../src/ir/types.ts";
import { formatSelection, readExcludeFile, selectionFrom, selectRules } from "../../src/rules/select.ts";
import { InputError, UsageError } from "../../src/util/errors.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "outliers-select-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rule(id: string, level: string | undefined, status: string | undefined, tags: string[] = [], file?: string) {
  return {
    id,
    title: `Title ${id}`,
    level,
    status,
    tags,
    source: { format: "sigma", path: file ?? `rules/windows/${id}.yml` },
  } as unknown as Rule;
}

const RULES = [
  rule("crit", "critical", "stable", ["attack.t1059.001", "attack.execution"]),
  rule("high", "high", "test", ["attack.t1003", "attack.credential-access"]),
  rule("med", "medium", "experimental", ["attack.t1059"]),
  rule("low", "low", "test", ["attack.t1105"], "rules/windows/noisy/low.yml"),
  rule("info", "informational", "stable", []),
  rule("nolevel", undefined, undefined, ["attack.t1059.003"]),
  rule("depr", "high", "deprecated", ["attack.t1059.001"]),
  rule("unsup", "critical", "unsupported", []),
];

function ids(opts: Record<string, any>): string[] {
  return selectRules(RULES, selectionFrom(opts)).rules.map((r) => r.id);
}

describe("rule selection", () => {
  test("by default deprecated and unsupported rules are out; a rule without a status stays", () => {
    expect(ids({})).toEqual(["crit", "high", "med", "low", "info", "nolevel"]);
  });

  test("--min-level keeps that level and above; a rule without level counts as informational or --default-level", () => {
    expect(ids({ minLevel: "high" })).toEqual(["crit", "high"]);
    expect(ids({ minLevel: "informational" })).toEqual(["crit", "high", "med", "low", "info", "nolevel"]);
    expect(ids({ minLevel: "low" })).not.toContain("nolevel");
    expect(ids({ minLevel: "high", defaultLevel: "high" })).toEqual(["crit", "high", "nolevel"]);
    expect(() => ids({ minLevel: "severe" })).toThrow(UsageError);
  });

  test("--status keeps the statuses named (comma-separated or repeated), deprecated only when named", () => {
    expect(ids({ status: ["stable,test"] })).toEqual(["crit", "high", "low", "info"]);
    expect(ids({ status: ["deprecated", "unsupported"] })).toEqual(["depr", "unsup"]);
    expect(() => ids({ status: ["stabel"] })).toThrow(/--status "stabel": expected one or more of stable/);
  });

  test("--tag is a case-insensitive glob over the tags; several patterns keep a rule any of them matches", () => {
    expect(ids({ tag: ["attack.t1059*"] })).toEqual(["crit", "med", "nolevel"]);
    expect(ids({ tag: ["ATTACK.CREDENTIAL-ACCESS", "attack.t1105"] })).toEqual(["high", "low"]);
    expect(ids({ tag: ["attack.t1059"] })).toEqual(["med"]);
  });

  test("--exclude drops ids, titles, rule paths and folders; comments and blank lines are skipped", () => {
    const file = path.join(tmp, "exclude.txt");
    writeFileSync(
      file,
      "# noisy rules\n\ncrit\ntitle HIGH   # a title, any case\nrules/windows/noisy/\n  # indented comment\nno-such-rule\n",
    );
    const sel = selectRules(RULES, selectionFrom({ exclude: file }));
    expect(sel.rules.map((r) => r.id)).toEqual(["med", "info", "nolevel"]);
    expect(sel.report.unmatchedExcludes).toEqual([`${file}:7: no-such-rule`]);
    const paths = path.join(tmp, "paths.txt");
    writeFileSync(paths, "windows/med.yml\n");
    expect(selectRules(RULES, selectionFrom({ exclude: paths })).rules.map((r) => r.id)).not.toContain("med");
  });

  test("a bad exclude file is an error naming the file and the line", () => {
    const ctl = path.join(tmp, "ctl.txt");
    writeFileSync(ctl, "crit\nhi\u0001gh\n");
    expect(() => readExcludeFile(ctl)).toThrow(
      new InputError(`${ctl}:2`, "a control character; an exclude list holds rule ids, titles or paths, one a line"),
    );
    const bin = path.join(tmp, "bin.txt");
    writeFileSync(bin, Buffer.from([0x63, 0x0a, 0x0a, 0xff, 0xfe, 0x0a]));
    expect(() => readExcludeFile(bin)).toThrow(`${bin}:3: not UTF-8 text`);
    expect(() => readExcludeFile(path.join(tmp, "missing.txt"))).toThrow("missing.txt: no such file (--exclude)");
    expect(() => readExcludeFile(tmp)).toThrow("is a folder");
  });

  test("each filter counts what it kept and dropped per level, in order; totals add up", () => {
    const { report } = selectRules(RULES, selectionFrom({ minLevel: "medium", tag: ["attack.t1059*"] }));
    expect(report.loaded).toBe(8);
    expect(report.kept).toBe(2);
    expect(report.dropped).toBe(6);
    expect(report.filters.map((f) => [f.filter, f.kept, f.dropped])).toEqual([
      ["--min-level medium", 5, 3],
      ["--status stable,test,experimental (default)", 3, 2],
      ["--tag attack.t1059*", 2, 1],
    ]);
    expect(report.filters[0]!.droppedByLevel).toMatchObject({ low: 1, informational: 1, none: 1 });
    expect(report.filters[1]!.droppedByLevel).toMatchObject({ high: 1, critical: 1 });
    expect(report.keptByLevel).toEqual({ critical: 1, high: 0, medium: 1, low: 0, informational: 0, none: 0 });
    expect(formatSelection(report)).toEqual([
      "rule selection: 2 of 8 rule(s) kept (critical 1, medium 1), 6 dropped (critical 1, high 2, low 1, informational 1, no level 1)",
      "  --min-level medium: kept 5 (critical 2, high 2, medium 1), dropped 3 (low 1, informational 1, no level 1)",
      "  --status stable,test,experimental (default): kept 3 (critical 1, high 1, medium 1), dropped 2 (critical 1, high 1)",
      "  --tag attack.t1059*: kept 2 (critical 1, medium 1), dropped 1 (high 1)",
    ]);
  });

  test("nothing asked and nothing dropped prints nothing", () => {
    const { report } = selectRules(RULES.slice(0, 3), selectionFrom({}));
    expect(report.dropped).toBe(0);
    expect(formatSelection(report)).toEqual([]);
  });
});
