/**
 * Issue 22 item 7: `scan --workers N` prints exactly what `--workers 1` prints. Through dist/outliers,
 * on SigmaHQ's real events (../shared/sigma/regression: the native .evtx files, and their evtx JSON
 * exports as one NDJSON file, repeated so that one file spans several batches, with broken lines and
 * inexact numbers among them), with the bundled rules (rules/) and with every Windows rule of
 * ../shared: `--json --all`, the timeline, `--csv`, `--jsonl`, the summary, stderr (unreadable
 * documents and warnings, in order, capped) and the exit code are byte for byte the same for 1, 2
 * and 3 workers. A bad `--workers` is a usage error; a failing worker stops the scan with its message.
 * No cluster needed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDocs } from "../../src/events/docs-file.ts";
import { ROOT, runBin } from "../helpers/binary.ts";
import { SHARED, SKIP_MESSAGE } from "../helpers/windows-rules.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "outliers-scanw-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (e.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

const BUNDLED = path.join(ROOT, "rules");
const WINDOWS = SHARED ? path.join(SHARED, "rules", "windows") : "";
const EVTX = SHARED ? filesUnder(path.join(SHARED, "regression"), ".evtx") : [];

/** The regression events' JSON exports as NDJSON, 4 times over, with broken lines and inexact numbers. */
function ndjson(): string {
  const file = path.join(tmp, "regression.ndjson");
  const lines: string[] = [];
  for (const f of filesUnder(path.join(SHARED!, "regression"), ".json"))
    for (const e of parseDocs(readFileSync(f, "utf8"), "auto")) if (e.doc) lines.push(JSON.stringify(e.doc));
  const out: string[] = [];
  for (let copy = 0; copy < 4; copy++)
    lines.forEach((l, i) => {
      out.push(l);
      if (i % 37 === copy) out.push(`{"broken": ${i}`);
      if (i % 7 === copy) out.push(`{"winlog":{"event_id":4624,"record_id":123456789012345678901234567},"n":${i}}`);
    });
  writeFileSync(file, out.join("\n") + "\n");
  return file;
}

/** Every output of one scan: stdout, stderr, exit code, and the --csv / --jsonl files. */
async function scanAll(args: string[], workers: number, files = false) {
  const csv = path.join(tmp, `w${workers}.csv`);
  const jsonl = path.join(tmp, `w${workers}.jsonl`);
  const extra = files ? ["--csv", csv, "--jsonl", jsonl] : [];
  const r = await runBin(["scan", ...args, ...extra, "--workers", String(workers)], { COLUMNS: "180" });
  return {
    code: r.code,
    stdout: r.stdout,
    stderr: r.stderr,
    csv: files ? readFileSync(csv, "utf8") : "",
    jsonl: files ? readFileSync(jsonl, "utf8") : "",
  };
}

async function expectSameForWorkers(args: string[], files = false) {
  const one = await scanAll(args, 1, files);
  for (const n of [2, 3]) {
    const many = await scanAll(args, n, files);
    // Compared field by field, so that a failure names what differs.
    expect({ n, stdout: many.stdout }).toEqual({ n, stdout: one.stdout });
    expect({ n, stderr: many.stderr }).toEqual({ n, stderr: one.stderr });
    expect({ n, code: many.code }).toEqual({ n, code: one.code });
    expect({ n, csv: many.csv }).toEqual({ n, csv: one.csv });
    expect({ n, jsonl: many.jsonl }).toEqual({ n, jsonl: one.jsonl });
  }
  return one;
}

describe.skipIf(!SHARED)("scan --workers N prints what --workers 1 prints", () => {
  if (!SHARED) console.log(SKIP_MESSAGE);
  const inputs = () => ({ evtx: EVTX, ndjson: [ndjson()] });

  for (const [name, rules] of [
    ["the bundled rules", () => BUNDLED],
    ["every Windows rule", () => WINDOWS],
  ] as const) {
    for (const kind of ["evtx", "ndjson"] as const) {
      test(`${name}, ${kind}: --json --all`, async () => {
        const one = await expectSameForWorkers([rules(), "--events", ...inputs()[kind], "--json", "--all"]);
        const lines = one.stdout.trim().split("\n");
        // Every event was printed (the broken lines are not events).
        expect(lines.length).toBeGreaterThan(kind === "evtx" ? 80 : 300);
        if (rules() === WINDOWS) expect(lines.filter((l) => l.includes('"rule_id"')).length).toBeGreaterThan(50);
      }, 300_000);

      test(`${name}, ${kind}: timeline, --csv, --jsonl and the summary`, async () => {
        const one = await expectSameForWorkers([rules(), "--events", ...inputs()[kind], "--timeline"], true);
        expect(one.stdout).toContain("event(s),");
        if (rules() === WINDOWS) {
          expect(one.stdout).toContain("Hits per rule");
          expect(one.csv.split("\n").length).toBeGreaterThan(50);
          expect(one.jsonl.split("\n").length).toBeGreaterThan(50);
        }
        if (kind === "ndjson") {
          // Unreadable lines and warnings are reported in input order, capped, the same way.
          expect(one.stderr).toContain("more unreadable event(s)");
          expect(one.stderr).toMatch(/more warning\(s\)/);
          expect(one.code).toBe(1);
        }
      }, 300_000);
    }
  }
});

describe("scan --workers: bad values and failing workers", () => {
  const events = path.join(tmp, "small.ndjson");
  writeFileSync(
    events,
    Array.from({ length: 600 }, (_, i) =>
      JSON.stringify({ winlog: { event_id: 1 }, process: { command_line: `whoami /all ${i}` } }),
    ).join("\n") + "\n",
  );

  for (const bad of ["0", "abc", "-1", "1.5", "65"])
    test(`--workers ${bad} is a usage error`, async () => {
      const r = await runBin(["scan", BUNDLED, "--events", events, "--workers", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--workers ${bad}: expected a whole number of threads from 1 to 64`);
      expect(r.stdout).toBe("");
    });

  test("--help documents the default and shows an example", async () => {
    const r = await runBin(["scan", "--help"]);
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help).toContain("--workers <n>");
    expect(help).toContain("Default: min(cores, 4) when the event files total 32 MB or more, else 1");
    expect(help).toContain("$ outliers scan rules/ --events big.ndjson --workers 2");
  });

  for (const [fault, message] of [
    ["throw", /^outliers: scan worker \d: injected fault \(OUTLIERS_SCAN_WORKER_FAULT=throw\)$/m],
    ["exit", /^outliers: scan worker \d exited unexpectedly \(code 7\)$/m],
  ] as const)
    test(`a worker that fails (${fault}) stops the scan with its message, no hang`, async () => {
      const r = await runBin(["scan", BUNDLED, "--events", events, "--workers", "2"], {
        OUTLIERS_SCAN_WORKER_FAULT: fault,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }, 60_000);
});
