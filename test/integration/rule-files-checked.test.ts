/**
 * Rule files are checked before they are read (issue 11.5), and a condition nested 10,000 deep gives
 * a clear per-rule error while the other rules compile: the binary's `compile --report`, no cluster.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { ensureBinary, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-rulefiles-"));

function sigma(id: string, condition: string): string {
  return `title: r ${id}\nid: ${id}\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\\\a.exe'\n  sel2:\n    Image|endswith: '\\\\b.exe'\n  condition: ${condition}\n`;
}

beforeAll(() => {
  ensureBinary();
  writeFileSync(path.join(dir, "ok.yml"), sigma("00000000-0000-4000-8000-000000000001", "sel"));
  // 11 MB of zeros named .yml: refused by its size, unread.
  writeFileSync(path.join(dir, "huge.yml"), "");
  truncateSync(path.join(dir, "huge.yml"), 11 * 1024 * 1024);
  writeFileSync(path.join(dir, "binary.yml"), Buffer.from([0x74, 0x69, 0x74, 0x6c, 0x65, 0x3a, 0x00, 0x01, 0x02]));
  writeFileSync(path.join(dir, "latin1.conf"), Buffer.from("[simplequery_x]\nes_query_filter = caf\xe9\n", "latin1"));
  writeFileSync(
    path.join(dir, "deep.yml"),
    sigma("00000000-0000-4000-8000-000000000002", `${"sel and (sel2 or ".repeat(5000)}sel${")".repeat(5000)}`),
  );
  let q = `{"term": {"x": "hit"}}`;
  for (let i = 0; i < 10_000; i++) q = `{"bool": {"must": [${q}]}}`;
  writeFileSync(
    path.join(dir, "deep.conf"),
    `[simplequery_deep]\nes_dsl_filter = {"query": ${q}}\nes_index = x-*\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n\n` +
      `[simplequery_fine]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = x-*\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const target of ["pipeline", "dsl"])
  test(`compile --target ${target}: oversized, binary and non-UTF-8 files and 10,000-deep conditions are per-file/per-rule errors`, async () => {
    const report = path.join(dir, `report-${target}.json`);
    const r = await runBin([
      "compile",
      dir,
      "--target",
      target,
      "--out",
      path.join(dir, `out-${target}`),
      "--report",
      report,
    ]);
    expect(r.code, r.stderr).toBe(1);
    const rep = JSON.parse(readFileSync(report, "utf8"));
    const by = (file: string, section?: string) =>
      rep.rules.filter((x: any) => path.basename(x.path) === file && (section === undefined || x.id === section));
    expect(by("ok.yml")[0].status).toBe("ok");
    expect(by("deep.conf", "simplequery_fine")[0].status).toBe("ok");
    expect(by("huge.yml")[0].error).toBe(
      `${path.join(dir, "huge.yml")}: 11.0 MB is more than a rule file may be (10 MB); not read`,
    );
    expect(by("binary.yml")[0].error).toBe(
      `${path.join(dir, "binary.yml")}: binary content (a NUL byte at offset 6); a rule file is text`,
    );
    expect(by("latin1.conf")[0].error).toContain("not UTF-8 text");
    for (const [file, section] of [
      ["deep.yml", undefined],
      ["deep.conf", "simplequery_deep"],
    ] as const) {
      const [e] = by(file, section);
      expect(e.status).toBe("error");
      expect(e.error).toContain(path.join(dir, file));
      expect(e.error).toContain("nested too deeply");
      expect(e.error).not.toContain("Maximum call stack");
    }
  }, 120_000);
