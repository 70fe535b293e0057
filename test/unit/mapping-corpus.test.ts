/**
 * Coverage of the SigmaHQ corpus (../shared/sigma/rules*) by the built-in profiles: every
 * logsource the corpus's rules name resolves, and so does every field they use. Skips when the
 * corpus is not there (fresh clones).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { isUnsupported, loadProfile } from "../../src/mapping/index.ts";
import type { Logsource } from "../../src/mapping/profile.ts";

const SIGMA = path.resolve(import.meta.dir, "../../../shared/sigma");
const present = existsSync(SIGMA);
if (!present) console.warn(`skipping corpus coverage: ${SIGMA} is missing`);

function* ymlFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) yield* ymlFiles(p);
    else if (/\.ya?ml$/.test(e)) yield p;
  }
}

/** logsource key -> { ls, fields used } over every rule document of the rules* folders. */
function corpusLogsources(): Map<string, { ls: Logsource; fields: Set<string>; files: number }> {
  const out = new Map<string, { ls: Logsource; fields: Set<string>; files: number }>();
  for (const d of readdirSync(SIGMA).filter((d) => d.startsWith("rules"))) {
    for (const f of ymlFiles(path.join(SIGMA, d))) {
      let global: any = {};
      for (const doc of parseAllDocuments(readFileSync(f, "utf8"))) {
        const r = doc.toJS() as any;
        if (!r || typeof r !== "object") continue;
        if (r.action === "global") global = r;
        const ls: Logsource = { ...(global.logsource ?? {}), ...(r.logsource ?? {}) };
        const clean: Logsource = {};
        for (const k of ["product", "category", "service"] as const) if (typeof ls[k] === "string") clean[k] = ls[k];
        const key = `${clean.product}/${clean.category}/${clean.service}`;
        const e = out.get(key) ?? { ls: clean, fields: new Set<string>(), files: 0 };
        e.files++;
        const det = { ...(global.detection ?? {}), ...(r.detection ?? {}) };
        for (const [name, v] of Object.entries(det)) {
          if (name === "condition" || name === "timeframe") continue;
          const maps = Array.isArray(v)
            ? v.filter((x) => x && typeof x === "object")
            : v && typeof v === "object"
              ? [v]
              : [];
          for (const m of maps) for (const k of Object.keys(m)) e.fields.add(k.split("|")[0]!);
        }
        out.set(key, e);
      }
    }
  }
  return out;
}

describe.skipIf(!present)("corpus coverage", () => {
  const corpus = present ? corpusLogsources() : new Map();
  for (const name of ["winlogbeat", "ecs"]) {
    test(`${name}: every corpus logsource and field resolves`, () => {
      const p = loadProfile(name);
      const failures: string[] = [];
      let windows = 0;
      for (const [key, { ls, fields }] of corpus) {
        if (ls.product === "windows") windows++;
        const t = p.logsource(ls);
        if (isUnsupported(t)) {
          failures.push(`${key}: ${t.unsupported}`);
          continue;
        }
        for (const f of fields) {
          if (f === "") continue; // keyword lists with modifiers (`'|all':`), not a field
          const r = p.field(f, ls);
          if (isUnsupported(r)) failures.push(`${key} ${f}: ${r.unsupported}`);
        }
      }
      expect(windows).toBeGreaterThan(50);
      expect(failures).toEqual([]);
    });
  }
});
