/**
 * The compiled binary (dist/outliers) on a folder where some rule files are broken: each broken rule
 * is one stderr line `file:line: place: message` (Sigma: the YAML path; ee-outliers: section, key and
 * place in the query), the --json report carries the same line and place as data, and every other
 * rule still compiles. No cluster is needed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBin } from "../helpers/binary.ts";

let dir = "";
const file = (name: string) => path.join(dir, "rules", name);

const sigma = (id: string, title: string, detection: string) =>
  `title: ${title}\nid: ${id}\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n${detection}level: high\n`;
const useCase = (name: string, filter: string) =>
  `[simplequery_${name}]\n${filter}\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "compile-errors-"));
  mkdirSync(path.join(dir, "rules"));
  writeFileSync(
    file("good.yml"),
    sigma(
      "11111111-1111-4111-8111-111111111111",
      "Good",
      "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\n",
    ),
  );
  writeFileSync(
    file("bad-modifier.yml"),
    sigma(
      "22222222-2222-4222-8222-222222222222",
      "Bad modifier",
      "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|nosuchmod: 'x'\n  condition: sel\n",
    ),
  );
  writeFileSync(
    file("bad-regex.yml"),
    sigma("33333333-3333-4333-8333-333333333333", "Bad regex", "  sel:\n    CommandLine|re: 'a(b'\n  condition: sel\n"),
  );
  writeFileSync(
    file("cases.conf"),
    [
      useCase("good", 'es_dsl_filter = {"term": {"process.name": "cmd.exe"}}'),
      useCase("bad_dsl", 'es_dsl_filter = {"bool": {"must": [{"term": {"process.name": "x"}}, {"term": "y"}]}}'),
      useCase("bad_lucene", "es_query_filter = process.command_line:/a(b/"),
    ].join("\n"),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EXPECTED = () => [
  `${file("bad-modifier.yml")}:9: detection.sel.CommandLine|nosuchmod: unknown modifier 'nosuchmod'`,
  `${file("bad-regex.yml")}:8: detection.sel.CommandLine|re: invalid regular expression 'a(b'`,
  `${file("cases.conf")}:10: [simplequery_bad_dsl]: es_dsl_filter: bool.must[1].term: expected an object`,
  `${file("cases.conf")}:18: [simplequery_bad_lucene]: es_query_filter: regexp "a(b" is not valid: missing ')'`,
];

describe("dist/outliers compile on broken rule files", () => {
  test("one line per broken rule naming the file, the line and the place; the other rules compile", async () => {
    const r = await runBin(["compile", path.join(dir, "rules"), "--target", "dsl"]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    const expected = EXPECTED();
    expect(lines).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(lines[i]).toStartWith(e));
    const ids = Object.keys(JSON.parse(r.stdout)).sort();
    expect(ids).toEqual(["11111111-1111-4111-8111-111111111111", "simplequery_good"]);
  }, 60_000);

  test("--json: the report carries the same message, its line and its place", async () => {
    const r = await runBin(["compile", path.join(dir, "rules"), "--target", "pipeline", "--json"]);
    expect(r.code).toBe(1);
    // stdout is only JSON; the failure lines stay on stderr.
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(4);
    const body = JSON.parse(r.stdout);
    expect(body.ok).toBe(2);
    expect(body.failed).toBe(4);
    const failed = body.rules.filter((e: { status: string }) => e.status !== "ok");
    expect(failed.map((e: { line: number; place: string }) => [e.line, e.place])).toEqual([
      [9, "detection.sel.CommandLine|nosuchmod"],
      [8, "detection.sel.CommandLine|re"],
      [10, "[simplequery_bad_dsl]: es_dsl_filter: bool.must[1].term"],
      [18, "[simplequery_bad_lucene]: es_query_filter"],
    ]);
    const expected = EXPECTED();
    failed.forEach((e: { error: string }, i: number) => expect(e.error).toStartWith(expected[i]!));
    expect(body.output.processors.find((p: any) => p.script?.tag === "outliers-tagger").script.params.r).toHaveLength(
      2,
    );
  }, 60_000);
});
