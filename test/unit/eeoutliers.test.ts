/**
 * The ee-outliers emitter writes files that read back identically with the `ini` package and with
 * Python's configparser as ee-outliers configures it (interpolation=None, case-preserving keys).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { parse as parseIni } from "ini";
import type { Node, Rule } from "../../src/ir/types.ts";
import { ruleQuery } from "../../src/emit/dsl.ts";
import { iniSafeJson, useCaseBaseName } from "../../src/emit/eeoutliers.ts";
import { eeOutliersTarget } from "../../src/emit/targets.ts";
import type { Profile } from "../../src/mapping/profile.ts";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { loadProfile } from "../../src/mapping/index.ts";
import { loadRules } from "../../src/rules/load.ts";
import { parseIni as parseIniFile } from "../../src/rules/eeoutliers/configparser.ts";

function rule(id: string, title: string, condition: Node, tags: string[] = []): Rule {
  return {
    id,
    title,
    references: [],
    falsepositives: [],
    tags,
    logsource: { product: "windows" },
    source: { format: "sigma", path: `rules/${id}.yml` },
    index: ["winlogbeat-*"],
    timeField: "@timestamp",
    condition,
    tagsOut: {
      type: ["Sigma hit", ...tags],
      reason: `Sigma hit - ${title}`,
      summary: `Sigma hit - ${title}`,
      modelName: id,
      modelType: "sigma",
      techniques: [],
      extra: {},
    },
  };
}

const F = { name: "winlog.event_data.CommandLine", type: "keyword" as const };
const nasty = '100% ; # \\ \\\\ trailing\\ "quoted" \u00e9 \n newline';
const rules: Rule[] = [
  rule("r1", "MSHTA Suspicious Execution 01", { kind: "suffix", field: F, value: "\\mshta.exe", cased: false }, [
    "attack.defense_evasion",
    "attack.t1140",
  ]),
  rule("r2", "Odd (title); with #hash, 50% and a.dot\nsecond line", {
    kind: "contains",
    field: F,
    value: nasty,
    cased: false,
  }),
  rule("r3", "MSHTA Suspicious Execution 01", { kind: "equals", field: F, value: "C:\\temp\\", cased: true }),
];
const profile = {} as Profile;

function pythonRead(text: string): Record<string, Record<string, string>> | undefined {
  const py = `
import configparser, json, sys
c = configparser.ConfigParser(interpolation=None)
c.optionxform = str
c.read_string(sys.stdin.read())
print(json.dumps({s: dict(c[s]) for s in c.sections()}))
`;
  const r = spawnSync("python3", ["-c", py], { input: text, encoding: "utf8" });
  if (r.error || r.status !== 0) {
    if (r.error) return undefined; // no python3 on this machine
    throw new Error(`python configparser failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

describe("ee-outliers emitter", () => {
  const out = eeOutliersTarget.emit(rules, { profile });

  test("sections as sigmac named them, unique", () => {
    expect(out.failures).toEqual([]);
    const names = [...out.text.matchAll(/^\[(.*)\]$/gm)].map((m) => m[1]);
    expect(names).toEqual([
      "simplequery_sigma_MSHTA-Suspicious-Execution-01",
      "simplequery_sigma_Odd-title_-with-_hash_-50_-and-a_dot-second-line",
      "simplequery_sigma_MSHTA-Suspicious-Execution-01-2",
    ]);
    expect(useCaseBaseName("A (b) c")).toBe("A-b-c");
  });

  test("the keys sigmac wrote", () => {
    const parsed = parseIni(out.text) as Record<string, Record<string, string>>;
    const s = parsed["simplequery_sigma_MSHTA-Suspicious-Execution-01"]!;
    expect(s.es_index).toBe("winlogbeat-*");
    expect(s.outlier_type).toBe("Sigma hit, attack.defense_evasion, attack.t1140");
    expect(s.outlier_reason).toBe("Sigma hit - MSHTA Suspicious Execution 01");
    expect(s.outlier_summary).toBe("Sigma hit - MSHTA Suspicious Execution 01");
    expect(s.run_model).toBe("1");
    expect(s.test_model).toBe("0");
    expect(JSON.parse(s.es_dsl_filter!)).toEqual({ query: ruleQuery(rules[0]!) });
  });

  test("reads back exactly with Python configparser (as ee-outliers reads it) and, for the query, with the ini package", () => {
    const viaIni = parseIni(out.text) as Record<string, Record<string, string>>;
    const sections = Object.keys(viaIni);
    expect(sections.length).toBe(3);
    rules.forEach((r, i) => {
      // the query survives the ini package exactly: %, ;, #, backslashes, quotes, newlines
      expect(JSON.parse(viaIni[sections[i]!]!.es_dsl_filter!)).toEqual({ query: ruleQuery(r) });
    });
    const viaPy = pythonRead(out.text);
    if (viaPy === undefined) {
      console.warn("python3 not found: skipped the configparser half of this test");
      return;
    }
    expect(Object.keys(viaPy)).toEqual(sections);
    rules.forEach((r, i) => {
      const s = viaPy[sections[i]!]!;
      expect(JSON.parse(s.es_dsl_filter!)).toEqual({ query: ruleQuery(r) });
      const title = r.title.replace(/\n/g, " ");
      expect(s.outlier_reason).toBe(`Sigma hit - ${title}`);
      expect(s.outlier_summary).toBe(`Sigma hit - ${title}`);
      expect(s.outlier_type).toBe(r.tagsOut.type.join(", "));
      expect(s.es_index).toBe("winlogbeat-*");
    });
  });

  test("iniSafeJson is the same JSON value with no literal \\ ; #", () => {
    const v = { a: nasty, b: ["\\", ";#", "\u2028\u2029\u0085\u007f"], "k;#\\": 1 };
    const text = iniSafeJson(v);
    expect(JSON.parse(text)).toEqual(v);
    expect(/[;#]/.test(text)).toBe(false);
    expect(text.includes("\\\\")).toBe(false);
    expect(/[\u007f-\u009f\u2028\u2029]/.test(text)).toBe(false);
  });
});

const SIGMA = path.resolve(import.meta.dir, "../../../shared/sigma");
const haveCorpus = existsSync(SIGMA);
if (!haveCorpus) console.warn(`eeoutliers corpus round trip: SKIPPED, ${SIGMA} not found`);

describe.skipIf(!haveCorpus)("ee-outliers file for the whole SigmaHQ corpus", () => {
  test("reads back with Python configparser, src/rules/eeoutliers and the ini package: every query identical", () => {
    const profile = loadProfile("winlogbeat");
    const dirs = readdirSync(SIGMA)
      .filter((d) => d.startsWith("rules"))
      .map((d) => path.join(SIGMA, d));
    const compiled = loadRules(dirs, { profile })
      .filter((r) => r.status === "ok")
      .map((r) => (r as { rule: Rule }).rule);
    const out = eeOutliersTarget.emit(compiled, { profile });
    expect(out.failures).toEqual([]);
    const want = compiled.map((r) => ({ query: ruleQuery(r) }));

    const ours = parseIniFile("corpus.conf", out.text);
    expect(ours.errors).toEqual([]);
    expect(ours.sections.length).toBe(compiled.length);
    ours.sections.forEach((s, i) => expect(JSON.parse(s.keys.get("es_dsl_filter")!.value)).toEqual(want[i]!));

    const viaIni = parseIni(out.text) as Record<string, Record<string, string>>;
    const iniSections = Object.values(viaIni);
    expect(iniSections.length).toBe(compiled.length);
    iniSections.forEach((s, i) => expect(JSON.parse(s.es_dsl_filter!)).toEqual(want[i]!));

    const viaPy = pythonRead(out.text);
    if (viaPy === undefined) return void console.warn("python3 not found: skipped the configparser half of this test");
    const pySections = Object.values(viaPy);
    expect(pySections.length).toBe(compiled.length);
    pySections.forEach((s, i) => expect(JSON.parse(s.es_dsl_filter!)).toEqual(want[i]!));
  }, 60_000);
});
