/**
 * Issue 18 items 2, 3 and 7 end to end, through dist/outliers, on SigmaHQ's real .evtx samples
 * (../shared/sigma/regression) and its Windows rules:
 * - `scan` on a terminal (a pseudo-terminal from `script`) prints a timeline sorted by time with
 *   level, rule and the matched values, then the summary with hits by level; `--csv` and `--jsonl`
 *   write the same rows; in a pipe the summary only, unless `--timeline`;
 * - `--min-level high` selects the same rules in `scan`, `pipeline install --dry-run --json` and
 *   `backfill --dry-run --json` on the node, and backfill's counts per rule are scan's;
 * - `report` and `untag` scoped by a selection act on the selected rules only; the hits layer of
 *   `report --navigator` and the coverage layer of `compile --navigator` conform to the layer format
 *   4.5 and declare the ATT&CK version of their techniques.
 * Index and pipeline names start with `select-h-`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Rule } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { loadRules } from "../../src/rules/load.ts";
import { BIN, runBin } from "../helpers/binary.ts";
import { ES_URL } from "../helpers/es.ts";
import { layerProblems } from "../helpers/navigator-spec.ts";
import { SHARED, SKIP_MESSAGE } from "../helpers/windows-rules.ts";

const RULES = SHARED ? path.join(SHARED, "rules", "windows") : "";
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-select-"));
const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const INDEX = `select-h-events-${suffix}`;
const LEVELS = ["informational", "low", "medium", "high", "critical"];

function evtxFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...evtxFiles(p));
    else if (e.endsWith(".evtx")) out.push(p);
  }
  return out.sort();
}

const EVTX = SHARED ? evtxFiles(path.join(SHARED, "regression")) : [];
/** The events loaded into the node for the backfill checks (the first 20 samples). */
const LOADED = EVTX.slice(0, 20);

interface Row {
  timestamp: string;
  computer: string;
  channel: string;
  event_id: string;
  level: string;
  rule_id: string;
  rule_title: string;
  matched_values: Record<string, string>;
  file: string;
  line: number;
}

function readJsonl(file: string): Row[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

/** RFC 4180 CSV (quoted cells with "" escapes, CRLF records) into records of strings. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  if (cell !== "" || row.length) rows.push([...row, cell]);
  return rows;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs the binary under a pseudo-terminal of `cols` columns (util-linux `script`); the output without escapes and CRs. */
async function runOnTerminal(args: string[], cols: number): Promise<string> {
  const cmd = `stty cols ${cols} rows 50; ${[BIN, ...args].map(shellQuote).join(" ")}`;
  const p = Bun.spawn(["script", "-qec", cmd, "/dev/null"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ES_URL: "", CI: "" },
  });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what is removed
  return out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
}

/** The rules the test expects `--min-level high` to keep, read from the rule files (not from src/rules/select.ts). */
function expectedHigh(): Set<string> {
  const results = loadRules([RULES], { profile: loadProfile("winlogbeat") });
  const rules = results.flatMap((r) => (r.status === "ok" ? [r.rule] : [])) as Rule[];
  return new Set(
    rules
      .filter((r) => ["high", "critical"].includes(r.level ?? ""))
      .filter((r) => !["deprecated", "unsupported"].includes(r.status ?? ""))
      .map((r) => r.id),
  );
}

async function es(method: string, p: string, body?: unknown): Promise<any> {
  const r = await fetch(`${ES_URL}${p}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.json();
}

afterAll(async () => {
  if (SHARED) await es("DELETE", `/${INDEX}?ignore_unavailable=true`).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!SHARED)("scan timeline on the real .evtx samples", () => {
  let rows: Row[] = [];
  beforeAll(async () => {
    if (!SHARED) throw new Error(SKIP_MESSAGE);
    const jsonl = path.join(tmp, "all.jsonl");
    const r = await runBin(["scan", RULES, "--events", ...EVTX, "--jsonl", jsonl]);
    expect(r.code).toBe(0);
    rows = readJsonl(jsonl);
  });

  test("on a terminal: a timeline sorted by time with level, rule and matched values, then the summary", async () => {
    const cols = 180;
    const out = await runOnTerminal(["scan", RULES, "--events", ...EVTX], cols);
    const lines = out.split("\n");
    const head = lines.findIndex((l) =>
      /^time \(UTC\)\s+computer\s+channel:event\s+level\s+rule\s+matched values$/.test(l),
    );
    expect(head).toBeGreaterThanOrEqual(0);
    const end = lines.indexOf("", head);
    const table = lines.slice(head + 1, end);
    expect(table.length).toBe(rows.length);
    expect(rows.length).toBeGreaterThan(50);
    for (const l of [lines[head]!, ...table]) expect(l.length).toBeLessThanOrEqual(cols);
    const times = table.map((l) => l.slice(0, 23));
    for (const t of times) expect(t).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect([...times].sort()).toEqual(times);
    // Row by row the same as --jsonl: time, level, the title's start, the first matched value's field.
    table.forEach((l, i) => {
      const r = rows[i]!;
      expect(l.startsWith(r.timestamp.replace("T", " ").slice(0, 23))).toBe(true);
      const cells = l.split(/ {2,}/);
      expect(cells).toContain(r.level);
      expect(LEVELS).toContain(r.level);
      expect(l).toContain(r.rule_title.slice(0, 20));
      const first = Object.keys(r.matched_values)[0];
      if (first) expect(l).toContain(`${first.split(".").pop()}=`);
    });
    // A process creation hit shows its image or command line.
    expect(table.some((l) => /\b(Image|CommandLine)=C:\\/i.test(l))).toBe(true);
    // The summary stays under the timeline, with hits by level highest first.
    const summary = lines.slice(end).join("\n");
    expect(summary).toMatch(/\d+ event\(s\), \d+ tagged; \d+ \(event, rule\) hit\(s\)/);
    const levels = summary.match(
      /Hits by level \(highest first\):\nlevel\s+events\s+hits\n[-\s]+\n((?:\S+\s+\d+\s+\d+\n)+)/,
    );
    expect(levels).not.toBeNull();
    const order = levels![1]!
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/)[0]!);
    expect(order).toEqual([...order].sort((a, b) => LEVELS.indexOf(b) - LEVELS.indexOf(a)));
    const hits = levels![1]!
      .trim()
      .split("\n")
      .reduce((a, l) => a + Number(l.split(/\s+/)[2]), 0);
    expect(hits).toBe(rows.length);
    expect(summary).toContain("Hits per rule");
  });

  test("--jsonl rows are sorted by time and carry the values of the fields each rule tests", () => {
    const t = rows.map((r) => Date.parse(r.timestamp));
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]!);
    for (const r of rows) {
      expect(r.computer).not.toBe("");
      expect(r.channel).not.toBe("");
      expect(r.event_id).toMatch(/^\d+$/);
      expect(EVTX).toContain(r.file);
    }
    expect(rows.filter((r) => Object.keys(r.matched_values).length > 0).length).toBeGreaterThan(rows.length * 0.9);
    expect(rows.some((r) => "winlog.event_data.CommandLine" in r.matched_values)).toBe(true);
  });

  test("--csv writes the same rows as --jsonl, every value whole", async () => {
    const csv = path.join(tmp, "all.csv");
    const jsonl = path.join(tmp, "again.jsonl");
    const r = await runBin(["scan", RULES, "--events", ...EVTX, "--csv", csv, "--jsonl", jsonl]);
    expect(r.code).toBe(0);
    const records = parseCsv(readFileSync(csv, "utf8"));
    expect(records[0]).toEqual([
      "timestamp",
      "computer",
      "channel",
      "event_id",
      "level",
      "rule_id",
      "rule_title",
      "matched_values",
      "file",
      "line",
    ]);
    const again = readJsonl(jsonl);
    expect(again).toEqual(rows);
    expect(
      records.slice(1).map((c) => ({
        timestamp: c[0],
        computer: c[1],
        channel: c[2],
        event_id: c[3],
        level: c[4],
        rule_id: c[5],
        rule_title: c[6],
        matched_values: JSON.parse(c[7]!),
        file: c[8],
        line: Number(c[9]),
      })),
    ).toEqual(rows);
  });

  test("in a pipe: the summary only, unless --timeline", async () => {
    const plain = await runBin(["scan", RULES, "--events", ...EVTX.slice(0, 10)]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain("time (UTC)");
    expect(plain.stdout).toContain("Hits by level (highest first):");
    const forced = await runBin(["scan", RULES, "--events", ...EVTX.slice(0, 10), "--timeline"], { COLUMNS: "120" });
    expect(forced.code).toBe(0);
    expect(forced.stdout.split("\n")[0]).toMatch(/^time \(UTC\)\s+computer/);
    for (const l of forced.stdout.split("\n\n")[0]!.split("\n")) expect(l.length).toBeLessThanOrEqual(120);
    const bad = path.join(tmp, "no-such-folder", "rows.csv");
    const unwritable = await runBin(["scan", RULES, "--events", ...EVTX.slice(0, 1), "--csv", bad]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain(`${bad}: cannot write --csv`);
    const json = await runBin(["scan", RULES, "--events", ...EVTX.slice(0, 10), "--json"]);
    expect(json.stdout).not.toContain("time (UTC)");
    for (const l of json.stdout.trim().split("\n")) expect(JSON.parse(l).outliers).toBeDefined();
  });

  test("--min-level high: only high and critical rows, and the selection is said", async () => {
    const jsonl = path.join(tmp, "high.jsonl");
    const r = await runBin(["scan", RULES, "--events", ...EVTX, "--min-level", "high", "--jsonl", jsonl]);
    expect(r.code).toBe(0);
    const high = readJsonl(jsonl);
    expect(high.length).toBeGreaterThan(0);
    for (const row of high) expect(["high", "critical"]).toContain(row.level);
    expect(high).toEqual(rows.filter((x) => x.level === "high" || x.level === "critical"));
    const kept = expectedHigh().size;
    expect(r.stdout).toMatch(
      new RegExp(`^rule selection: ${kept} of \\d+ rule\\(s\\) kept \\(critical \\d+, high \\d+\\)`, "m"),
    );
    expect(r.stdout).toMatch(new RegExp(`^  --min-level high: kept ${kept} `, "m"));
  });
});

describe.skipIf(!SHARED)("test with a selection", () => {
  test("checks the selected rules' cases and skips the others, saying why; --json carries the selection", async () => {
    const r = await runBin([
      "test",
      RULES,
      "--regression",
      path.join(SHARED!, "regression"),
      "--min-level",
      "high",
      "--json",
    ]);
    const out = JSON.parse(r.stdout);
    const want = expectedHigh();
    expect(out.selection.kept).toBe(want.size);
    const checked = out.results.filter((x: any) => x.status !== "skipped");
    const skipped = out.results.filter((x: any) => x.status === "skipped");
    expect(checked.length).toBeGreaterThan(0);
    expect(skipped.length).toBeGreaterThan(0);
    for (const x of checked) expect(want.has(x.rule)).toBe(true);
    for (const x of skipped) {
      expect(want.has(x.rule)).toBe(false);
      expect(x.reason).toContain("left out by the rule selection");
    }
    expect(r.code).toBe(out.missed + out.errors > 0 ? 1 : 0);
  });
});

describe.skipIf(!SHARED)("--min-level high selects the same rules in scan, pipeline install and backfill", () => {
  beforeAll(async () => {
    if (!SHARED) throw new Error(SKIP_MESSAGE);
    for (const f of LOADED) {
      const r = await runBin(["ingest", f, "--index", INDEX, "--create", "--node", ES_URL, "--json"]);
      expect(r.code).toBe(0);
    }
  });

  test("the same selection, the same rules, and backfill's counts per rule are scan's", async () => {
    const want = expectedHigh();
    const install = await runBin([
      "pipeline",
      "install",
      RULES,
      "--min-level",
      "high",
      "--dry-run",
      "--json",
      "--name",
      `select-h-pipe-${suffix}`,
      "--index",
      `select-h-none-${suffix}-*`,
      "--node",
      ES_URL,
    ]);
    expect(install.code).toBe(0);
    const plan = JSON.parse(install.stdout);
    expect(plan.dryRun).toBe(true);
    const installed = new Set<string>([
      ...plan.ruleChanges.added.map((r: any) => r.id),
      ...plan.skippedRules.map((s: any) => s.id),
    ]);
    expect(installed).toEqual(want);

    const backfill = await runBin([
      "backfill",
      RULES,
      "--min-level",
      "high",
      "--index",
      INDEX,
      "--since",
      "3650d",
      "--dry-run",
      "--json",
      "--node",
      ES_URL,
    ]);
    expect(backfill.code).toBe(0);
    const bf = JSON.parse(backfill.stdout);
    expect(bf.selection).toEqual(plan.selection);
    expect(bf.selection.kept).toBe(want.size);
    expect(bf.selection.keptByLevel.medium + bf.selection.keptByLevel.low).toBe(0);
    expect(new Set(bf.rules.map((r: any) => r.id))).toEqual(want);

    const jsonl = path.join(tmp, "loaded-high.jsonl");
    const scan = await runBin(["scan", RULES, "--events", ...LOADED, "--min-level", "high", "--jsonl", jsonl]);
    expect(scan.code).toBe(0);
    const perRule = new Map<string, number>();
    for (const row of readJsonl(jsonl)) perRule.set(row.rule_id, (perRule.get(row.rule_id) ?? 0) + 1);
    expect(perRule.size).toBeGreaterThan(0);
    const bfPerRule = new Map<string, number>(
      bf.rules.filter((r: any) => r.added > 0).map((r: any) => [r.id, r.added]),
    );
    expect(bfPerRule).toEqual(perRule);
    // The text summaries say the same.
    const text = await runBin([
      "backfill",
      RULES,
      "--min-level",
      "high",
      "--index",
      INDEX,
      "--since",
      "3650d",
      "--dry-run",
      "--node",
      ES_URL,
    ]);
    expect(text.stdout).toContain(`rule selection: ${want.size} of `);
  });

  test("report and untag scoped by a selection act on the selected rules; the hits layer conforms to 4.5", async () => {
    // Tag the loaded events for real (high and critical rules), then look at them by selection.
    const run = await runBin([
      "backfill",
      RULES,
      "--min-level",
      "high",
      "--index",
      INDEX,
      "--since",
      "3650d",
      "--json",
      "--node",
      ES_URL,
    ]);
    expect(run.code).toBe(0);
    const tagged = JSON.parse(run.stdout);
    const jsonl = path.join(tmp, "loaded-high.jsonl");
    const rows = readJsonl(jsonl);
    const critical = rows.filter((r) => r.level === "critical");
    const high = rows.filter((r) => r.level === "high");
    expect(tagged.newRuleHits).toBe(rows.length);

    const all = JSON.parse((await runBin(["report", "--index", INDEX, "--json", "--node", ES_URL])).stdout);
    expect(all.ruleEventPairs).toBe(rows.length);
    expect(all.selection).toBeUndefined();
    const onlyHigh = await runBin([
      "report",
      RULES,
      "--status",
      "test,stable,experimental",
      "--tag",
      "attack.*",
      "--min-level",
      "high",
      "--index",
      INDEX,
      "--json",
      "--node",
      ES_URL,
    ]);
    expect(onlyHigh.code).toBe(0);
    const reportHigh = JSON.parse(onlyHigh.stdout);
    expect(reportHigh.selection.filters.map((f: any) => f.filter)).toEqual([
      "--min-level high",
      "--status test,stable,experimental",
      "--tag attack.*",
    ]);
    const hiRules = new Set(reportHigh.rules.map((r: any) => r.id));
    for (const r of reportHigh.rules) expect(rows.some((x) => x.rule_id === r.id)).toBe(true);
    expect(hiRules.size).toBeGreaterThan(0);

    const layerFile = path.join(tmp, "hits.json");
    const rep = await runBin(["report", "--index", INDEX, "--navigator", layerFile, "--node", ES_URL]);
    expect(rep.code).toBe(0);
    const layer = JSON.parse(readFileSync(layerFile, "utf8"));
    expect(layerProblems(layer)).toEqual([]);
    expect(Number(layer.versions.attack)).toBeGreaterThanOrEqual(14);
    // Every technique's comment names rules by their titles (with their events).
    for (const t of layer.techniques) expect(t.comment).toMatch(/tagged event\(s\); \d+ rule\(s\): .+ \(\d+\)/);
    const titles = new Set(rows.map((r) => r.rule_title));
    expect(layer.techniques.some((t: any) => [...titles].some((x) => t.comment.includes(x)))).toBe(true);

    // untag of the high and critical rules but one, left out by its title in an --exclude file (dry run):
    // exactly the other rules' entries.
    const left = rows[0]!;
    const exclude = path.join(tmp, "exclude.txt");
    writeFileSync(exclude, `# keep this one tagged\n${left.rule_title}\n`);
    const un = await runBin([
      "untag",
      RULES,
      "--min-level",
      "high",
      "--exclude",
      exclude,
      "--index",
      INDEX,
      "--dry-run",
      "--json",
      "--node",
      ES_URL,
    ]);
    expect(un.code).toBe(0);
    const u = JSON.parse(un.stdout);
    expect(u.entries).toBe(rows.filter((r) => r.rule_id !== left.rule_id).length);
    expect(u.entries).toBeGreaterThan(0);
    expect(u.rules).not.toContain(left.rule_id);
    expect(u.rules.length).toBe(u.selection.kept);
    expect(u.selection.filters.at(-1)).toMatchObject({ filter: `--exclude ${exclude}`, dropped: 1 });
    expect(high.length + critical.length).toBe(rows.length);
    // A selection that keeps nothing never means every rule.
    const none = await runBin([
      "untag",
      RULES,
      "--tag",
      "no-such-tag*",
      "--index",
      INDEX,
      "--dry-run",
      "--node",
      ES_URL,
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no rule selected");
  });
});

describe.skipIf(!SHARED)("compile --navigator on SigmaHQ's Windows rules", () => {
  test("the coverage layer conforms to 4.5 and declares the ATT&CK version of T1685 (19), or --attack-version", async () => {
    const file = path.join(tmp, "coverage.json");
    const r = await runBin(["compile", RULES, "--out", path.join(tmp, "dsl.json"), "--navigator", file]);
    expect(r.code).toBe(0);
    const layer = JSON.parse(readFileSync(file, "utf8"));
    expect(layerProblems(layer)).toEqual([]);
    expect(layer.versions).toEqual({ attack: "19", navigator: "5.2.0", layer: "4.5" });
    const t = layer.techniques.find((x: any) => x.techniqueID === "T1685");
    expect(t.comment).toMatch(/^\d+ rule\(s\): /);
    const pinned = await runBin([
      "compile",
      RULES,
      "--out",
      path.join(tmp, "dsl.json"),
      "--navigator",
      file,
      "--attack-version",
      "18",
    ]);
    expect(pinned.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).versions.attack).toBe("18");
  });
});
