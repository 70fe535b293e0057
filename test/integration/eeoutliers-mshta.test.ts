/**
 * NVISO's published ee-outliers example, end to end: `outliers compile <mshta rule> --target
 * ee-outliers --mapping winlogbeat` writes a use case whose es_dsl_filter has sigmac's clauses
 * (Image ends with \mshta.exe AND CommandLine contains one of seven values) and, on the real
 * cluster, matches the same documents as sigmac's published query (written here by hand in its
 * known form, field names adapted to the winlogbeat profile: Image/CommandLine are keyword fields
 * there, so no `.keyword`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { parseIni } from "../../src/rules/eeoutliers/configparser.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { loadRules } from "../../src/rules/load.ts";
import { ruleQuery } from "../../src/emit/dsl.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dropIndices, testIndex } from "../helpers/es.ts";
import { createIndexWithDocs, matchIds } from "../helpers/match.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const RULE = "rules/windows/process_creation/proc_creation_win_mshta_susp_execution_01.yml";
const SEVEN = ["vbscript", ".jpg", ".png", ".lnk", ".xls", ".doc", ".zip"];

/** sigmac's ee-outliers/es-dsl output for the rule, in its published shape. */
const sigmacQuery = {
  constant_score: {
    filter: {
      bool: {
        must: [
          { wildcard: { "winlog.event_data.Image": "*\\\\mshta.exe" } },
          { bool: { should: SEVEN.map((v) => ({ wildcard: { "winlog.event_data.CommandLine": `*${v}*` } })) } },
        ],
      },
    },
  },
};

const sysmon = (image: string, cmd: string) => ({
  winlog: {
    channel: "Microsoft-Windows-Sysmon/Operational",
    event_id: 1,
    event_data: { Image: image, CommandLine: cmd },
  },
});
const MSHTA = "C:\\Windows\\System32\\mshta.exe";
/** Documents written in the rule's own case: sigmac and we must agree on every one. */
const sameCase: Record<string, Record<string, unknown>> = {
  vbscript: sysmon(MSHTA, 'mshta vbscript:Execute("x")'),
  jpg: sysmon(MSHTA, "mshta C:\\Users\\a\\pic.jpg"),
  png: sysmon(MSHTA, "mshta http://x/a.png"),
  lnk: sysmon(MSHTA, "mshta a.lnk"),
  xls: sysmon(MSHTA, "mshta report.xlsx"),
  doc: sysmon(MSHTA, "mshta memo.docm"),
  zip: sysmon(MSHTA, "mshta c:\\t\\a.zip"),
  benign: sysmon(MSHTA, "mshta C:\\apps\\tool.hta"),
  other_image: sysmon("C:\\Windows\\explorer.exe", "explorer pic.jpg"),
  mshta_suffix_only: sysmon("C:\\tools\\notmshta.exe", "x.zip"),
  no_cmd: { winlog: { channel: "Microsoft-Windows-Sysmon/Operational", event_id: 1, event_data: { Image: MSHTA } } },
};
/** Where Sigma's case-insensitive matching (ours) and sigmac's case-sensitive `.keyword` wildcards differ. */
const otherCase: Record<string, Record<string, unknown>> = {
  upper_image: sysmon("C:\\WINDOWS\\SYSTEM32\\MSHTA.EXE", "MSHTA VBScript:Close"),
  upper_ext: sysmon(MSHTA, "mshta C:\\A\\PIC.JPG"),
};

let out = "";
let status = -1;
let index = "";

beforeAll(async () => {
  const r = spawnSync(
    path.join(ROOT, "node_modules/.bin/bun"),
    ["src/cli.ts", "compile", RULE, "--target", "ee-outliers", "--mapping", "winlogbeat"],
    { cwd: ROOT, encoding: "utf8" },
  );
  out = r.stdout;
  status = r.status ?? -1;
  if (status !== 0) throw new Error(`compile exited ${status}: ${r.stderr}`);
  index = testIndex("mshta");
  await createIndexWithDocs(index, loadProfile("winlogbeat").indexTemplate(), { ...sameCase, ...otherCase });
}, 120_000);
afterAll(async () => {
  await dropIndices(index);
});

function section() {
  const ini = parseIni(RULE.replace(".yml", ".conf"), out);
  expect(ini.errors).toEqual([]);
  expect(ini.sections.length).toBe(1);
  const s = ini.sections[0]!;
  const get = (k: string) => s.keys.get(k)?.value;
  return { name: s.name, get };
}

/** Leaf clauses of a query: [kind, field, value] for term/wildcard/prefix, any nesting. */
function leaves(q: unknown, acc: Array<[string, string, string]> = []): Array<[string, string, string]> {
  if (Array.isArray(q)) for (const x of q) leaves(x, acc);
  else if (q && typeof q === "object") {
    for (const [k, v] of Object.entries(q)) {
      if ((k === "wildcard" || k === "term" || k === "prefix") && v && typeof v === "object") {
        const [field, body] = Object.entries(v)[0]!;
        acc.push([k, field, typeof body === "object" && body !== null ? String((body as any).value) : String(body)]);
      } else leaves(v, acc);
    }
  }
  return acc;
}

describe("MSHTA Suspicious Execution 01 as an ee-outliers use case", () => {
  test("the use case sigmac's backend wrote", () => {
    const s = section();
    expect(s.name).toBe("simplequery_sigma_MSHTA-Suspicious-Execution-01");
    expect(s.get("es_index")).toBe("winlogbeat-*");
    expect(s.get("outlier_type")).toBe("Sigma hit, attack.defense_evasion, attack.t1140");
    expect(s.get("outlier_reason")).toBe("Sigma hit - MSHTA Suspicious Execution 01");
    expect(s.get("outlier_summary")).toBe("Sigma hit - MSHTA Suspicious Execution 01");
    expect(s.get("run_model")).toBe("1");
    expect(s.get("test_model")).toBe("0");
  });

  test("es_dsl_filter has sigmac's clauses: Image ends with \\mshta.exe AND CommandLine contains one of the seven", () => {
    const filter = JSON.parse(section().get("es_dsl_filter")!);
    expect(Object.keys(filter)).toEqual(["query"]);
    const ls = leaves(filter.query);
    expect(ls).toContainEqual(["wildcard", "winlog.event_data.Image", "*\\\\mshta.exe"]);
    // process_creation compiles once per source (Sysmon 1: Image, Security 4688: NewProcessName), each
    // branch with the same seven CommandLine alternatives.
    expect(ls).toContainEqual(["wildcard", "winlog.event_data.NewProcessName", "*\\\\mshta.exe"]);
    const cmd = ls
      .filter(([, f]) => f === "winlog.event_data.CommandLine")
      .map(([k, , v]) => `${k}:${v}`)
      .sort();
    expect(cmd).toEqual([...SEVEN, ...SEVEN].map((v) => `wildcard:*${v}*`).sort());
    // in each source's branch the CommandLine alternatives sit in one OR, ANDed with the image test
    const ands: object[][] = [];
    const walk = (q: unknown): void => {
      if (!q || typeof q !== "object") return;
      const f = (q as any).bool?.filter;
      if (Array.isArray(f)) ands.push(f);
      for (const v of Object.values(q as object)) Array.isArray(v) ? v.forEach(walk) : walk(v);
    };
    walk(filter.query);
    const sevenOr = (and: object[]) =>
      and.some((c) => leaves(c).every(([, f]) => f === "winlog.event_data.CommandLine") && leaves(c).length === 7);
    expect(ands.filter(sevenOr).length).toBe(2);
  });

  test("matches the same documents as sigmac's published query on the real cluster", async () => {
    const ours = JSON.parse(section().get("es_dsl_filter")!).query;
    const restrict = (q: object, ids: string[]) => ({ bool: { filter: [q, { ids: { values: ids } }] } });
    const same = Object.keys(sameCase);
    const [a, b] = await matchIds(index, [restrict(ours, same), restrict(sigmacQuery, same)]);
    expect(a).toEqual(["doc", "jpg", "lnk", "png", "vbscript", "xls", "zip"]);
    expect(b).toEqual(a!);
  });

  test("where they differ: Sigma is case-insensitive, sigmac's .keyword wildcards were not", async () => {
    const ours = JSON.parse(section().get("es_dsl_filter")!).query;
    const ids = Object.keys(otherCase);
    const restrict = (q: object) => ({ bool: { filter: [q, { ids: { values: ids } }] } });
    const [a, b] = await matchIds(index, [restrict(ours), restrict(sigmacQuery)]);
    expect(a).toEqual(["upper_ext", "upper_image"]);
    expect(b).toEqual([]);
  });

  test("the use case reads back (src/rules/eeoutliers) into a rule that matches the same documents", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mshta-"));
    try {
      const file = path.join(dir, "mshta.conf");
      writeFileSync(file, out);
      const [r] = loadRules([file], { profile: loadProfile("winlogbeat") });
      if (r?.status !== "ok") throw new Error(`read back failed: ${JSON.stringify(r)}`);
      expect(r.rule.tagsOut.reason).toBe("Sigma hit - MSHTA Suspicious Execution 01");
      const ours = JSON.parse(section().get("es_dsl_filter")!).query;
      const [a, b] = await matchIds(index, [ours, ruleQuery(r.rule)]);
      expect(b).toEqual(a!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
