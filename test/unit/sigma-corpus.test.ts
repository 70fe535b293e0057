/**
 * The SigmaHQ corpus (../shared/sigma, read-only, absent in fresh clones: then skipped): every
 * rule file compiles, ≥ 99.5% `ok` with the winlogbeat profile, and every failure has a specific
 * reason; over deprecated/ and unsupported/ nothing crashes. Counts, top reasons and the compile
 * time are printed (never asserted: the machine is shared).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isMap, isScalar, LineCounter, parseAllDocuments } from "yaml";
import type { CompileResult } from "../../src/ir/types.ts";
import { BUILTIN_PROFILES, loadProfile } from "../../src/mapping/index.ts";
import type { Profile } from "../../src/mapping/profile.ts";
import { findRuleFiles, loadRules } from "../../src/rules/load.ts";
import { quickLine } from "../../src/rules/sigma/parse.ts";
import { testProfile } from "../helpers/sigma-test-profile.ts";

// Whole-corpus passes take seconds on a busy shared machine.
const CORPUS_TIMEOUT_MS = 120_000;

const REPO = resolve(import.meta.dir, "../..");
const SIGMA = resolve(REPO, "../shared/sigma");
const present = existsSync(SIGMA);
if (!present)
  console.warn(`sigma-corpus: skipped, ${SIGMA} is missing (only the shared workspace has the SigmaHQ snapshot)`);

const placeholders = (() => {
  const doc = Bun.YAML.parse(readFileSync(join(REPO, "test/fixtures/sigma-placeholders.yml"), "utf8")) as Record<
    string,
    string[]
  >;
  return doc;
})();

function ruleDirs(): string[] {
  return readdirSync(SIGMA)
    .filter((d) => d.startsWith("rules"))
    .map((d) => join(SIGMA, d));
}

function summarize(label: string, rs: CompileResult[], ms: number): Record<string, number> {
  const counts: Record<string, number> = {};
  const reasons = new Map<string, number>();
  for (const r of rs) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (r.status !== "ok") {
      // group by the reason without path, line and quoted specifics
      const k = `${r.status}: ${r.error
        .replace(/^.*?:\d*:? ?(?=[a-z]|$)/i, "")
        .replace(/^[^ ]*?: /, "")
        .replace(/'[^']*'|%[^%]*%/g, "…")}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
  }
  const top = [...reasons]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([k, n]) => `  ${n} × ${k}`);
  console.log(
    `${label}: ${rs.length} rules in ${ms.toFixed(0)} ms: ${JSON.stringify(counts)}, ok ${((100 * (counts.ok ?? 0)) / rs.length).toFixed(2)}%\n${top.join("\n")}`,
  );
  return counts;
}

/** A failure reason names the file and the place and says something specific. */
function specific(r: CompileResult): boolean {
  if (r.status === "ok") return true;
  return r.error.startsWith(r.path) && !r.error.includes("internal error") && r.error.length > r.path.length + 12;
}

describe.skipIf(!present)("SigmaHQ corpus", () => {
  const profiles: [string, () => Profile][] = [
    ["winlogbeat", () => loadProfile("winlogbeat")],
    ["test profile", () => testProfile],
  ];
  for (const [name, profile] of profiles) {
    test(
      `rules*: ≥ 99.5% ok with ${name} (placeholders given), every failure specific`,
      () => {
        const t = performance.now();
        const rs = loadRules(ruleDirs(), { profile: profile(), placeholders });
        const counts = summarize(`rules* (${name}, placeholders)`, rs, performance.now() - t);
        expect(rs.length).toBeGreaterThan(3000);
        expect((counts.ok ?? 0) / rs.length).toBeGreaterThanOrEqual(0.995);
        expect(rs.filter((r) => !specific(r))).toEqual([]);
      },
      CORPUS_TIMEOUT_MS,
    );
  }

  test(
    "rules* with the other built-in profiles: every failure specific (counts printed)",
    () => {
      for (const name of BUILTIN_PROFILES.filter((n) => n !== "winlogbeat")) {
        const t = performance.now();
        const rs = loadRules(ruleDirs(), { profile: loadProfile(name), placeholders });
        summarize(`rules* (${name}, placeholders)`, rs, performance.now() - t);
        expect(rs.filter((r) => !specific(r))).toEqual([]);
      }
    },
    CORPUS_TIMEOUT_MS,
  );

  test(
    "rules* without placeholders: the only extra failures are 'placeholder %x% has no value'",
    () => {
      const profile = loadProfile("winlogbeat");
      const t = performance.now();
      const without = loadRules(ruleDirs(), { profile });
      summarize("rules* (winlogbeat, no placeholders)", without, performance.now() - t);
      const withPh = loadRules(ruleDirs(), { profile, placeholders });
      const failedPaths = (rs: CompileResult[]) =>
        rs.flatMap((r) => (r.status === "ok" ? [] : [{ path: r.path, status: r.status, error: r.error }]));
      const failedWith = new Set(failedPaths(withPh).map((r) => r.path));
      const extra = failedPaths(without).filter((r) => !failedWith.has(r.path));
      expect(extra.length).toBeGreaterThan(0);
      for (const r of extra) {
        expect(r.status).toBe("unsupported");
        expect(r.error).toMatch(/: placeholder %[^%]+% has no value$/);
      }
    },
    CORPUS_TIMEOUT_MS,
  );

  test(
    "deprecated/ and unsupported/: no crash, every failure has a specific reason",
    () => {
      const t = performance.now();
      const rs = loadRules([join(SIGMA, "deprecated"), join(SIGMA, "unsupported")], {
        profile: loadProfile("winlogbeat"),
      });
      summarize("deprecated+unsupported (winlogbeat)", rs, performance.now() - t);
      expect(rs.length).toBeGreaterThan(200);
      expect(rs.filter((r) => !specific(r))).toEqual([]);
      // the aggregations there are reported as such
      expect(rs.filter((r) => r.status === "unsupported" && r.error.includes("aggregation")).length).toBeGreaterThan(
        40,
      );
    },
    CORPUS_TIMEOUT_MS,
  );

  test(
    "the native YAML parser gives the same values as the yaml package for every file",
    () => {
      const { files } = findRuleFiles([SIGMA]);
      const differ: string[] = [];
      for (const f of files) {
        const text = readFileSync(f, "utf8");
        const docs = parseAllDocuments(text) as { toJS(): unknown }[];
        const viaYaml = docs.length === 1 ? docs[0]!.toJS() : docs.map((d) => d.toJS());
        let viaBun: unknown;
        try {
          viaBun = Bun.YAML.parse(text);
        } catch {
          viaBun = "<native parser failed>";
        }
        if (JSON.stringify(viaBun) !== JSON.stringify(viaYaml)) differ.push(f);
      }
      expect(files.length).toBeGreaterThan(3500);
      expect(differ).toEqual([]);
    },
    CORPUS_TIMEOUT_MS,
  );

  test(
    "the quick line lookup for messages agrees with the yaml package on every key of the corpus",
    () => {
      const { files } = findRuleFiles([SIGMA]);
      let checked = 0;
      const wrong: string[] = [];
      for (const f of files) {
        const text = readFileSync(f, "utf8");
        const lc = new LineCounter();
        const docs = parseAllDocuments(text, { lineCounter: lc });
        if (docs.length !== 1) continue;
        const walk = (node: unknown, place: string[]) => {
          if (!isMap(node)) return;
          for (const p of node.items) {
            const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
            const want = lc.linePos((p.key as { range: [number] }).range[0]).line;
            const got = quickLine(text, [...place, k]);
            if (got !== undefined) {
              checked++;
              if (got !== want) wrong.push(`${f}: ${[...place, k].join(".")}: ${got} != ${want}`);
            }
            walk(p.value, [...place, k]);
          }
        };
        walk(docs[0]!.contents, []);
      }
      expect(checked).toBeGreaterThan(50000);
      expect(wrong).toEqual([]);
    },
    CORPUS_TIMEOUT_MS,
  );
});
