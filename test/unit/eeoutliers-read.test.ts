/**
 * Reading ee-outliers use-case files: configparser semantics, use-case keys, whitelists, and
 * errors that name the file, the section and the line while the other use cases still load.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadProfile } from "../../src/mapping/index.ts";
import { parseIni } from "../../src/rules/eeoutliers/configparser.ts";
import { compileEeOutliersTexts } from "../../src/rules/eeoutliers/compile.ts";
import type { CompileResult, Node, Rule } from "../../src/ir/types.ts";

const profile = loadProfile("winlogbeat");
const compile = (files: Record<string, string>) =>
  compileEeOutliersTexts(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    { profile },
  );

function ok(r: CompileResult | undefined): Rule {
  if (!r || r.status !== "ok") throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.rule;
}
function byId(results: CompileResult[], id: string): CompileResult | undefined {
  return results.find((r) => (r.status === "ok" ? r.rule.id : r.id) === id);
}

const Q = (x: string) => `es_query_filter = ${x}`;

describe("configparser-compatible reading", () => {
  test("values keep ; and #, continuation lines join, ':' delimits, keys are lower-cased, comments are whole lines", () => {
    const f = parseIni(
      "a.conf",
      [
        "# comment",
        "[simplequery_x]",
        'ES_Query_Filter = a:"x;y" AND b:#1',
        'es_dsl_filter: {"query":',
        '   {"match_all": {}}}',
        "; another comment",
        "outlier_summary = 100% {winlog.event_data.Image}",
      ].join("\n"),
    );
    expect(f.errors).toEqual([]);
    const s = f.sections[0]!;
    expect(s.name).toBe("simplequery_x");
    expect(s.keys.get("es_query_filter")).toEqual({ key: "es_query_filter", value: 'a:"x;y" AND b:#1', line: 3 });
    expect(s.keys.get("es_dsl_filter")!.value).toBe('{"query":\n{"match_all": {}}}');
    expect(s.keys.get("outlier_summary")!.value).toBe("100% {winlog.event_data.Image}");
  });

  test("duplicate sections and keys are reported with file and line; [DEFAULT] applies to every section", () => {
    const f = parseIni("dup.conf", "[DEFAULT]\nrun_model = 1\n[a]\nk = 1\nk = 2\n[b]\nx = 1\n[a]\ny = 2\n");
    expect(f.errors).toEqual(["dup.conf:8: [a]: duplicate section (first defined on line 3)"]);
    expect(f.sections.map((s) => s.name)).toEqual(["a", "b"]);
    expect(f.sections[0]!.errors).toEqual(["dup.conf:5: [a]: duplicate key 'k' (first on line 4)"]);
    expect(f.sections[1]!.keys.get("run_model")!.value).toBe("1");
    // the second [a]'s keys do not leak into the first
    expect(f.sections[0]!.keys.has("y")).toBe(false);
  });

  test("a key before any section, and a line that is not key = value", () => {
    const f = parseIni("bad.conf", "k = v\n[s]\njust words\n");
    expect(f.errors).toEqual(["bad.conf:1: key before the first [section]"]);
    expect(f.sections[0]!.errors[0]).toContain("bad.conf:3: [s]: expected 'key = value'");
  });
});

describe("use cases", () => {
  const file = `
[simplequery_one]
${Q('winlog.event_data.Image:"C:\\\\Windows\\\\System32\\\\cmd.exe"')}
es_index = winlogbeat-*, logs-*
outlier_type = IDS, attack.execution, attack.t1059.001
outlier_reason = cmd started
outlier_summary = cmd started by {winlog.event_data.User}
timestamp_field = event.created
history_window_days = 2
history_window_hours = 3
analyst = alice
should_notify = 0
run_model = 1
test_model = 0

[simplequery_two]
es_dsl_filter = {"query": {"term": {"winlog.event_id": 1}}}
outlier_type = t
outlier_reason = r
outlier_summary = s

[metrics_cmdline_length]
es_query_filter = _exists_:winlog.event_data.CommandLine
[terms_rare]
es_query_filter = *
[general]
es_index_pattern = x
`;

  test("keys become the rule: id, title, index, tags, reason/summary, window, time field, extra keys", () => {
    const results = compile({ "uc.conf": file });
    const one = ok(byId(results, "simplequery_one"));
    expect(one.title).toBe("one");
    expect(one.index).toEqual(["winlogbeat-*", "logs-*"]);
    expect(one.timeField).toBe("event.created");
    expect(one.historyWindowHours).toBe(51);
    expect(one.source).toEqual({ format: "simplequery", path: "uc.conf", section: "simplequery_one" });
    expect(one.tagsOut).toEqual({
      type: ["IDS", "attack.execution", "attack.t1059.001"],
      reason: "cmd started",
      summary: "cmd started by {winlog.event_data.User}",
      modelName: "one",
      modelType: "simplequery",
      techniques: ["T1059.001"],
      extra: { analyst: "alice" },
    });
    expect(one.condition).toEqual({
      kind: "equals",
      field: { name: "winlog.event_data.Image", type: "keyword" },
      value: "C:\\Windows\\System32\\cmd.exe",
      cased: true,
    });
    const two = ok(byId(results, "simplequery_two"));
    expect(two.timeField).toBe("@timestamp");
    expect(two.historyWindowHours).toBeUndefined();
    expect(two.condition).toEqual({
      kind: "number",
      field: { name: "winlog.event_id", type: "long" },
      op: "eq",
      value: 1,
    });
  });

  test("other ee-outliers model types are reported as unsupported by name; settings sections are ignored", () => {
    const results = compile({ "uc.conf": file });
    expect(results.map((r) => r.status)).toEqual(["ok", "ok", "unsupported", "unsupported"]);
    expect(byId(results, "metrics_cmdline_length")).toMatchObject({
      status: "unsupported",
      error:
        "uc.conf:22: [metrics_cmdline_length]: metrics models are statistical ee-outliers models and are not supported (only simplequery use cases are)",
    });
    expect((byId(results, "terms_rare") as { error: string }).error).toContain("terms models");
  });

  test("malformed use cases are errors naming file, section and line; the others still load", () => {
    const results = compile({
      "bad.conf": [
        "[simplequery_badjson]", // 1
        'es_dsl_filter = {"query": {"term": ', // 2
        "[simplequery_both]", // 3
        'es_dsl_filter = {"query": {"match_all": {}}}', // 4
        "es_query_filter = *", // 5
        "[simplequery_none]", // 6
        "outlier_type = x", // 7
        "[simplequery_dupkey]", // 8
        "es_query_filter = a:b", // 9
        "es_query_filter = a:c", // 10
        "[simplequery_good]", // 11
        "es_query_filter = winlog.channel:Security", // 12
        "[simplequery_badquery]", // 13
        "es_query_filter = a:(b", // 14
        "[simplequery_badrun]", // 15
        "es_query_filter = *", // 16
        "run_model = maybe", // 17
        "[simplequery_good]", // 18
        "es_query_filter = x:y", // 19
      ].join("\n"),
    });
    const err = (id: string) => {
      const r = byId(results, id);
      expect(r?.status).toBe("error");
      return (r as { error: string }).error;
    };
    expect(err("simplequery_badjson")).toStartWith(
      "bad.conf:2: [simplequery_badjson]: es_dsl_filter is not valid JSON",
    );
    expect(err("simplequery_both")).toBe(
      "bad.conf:5: [simplequery_both]: both es_dsl_filter (line 4) and es_query_filter (line 5) are set; keep one (ee-outliers would ignore es_query_filter)",
    );
    expect(err("simplequery_none")).toBe("bad.conf:6: [simplequery_none]: no es_dsl_filter or es_query_filter");
    expect(err("simplequery_dupkey")).toBe(
      "bad.conf:10: [simplequery_dupkey]: duplicate key 'es_query_filter' (first on line 9)",
    );
    expect(err("simplequery_badquery")).toStartWith(
      'bad.conf:14: [simplequery_badquery]: es_query_filter: query string "a:(b"',
    );
    expect(err("simplequery_badrun")).toBe('bad.conf:17: [simplequery_badrun]: run_model must be 0 or 1, got "maybe"');
    const dupSection = results.find((r) => r.status === "error" && r.error.includes("duplicate section"));
    expect(dupSection).toMatchObject({
      path: "bad.conf",
      error: "bad.conf:18: [simplequery_good]: duplicate section (first defined on line 11)",
    });
    expect(ok(byId(results, "simplequery_good")).condition).toMatchObject({
      kind: "equals",
      value: "Security",
      cased: true,
    });
  });

  test("the same use case in two files is an error naming both", () => {
    const results = compile({
      "a.conf": "[simplequery_x]\nes_query_filter = *\n",
      "b.conf": "\n[simplequery_x]\nes_query_filter = *\n",
    });
    expect(results[0]!.status).toBe("ok");
    expect(results[1]).toMatchObject({
      status: "error",
      path: "b.conf",
      error: "b.conf:2: [simplequery_x]: use case already defined at a.conf:1",
    });
  });

  test("run_model = 0: checked, then reported unsupported (ee-outliers does not run it)", () => {
    const results = compile({
      "r.conf":
        "[simplequery_off]\nes_query_filter = *\nrun_model = 0\n[simplequery_off_bad]\nes_dsl_filter = nope\nrun_model = 0\n",
    });
    expect(results[0]).toMatchObject({
      status: "unsupported",
      id: "simplequery_off",
      error:
        "r.conf:1: [simplequery_off]: run_model = 0: ee-outliers does not run this use case (set run_model = 1 to tag with it)",
    });
    expect(results[1]!.status).toBe("error");
  });
});

describe("whitelists", () => {
  const IMG = { name: "winlog.event_data.Image", type: "keyword" } as const;
  const uc = `
[simplequery_a]
es_dsl_filter = {"query": {"term": {"winlog.event_data.Image.keyword": "C:\\\\x.exe"}}}
outlier_type = T
outlier_reason = reason a
outlier_summary = seen on {winlog.computer_name}
whitelist_literals_admin = ADMIN-PC
whitelist_regexps_tmp = .*\\\\temp\\\\.*
[simplequery_b]
es_query_filter = winlog.event_data.Image:"C:\\\\y.exe"
outlier_type = T
outlier_reason = reason b
outlier_summary = reason b
[whitelist_literals_simplequery_b]
pair = host1, alice
`;
  const globals = `
[whitelist_literals]
slack = Slack.exe
by_reason = reason b
[whitelist_regexps]
backup = ^backup-.*$
`;

  function entries(n: Node | undefined): Node[] {
    if (!n) return [];
    return n.kind === "or" ? n.children : [n];
  }

  test("global whitelists (from any file), per-model sections and in-section keys, with ee-outliers' matching", () => {
    const results = compile({ "uc.conf": uc, "wl.conf": globals });
    const a = ok(byId(results, "simplequery_a"));
    const b = ok(byId(results, "simplequery_b"));
    // b: `by_reason` equals its own outlier_reason, so ee-outliers always whitelists it
    expect(b.whitelist).toEqual({ kind: "const", value: true });

    // The whitelist is one OR (nested ORs are flattened): per entry a `keyword` predicate
    // (literal) or one regex predicate per searched field (regexp).
    const wa = entries(a.whitelist);
    const literals = wa.filter((n) => n.kind === "keyword");
    expect(literals.map((n) => (n.kind === "keyword" ? n.parts : []))).toEqual([
      [{ lit: "Slack.exe" }],
      [{ lit: "reason b" }],
      [{ lit: "ADMIN-PC" }],
    ]);
    const slack = literals[0]!;
    if (slack.kind !== "keyword") throw new Error();
    expect(slack.cased).toBe(true);
    const names = slack.fields.map((f) => f.name);
    // the profile's keyword fields, the fields the query uses, the summary's placeholder fields
    expect(names).toContain("winlog.event_data.CommandLine");
    expect(names).toContain(IMG.name);
    expect(names).toContain("winlog.computer_name");
    expect(slack.fields.every((f) => f.type === "keyword" || f.type === "text")).toBe(true);
    const patterns = new Map<string, string[]>();
    for (const n of wa) {
      if (n.kind !== "regex") continue;
      expect(n.regex.flags).toEqual({ i: true, m: false, s: false });
      patterns.set(n.regex.pattern, [...(patterns.get(n.regex.pattern) ?? []), n.field.name]);
    }
    // ee-outliers uses Python re.match: anchored at the start only
    expect([...patterns.keys()]).toEqual(["^(?:^backup-.*$)", "^(?:.*\\\\temp\\\\.*)"]);
    for (const fields of patterns.values()) expect(fields.sort()).toEqual([...names].sort());
    expect(wa).toHaveLength(3 + 2 * names.length);
  });

  test("a literal combination must all match; a literal can hit the summary through its placeholder", () => {
    const results = compile({
      "s.conf": `
[simplequery_s]
es_query_filter = winlog.channel:Security
outlier_type = T
outlier_reason = R
outlier_summary = rare process {winlog.event_data.Image}
[whitelist_literals]
combo = host1, alice
summary = rare process C:\\Tools\\ok.exe
type = T, host9
`,
    });
    const s = ok(results[0]);
    const [combo, summary, viaSummary, type] = entries(s.whitelist);
    expect(combo!.kind).toBe("and");
    if (combo!.kind !== "and") throw new Error();
    expect(combo!.children.map((c) => (c.kind === "keyword" ? c.parts : c.kind))).toEqual([
      [{ lit: "host1" }],
      [{ lit: "alice" }],
    ]);
    expect(summary).toMatchObject({ kind: "keyword", parts: [{ lit: "rare process C:\\Tools\\ok.exe" }] });
    // or the summary it would write equals the literal: its placeholder field holds the rest
    expect(viaSummary).toEqual({ kind: "equals", field: IMG, value: "C:\\Tools\\ok.exe", cased: true });
    // "T" is the use case's own outlier_type: that part always holds, "host9" must be in the event
    expect(type).toMatchObject({ kind: "keyword", parts: [{ lit: "host9" }] });
  });
});

describe("through the CLI", () => {
  test("`outliers compile` takes .conf files and reports every use case by file and section", () => {
    const root = path.resolve(import.meta.dir, "../..");
    const dir = mkdtempSync(path.join(tmpdir(), "outliers-ee-cli-"));
    try {
      const report = path.join(dir, "report.json");
      const run = spawnSync(
        path.join(root, "node_modules/.bin/bun"),
        ["src/cli.ts", "compile", "test/fixtures/ee-outliers/", "--report", report, "--out", path.join(dir, "p.json")],
        {
          cwd: root,
          encoding: "utf8",
        },
      );
      expect(run.status).toBe(1); // the statistical examples are unsupported
      const r = JSON.parse(readFileSync(report, "utf8"));
      expect(r.failed).toBe(2);
      const ids = r.rules.map((x: { id: string; status: string }) => `${x.status} ${x.id}`);
      expect(ids).toContain("ok simplequery_sigma_win_susp_mshta_execution");
      expect(ids).toContain("ok simplequery_backfill_only");
      expect(ids).toContain("unsupported metrics_cmdline_containing_url");
      expect(run.stderr).toContain("nviso-documentation-examples.conf:65");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
