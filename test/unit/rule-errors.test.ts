/**
 * Rule errors carry their location (src/ir/errors.ts): the file, the line, and the place (a Sigma
 * YAML path; an ee-outliers section, key and place in the query), and every message prints it once
 * as `file:line: place: message`: compile's stderr line, its report, and the other commands' lines.
 */
import { describe, expect, test } from "bun:test";
import { locatedMessage, locationText, placeText, RuleError } from "../../src/ir/errors.ts";
import type { CompileResult, Rule } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileEeOutliersTexts } from "../../src/rules/eeoutliers/compile.ts";
import { buildReport } from "../../src/commands/compile.ts";
import { failureLine } from "../../src/commands/rule-set.ts";
import { compileYaml } from "../helpers/sigma-compile.ts";

const profile = loadProfile("winlogbeat");
const ee = (text: string) => compileEeOutliersTexts([{ path: "uc/cases.conf", text }], { profile });

function failed(r: CompileResult | undefined) {
  if (!r || r.status === "ok") throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

const useCase = (name: string, filter: string) =>
  `[simplequery_${name}]\n${filter}\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`;

describe("locations as text", () => {
  test("file:line: place: message, leaving out what is not known", () => {
    const sigma = { path: "r.yml", line: 9, yamlPath: ["detection", "selection", "Image|endswith"] };
    expect(locatedMessage(sigma, "bad")).toBe("r.yml:9: detection.selection.Image|endswith: bad");
    const eeo = { path: "u.conf", line: 2, section: "simplequery_x", key: "es_dsl_filter", place: "bool.must[0].term" };
    expect(placeText(eeo)).toBe("[simplequery_x]: es_dsl_filter: bool.must[0].term");
    expect(locatedMessage(eeo, "bad")).toBe("u.conf:2: [simplequery_x]: es_dsl_filter: bool.must[0].term: bad");
    expect(locationText({ path: "r.yml", yamlPath: [] })).toBe("r.yml");
    expect(locatedMessage({ key: "es_dsl_filter", place: "term" }, "bad")).toBe("es_dsl_filter: term: bad");
    expect(locatedMessage({}, "bad")).toBe("bad");
  });
});

describe("Sigma errors carry the file, the line and the YAML path", () => {
  test("an unknown modifier", () => {
    const text =
      "title: t\nid: x1\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|nosuch: a\n    condition: sel\n";
    const r = failed(compileYaml(text, undefined, "rules/bad.yml")[0]);
    expect(r.location).toEqual({ path: "rules/bad.yml", line: 8, yamlPath: ["detection", "sel", "Image|nosuch"] });
    expect(r.error).toBe("rules/bad.yml:8: detection.sel.Image|nosuch: unknown modifier 'nosuch'");
  });

  test("a condition naming no search, and a document that is not a rule", () => {
    const text =
      "title: t\nid: x1\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image: a\n    condition: sel and other\n";
    const r = failed(compileYaml(text, undefined, "rules/cond.yml")[0]);
    expect(r.location).toEqual({ path: "rules/cond.yml", line: 8, yamlPath: ["detection", "condition"] });
    expect(r.error).toStartWith("rules/cond.yml:8: detection.condition: unknown search identifier 'other'");
    const missing = failed(compileYaml("title: t\nlogsource:\n    product: windows\n", undefined, "rules/m.yml")[0]);
    expect(missing.location).toEqual({ path: "rules/m.yml", line: 1, yamlPath: ["detection"] });
    expect(missing.error).toBe("rules/m.yml:1: detection: missing detection");
  });

  test("a correlation document", () => {
    const text = "title: c\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5q\n";
    const r = failed(compileYaml(text, undefined, "rules/corr.yml")[0]);
    expect(r.location).toMatchObject({ path: "rules/corr.yml", yamlPath: ["correlation", "timespan"] });
    expect(r.error).toStartWith(`${locationText(r.location!)}: `);
  });
});

describe("ee-outliers errors carry the file, the line, the section, the key and the place in the query", () => {
  test("a DSL error names the innermost place once", () => {
    const results = ee(
      [
        useCase("good", 'es_dsl_filter = {"term": {"process.name": "cmd.exe"}}'),
        useCase("bad", 'es_dsl_filter = {"bool": {"must": [{"term": "x"}]}}'),
      ].join("\n"),
    );
    expect(results[0]!.status).toBe("ok");
    const r = failed(results[1]);
    expect(r.location).toEqual({
      path: "uc/cases.conf",
      line: 10,
      section: "simplequery_bad",
      key: "es_dsl_filter",
      place: "bool.must[0].term",
    });
    // The place was printed twice before it was kept apart from the message.
    expect(r.error).toBe("uc/cases.conf:10: [simplequery_bad]: es_dsl_filter: bool.must[0].term: expected an object");
  });

  test("a Lucene error names the key; a bad setting names the section and its line", () => {
    const lucene = failed(ee(useCase("q", "es_query_filter = CommandLine:/a(b/"))[0]);
    expect(lucene.location).toEqual({
      path: "uc/cases.conf",
      line: 2,
      section: "simplequery_q",
      key: "es_query_filter",
    });
    expect(lucene.error).toBe(
      `uc/cases.conf:2: [simplequery_q]: es_query_filter: regexp "a(b" is not valid: missing ')'`,
    );
    const setting = failed(ee(useCase("r", "es_query_filter = a:b").replace("run_model = 1", "run_model = 7"))[0]);
    expect(setting.location).toEqual({ path: "uc/cases.conf", line: 6, section: "simplequery_r" });
    expect(setting.error).toBe('uc/cases.conf:6: [simplequery_r]: run_model must be 0 or 1, got "7"');
  });

  test("what the live pipeline cannot run keeps its place in liveUnsupported", () => {
    const r = ee(useCase("ids", 'es_dsl_filter = {"bool": {"filter": [{"ids": {"values": ["1"]}}]}}'))[0]!;
    if (r.status !== "ok") throw new Error(r.error);
    expect(r.rule.liveUnsupported).toBe(
      "es_dsl_filter: bool.filter[0].ids: ids cannot be evaluated at ingest time, ids are assigned by the cluster",
    );
  });
});

describe("the report and the failure lines", () => {
  const sigmaFail: CompileResult = {
    status: "error",
    id: "x1",
    title: "t",
    path: "rules/bad.yml",
    error: "rules/bad.yml:8: detection.sel.Image|nosuch: unknown modifier 'nosuch'",
    location: { path: "rules/bad.yml", line: 8, yamlPath: ["detection", "sel", "Image|nosuch"] },
  };

  test("a reader's failure: line and place beside the message", () => {
    expect(buildReport([sigmaFail], []).rules[0]).toEqual({
      id: "x1",
      title: "t",
      path: "rules/bad.yml",
      status: "error",
      error: sigmaFail.error,
      line: 8,
      place: "detection.sel.Image|nosuch",
    });
  });

  test("a target's refusal names the file (and an ee-outliers rule's section)", () => {
    const rule = (format: "sigma" | "simplequery") =>
      ({ id: "r", title: "r", source: { format, path: "f", section: "simplequery_r" } }) as unknown as Rule;
    const sigma = rule("sigma");
    const eeo = rule("simplequery");
    const report = buildReport(
      [
        { status: "ok", rule: sigma },
        { status: "ok", rule: eeo },
      ],
      [
        { rule: sigma, status: "unsupported", error: "f.x: regular expression on a field of type long" },
        { rule: eeo, status: "unsupported", error: "not live: es_dsl_filter: ids: …" },
      ],
    );
    expect(report.rules.map((r) => [r.error, r.place])).toEqual([
      ["f: f.x: regular expression on a field of type long", undefined],
      ["f: [simplequery_r]: not live: es_dsl_filter: ids: …", "[simplequery_r]"],
    ]);
    expect(failureLine(report.rules[1]!)).toBe("f: unsupported: [simplequery_r]: not live: es_dsl_filter: ids: …");
  });

  test("a failure line prints the file once", () => {
    expect(failureLine(sigmaFail)).toBe(sigmaFail.error);
    expect(failureLine({ ...sigmaFail, status: "unsupported" })).toBe(
      "rules/bad.yml:8: unsupported: detection.sel.Image|nosuch: unknown modifier 'nosuch'",
    );
    expect(failureLine({ path: "a.yml", status: "error", error: "no place" })).toBe("a.yml: no place");
  });

  test("RuleError keeps the location it is given", () => {
    expect(new RuleError("m", { path: "p", yamlPath: ["a"] }).location).toEqual({ path: "p", yamlPath: ["a"] });
  });
});
