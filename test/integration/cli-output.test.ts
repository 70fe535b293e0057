/**
 * Issue 18.6, what people read, with the binary: every --help has 2-4 examples, each default once,
 * lines that fit 80 columns in a pipe, `scan --help` names .evtx; warnings carry one prefix; long runs
 * print a progress line on stderr at an interval in a pipe (never with --json); `scan` caps the errors
 * of an unreadable file; `doctor --index` groups its findings per kind and names the template to
 * change, or says there is none and what to do instead (real node).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { ensureBinary, ROOT, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "cli-h-output-"));
const RULES = path.join(ROOT, "rules");
const stamp = Date.now().toString(36);

beforeAll(() => ensureBinary());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every command path `--help` lists, subcommands included. */
async function commandPaths(prefix: string[] = []): Promise<string[][]> {
  const r = await runBin([...prefix, "--help"]);
  const section = r.stdout.split(/\nCommands:\n/)[1]?.split(/\n\n/)[0] ?? "";
  const names = [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== "help");
  const out: string[][] = [prefix];
  for (const n of names) out.push(...(await commandPaths([...prefix, n])));
  return out;
}

describe("--help", () => {
  test("every command: 2 to 4 examples, each default once, 80 columns in a pipe; scan names .evtx", async () => {
    const paths = await commandPaths();
    expect(paths.length).toBeGreaterThanOrEqual(14);
    for (const p of paths) {
      const r = await runBin([...p, "--help"]);
      const label = `outliers ${p.join(" ")} --help`;
      expect(r.code, label).toBe(0);
      const examples = (r.stdout.split("\nExamples:\n")[1] ?? "")
        .split("\n")
        .filter((l) => l.startsWith("  $ outliers"));
      expect(examples.length, `${label}: examples`).toBeGreaterThanOrEqual(2);
      expect(examples.length, `${label}: examples`).toBeLessThanOrEqual(4);
      for (const l of r.stdout.split("\n")) expect(l.length, `${label}: ${l}`).toBeLessThanOrEqual(80);
      // One option entry (its line and its wrapped continuation lines) names its default once.
      const options = (r.stdout.split("\nOptions:\n")[1] ?? "").split("\n\n")[0]!;
      for (const entry of options.split(/\n(?= {2}-)/))
        expect(entry.match(/default/gi)?.length ?? 0, `${label}: ${entry}`).toBeLessThanOrEqual(1);
    }
    const scan = await runBin(["scan", "--help"]);
    expect(scan.stdout).toContain(".evtx");
  }, 120_000);
});

describe("messages", () => {
  test("warnings use one prefix (scan, report)", async () => {
    const events = path.join(dir, "big.ndjson");
    writeFileSync(events, `{"n": 18446744073709551615, "@timestamp": "2026-01-01T00:00:00Z"}\n`);
    const scan = await runBin(["scan", RULES, "--events", events]);
    const report = await runBin(["report", "--index", `cli-h-nothing-${stamp}-*`, "--node", ES_URL]);
    const lines = [...scan.stderr.split("\n"), ...report.stderr.split("\n")].filter((l) => /warning/i.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^outliers: warning: /);
  }, 60_000);

  test("scan of a file that is no event format prints 10 errors and counts the rest", async () => {
    const fake = path.join(dir, "fake.csv");
    writeFileSync(
      fake,
      `time,host,cmd\n${Array.from({ length: 5000 }, (_, i) => `2026-01-01,h${i},c${i}`).join("\n")}\n`,
    );
    const r = await runBin(["scan", RULES, "--events", fake]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith(`${fake}:`));
    expect(errors.length).toBe(10);
    expect(r.stderr).toMatch(/… 4991 more unreadable event\(s\)/);
    expect(r.stderr.split("\n").length).toBeLessThan(30);
  }, 60_000);

  test("progress lines on stderr in a pipe at the interval, none with --json", async () => {
    const events = path.join(dir, "many.ndjson");
    const line = JSON.stringify({
      "@timestamp": "2026-01-01T00:00:00Z",
      winlog: {
        channel: "Security",
        event_id: 4688,
        event_data: { CommandLine: "cmd /c whoami", NewProcessName: "C:\\x.exe" },
      },
    });
    writeFileSync(events, `${line}\n`.repeat(300_000));
    const env = { OUTLIERS_PROGRESS_INTERVAL_MS: "100" };
    const piped = await runBin(["scan", RULES, "--events", events], env);
    expect(piped.code, piped.stderr).toBe(0);
    const progress = piped.stderr.split("\n").filter((l) => l.startsWith("outliers: progress: scan"));
    expect(progress.length, piped.stderr).toBeGreaterThanOrEqual(2);
    // Plain lines, no terminal control characters, a rate and the time elapsed.
    for (const l of progress) {
      expect(l).not.toContain("\r");
      expect(l).not.toContain("\x1b");
      expect(l).toMatch(/elapsed/);
    }
    const json = await runBin(["scan", RULES, "--events", events, "--json"], env);
    expect(json.code).toBe(0);
    expect(json.stderr).not.toContain("progress");
    // The default interval is ~10 s: a short run prints none.
    const quick = await runBin(["scan", RULES, "--events", path.join(dir, "big.ndjson")]);
    expect(quick.stderr).not.toContain("progress");
  }, 300_000);
});

describe("doctor --index on a dynamic mapping (real node)", () => {
  const bare = `cli-h-dyn-${stamp}`;
  const shaped = `cli-h-dyn2-${stamp}-a`;
  const template = `cli-h-dyn-tpl-${stamp}`;
  const doc = {
    "@timestamp": "2026-12-01T00:00:00Z",
    winlog: {
      channel: "Security",
      event_id: 4688,
      event_data: { CommandLine: "x", Image: "c:\\a.exe", NewProcessName: "n", ParentImage: "p" },
    },
  };
  beforeAll(async () => {
    await rest("PUT", `/_index_template/${template}`, {
      index_patterns: [`cli-h-dyn2-${stamp}-*`],
      priority: 900,
      template: {},
    });
    for (const ix of [bare, shaped]) await rest("POST", `/${ix}/_doc`, doc, { refresh: "true" });
  });
  afterAll(async () => {
    for (const ix of [bare, shaped]) await rest("DELETE", `/${ix}`).catch(() => {});
    await rest("DELETE", `/_index_template/${template}`).catch(() => {});
  });

  test("one grouped finding per kind with its field list; no template: says so and what to do", async () => {
    const r = await runBin(["doctor", RULES, "--index", bare, "--node", ES_URL]);
    const lines = r.stdout.split("\n");
    const groups = lines.filter((l) => l.startsWith("[warn] ignore-above"));
    expect(groups.length, r.stdout).toBe(1);
    expect(lines.filter((l) => l.startsWith("[warn]")).length).toBe(
      new Set(lines.filter((l) => l.startsWith("[warn]")).map((l) => l.split(":")[0])).size,
    );
    const fields = lines.find((l) => l.trim().startsWith("fields:")) ?? "";
    expect(fields).toContain("winlog.event_data.CommandLine");
    expect(fields).toContain("winlog.event_data.Image");
    const fix = lines.find((l) => l.trim().startsWith("fix:")) ?? "";
    expect(fix).toContain(`no index template matches ${bare}`);
    expect(fix).toContain("_index_template");
  }, 60_000);

  test("with a template: the fix names it", async () => {
    const r = await runBin(["doctor", RULES, "--index", shaped, "--node", ES_URL]);
    const fix = r.stdout.split("\n").find((l) => l.trim().startsWith("fix:")) ?? "";
    expect(fix, r.stdout).toContain(`index template ${template}`);
    expect(fix).not.toContain("no index template matches");
  }, 60_000);
});
