/**
 * The shared material of the full-ruleset checks: every rule under ../shared/sigma/rules* that targets
 * Windows, compiled with the winlogbeat profile, and the regression events (converted per the
 * contract) with the rule id each must trigger. Both are absent on a fresh clone: `SHARED` is then
 * null and the tests that need it skip with a message.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { Rule } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { loadRules } from "../../src/rules/load.ts";
import { readDocsFile } from "../../src/events/docs-file.ts";

const SHARED_DIR = path.resolve(import.meta.dir, "../../../shared/sigma");
export const SHARED: string | null = existsSync(SHARED_DIR) ? SHARED_DIR : null;
export const SKIP_MESSAGE = `skipping: ${SHARED_DIR} is missing (a fresh clone has no ../shared)`;

let cached: Rule[] | undefined;

/** Every Windows rule of the rules* folders (status ok), in load order. */
export function windowsRules(): Rule[] {
  if (cached) return cached;
  if (!SHARED) throw new Error(SKIP_MESSAGE);
  const dirs = readdirSync(SHARED)
    .filter((d) => d.startsWith("rules"))
    .sort()
    .map((d) => path.join(SHARED!, d));
  const results = loadRules(dirs, { profile: loadProfile("winlogbeat") });
  cached = results.flatMap((r) => (r.status === "ok" && r.rule.logsource.product === "windows" ? [r.rule] : []));
  return cached;
}

export interface RegressionEvent {
  /** `<folder relative to regression/>#<n>`: stable document id. */
  id: string;
  file: string;
  ruleId: string;
  doc: Record<string, unknown>;
}

/** Every event of sigma/regression, winlogbeat-shaped, with the rule id its info.yml names. */
export function regressionEvents(): RegressionEvent[] {
  if (!SHARED) throw new Error(SKIP_MESSAGE);
  const root = path.join(SHARED, "regression");
  const out: RegressionEvent[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    const info = entries.find((e) => e.name === "info.yml");
    if (info) {
      const meta = parseYaml(readFileSync(path.join(dir, "info.yml"), "utf8")) as { rule_metadata?: { id: string }[] };
      const ruleId = meta.rule_metadata?.[0]?.id;
      for (const e of entries) {
        if (!e.isFile() || !e.name.endsWith(".json") || !ruleId) continue;
        const file = path.join(dir, e.name);
        readDocsFile(file, "evtx-json").forEach((d, n) => {
          if (!d.doc) throw new Error(`${file}:${d.line}: ${d.error}`);
          out.push({ id: `${path.relative(root, dir)}#${n}`, file, ruleId, doc: d.doc });
        });
      }
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(root);
  return out;
}
