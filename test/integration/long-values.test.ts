/**
 * Issue 17 item 2: a long value evades no rule. A mimikatz command line padded with spaces (8,200
 * spaces, to 32,767 characters, to 1 MB) is tagged by the same rules as the unpadded one: live (the
 * pipeline `compile --target pipeline` writes), by `backfill` and by `scan`, on our template and on
 * ES's dynamic and Winlogbeat 7's mappings (whose keyword ignore_above is 256 / 1024 / 8191: the
 * backfill's candidate query widens, the matcher decides on `_source`). A regex that needs more steps
 * than Painless allows on the 1 MB value records `outliers.error` for that rule only, and the event
 * keeps the other rules' tags. Everything through the compiled binary; the 1 MB events are loaded
 * by `outliers ingest`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cluster, dropIndices, ES_URL } from "../helpers/es.ts";
import { PROFILE, ROOT, sources, stateDir } from "../helpers/backfill-fixture.ts";

const BIN = path.join(ROOT, "dist/outliers");
const SIGMA = path.resolve(ROOT, "../shared/sigma/rules/windows");
const MIMIKATZ_RULES = [
  path.join(SIGMA, "process_creation/proc_creation_win_hktl_mimikatz_command_line.yml"),
  path.join(SIGMA, "builtin/win_alert_mimikatz_keywords.yml"),
];
const MIMIKATZ_IDS = ["06d71506-7beb-4f22-8888-e2e5e2ca7fd8", "a642964e-bead-4bed-8910-1bb4d63e3b4d"];
const REGEX_ID = "0e7a0000-0000-4000-8000-00000000e7a1";
const TAIL_ID = "0e7a0000-0000-4000-8000-00000000e7a2";
const tmp = mkdtempSync(path.join(tmpdir(), "evade-long-"));
const REGEX_RULE = path.join(tmp, "regex.yml");
const TAIL_RULE = path.join(tmp, "tail.yml");
writeFileSync(
  REGEX_RULE,
  `title: evade regex over the whole line
id: ${REGEX_ID}
logsource: {product: windows, category: process_creation}
detection:
  sel: {CommandLine|re: 'sekurlsa.*exit\\s+\\d+'}
  condition: sel
`,
);
// A suffix past any ignore_above: only a matcher that reads the whole value sees it; a `?` wildcard and
// case folding over 1 MB (more loop iterations than one Painless call frame may run).
writeFileSync(
  TAIL_RULE,
  `title: evade suffix after the padding
id: ${TAIL_ID}
logsource: {product: windows, category: process_creation}
detection:
  sel: {CommandLine|endswith: ' exit'}
  sel2: {CommandLine|contains: '::logonpasswords'}
  sel3: {CommandLine|contains: 'SEKURLSA::LOGON?ASSWORDS'}
  filter: {CommandLine|startswith: 'nothing'}
  condition: sel and sel2 and sel3 and not filter
`,
);
const RULES = [...MIMIKATZ_RULES, REGEX_RULE, TAIL_RULE];

const LINE = 'mimikatz.exe "privilege::debug" "sekurlsa::logonpasswords"';
const PADS: Record<string, (s: string) => string> = {
  plain: (s) => `${s} exit`,
  pad8200: (s) => `${s}${" ".repeat(8200)} exit`,
  pad32767: (s) => `${s}${" ".repeat(32767 - s.length - 5)} exit`,
  pad1mb: (s) => `${s}${" ".repeat(1 << 20)} exit`,
};

function event(id: string, cmd: string): Record<string, unknown> {
  return {
    "@timestamp": new Date(Date.now() - 3_600_000).toISOString(),
    evade_case: id,
    winlog: {
      channel: "Microsoft-Windows-Sysmon/Operational",
      event_id: 1,
      record_id: id,
      event_data: { Image: "C:\\Tools\\mimikatz.exe", CommandLine: cmd, User: "CORP\\bob" },
    },
  };
}
// An event's own object `tags` holding 1 MB: set aside to outliers_original as JSON text (live, scan).
const TAGS_1MB = { ...event("tags1mb", PADS.pad8200!(LINE)), tags: { note: `n${"\t".repeat(1 << 20)}"` } };
// (backfill of an own object `tags` is issue 17 item 4's: that event goes to the live indices and scan only)
const EVENTS = Object.entries(PADS).map(([id, pad]) => event(id, pad(LINE)));
const FILE = path.join(tmp, "events.ndjson");
writeFileSync(FILE, EVENTS.map((e) => JSON.stringify(e)).join("\n") + "\n");
const LIVE_FILE = path.join(tmp, "live-events.ndjson");
writeFileSync(LIVE_FILE, [...EVENTS, TAGS_1MB].map((e) => JSON.stringify(e)).join("\n") + "\n");

async function bin(args: string[], state = stateDir()): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([BIN, ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, OUTLIERS_STATE_DIR: state },
  });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, stdout, stderr };
}

/** rule ids and errors per event id (errors as rule id: the error's class and step budget, message kept out). */
type Tags = Record<string, { rules: string[]; errors: string[]; original?: string }>;
function tagsOf(byId: Map<string, any>): Tags {
  const out: Tags = {};
  for (const src of byId.values()) {
    const o = src.outliers ?? {};
    out[src.evade_case] = {
      rules: [...(o.rule_id ?? [])].sort(),
      errors: [...(o.error ?? [])]
        .map((e: string) => e.replace(/:.*step budget (\d+) exceeded.*/, ": step budget $1"))
        .sort(),
      ...(src.outliers_original ? { original: JSON.stringify(src.outliers_original) } : {}),
    };
  }
  return out;
}

const MAPPINGS: Record<string, () => { settings?: object; mappings: object }> = {
  ours: () => PROFILE.indexTemplate(),
  dynamic: () => JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/mappings/dynamic.json"), "utf8")),
  "winlogbeat-7": () => JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/mappings/winlogbeat-7.json"), "utf8")),
};
const PIPELINE = "evade-long-values";
const indices = Object.keys(MAPPINGS).flatMap((m) => [`evade-long-live-${m}`, `evade-long-bf-${m}`]);

let scan: Tags;
const live: Record<string, Tags> = {};
const backfilled: Record<string, Tags> = {};

beforeAll(async () => {
  const { client } = await cluster();
  await dropIndices(...indices);
  const compiled = await bin(["compile", "--target", "pipeline", ...RULES]);
  expect(compiled.code).toBe(0);
  const body = JSON.parse(compiled.stdout);
  await client.ingest.putPipeline({ id: PIPELINE, ...body } as any);
  const s = await bin(["scan", ...RULES, "--events", LIVE_FILE, "--json", "--all"]);
  expect(s.code).toBe(1); // exit 1: one rule failed on one event (the regex budget on 1 MB)
  scan = tagsOf(
    new Map(
      s.stdout
        .trim()
        .split("\n")
        .map((l, i) => [String(i), JSON.parse(l)]),
    ),
  );
  for (const [name, body] of Object.entries(MAPPINGS)) {
    const { settings, mappings } = body();
    for (const kind of ["live", "bf"]) {
      const index = `evade-long-${kind}-${name}`;
      const extra = kind === "live" ? { "index.default_pipeline": PIPELINE } : {};
      await client.indices.create({ index, settings: { ...(settings ?? {}), ...extra }, mappings } as any);
      const errors = path.join(tmp, `${index}.errors`);
      const r = await bin([
        "ingest",
        kind === "live" ? LIVE_FILE : FILE,
        "--index",
        index,
        "--errors",
        errors,
        "--node",
        ES_URL,
      ]);
      expect({ index, code: r.code, stderr: r.stderr }).toEqual({ index, code: 0, stderr: expect.any(String) });
    }
    const bf = await bin([
      "backfill",
      ...RULES,
      "--since",
      "2d",
      "--index",
      `evade-long-bf-${name}`,
      "--json",
      "--node",
      ES_URL,
    ]);
    if (bf.code !== 0 && bf.code !== 1) throw new Error(`backfill ${name}: exit ${bf.code} ${bf.stderr}`);
    live[name] = tagsOf(await sources(`evade-long-live-${name}`));
    backfilled[name] = tagsOf(await sources(`evade-long-bf-${name}`));
  }
}, 600_000);

afterAll(async () => {
  await dropIndices(...indices);
  const { client } = await cluster();
  await client.ingest.deletePipeline({ id: PIPELINE }).catch(() => {});
});

describe("a padded mimikatz line is tagged like the plain one (live, backfill, scan)", () => {
  test("scan: every length tagged by both mimikatz rules and the suffix rule", () => {
    for (const id of Object.keys(PADS)) {
      expect([id, scan[id]!.rules.filter((r) => r !== REGEX_ID)]).toEqual([id, [...MIMIKATZ_IDS, TAIL_ID].sort()]);
    }
  });

  test("the regex that cannot finish on 1 MB records outliers.error for that rule only", () => {
    expect(scan.pad1mb!.errors).toEqual([`${REGEX_ID}: step budget 900000`]);
    for (const id of ["plain", "pad8200", "pad32767"]) expect([id, scan[id]!.errors]).toEqual([id, []]);
    // no digits after `exit`: the regex matches nowhere, but it ran to the end on 32,767 characters
    for (const id of Object.keys(PADS)) expect(scan[id]!.rules).not.toContain(REGEX_ID);
  });

  test("an own object tags of 1 MB is set aside whole, and the event tagged", () => {
    expect(scan.tags1mb!.rules).toEqual([...MIMIKATZ_IDS, TAIL_ID].sort());
    expect(scan.tags1mb!.errors).toEqual([]);
    expect(JSON.parse(JSON.parse(scan.tags1mb!.original!).tags)).toEqual(TAGS_1MB.tags);
  });

  for (const m of Object.keys(MAPPINGS)) {
    test(`${m}: live = scan, every event indexed`, () => {
      expect(Object.keys(live[m]!).sort()).toEqual([...Object.keys(PADS), "tags1mb"].sort());
      expect(live[m]).toEqual(scan);
    });
    test(`${m}: backfill = scan`, () => {
      const { tags1mb: _, ...pads } = scan;
      expect(backfilled[m]).toEqual(pads);
    });
  }
});
