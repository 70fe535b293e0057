/**
 * The SigmaHQ corpus round trip through ee-outliers files: `outliers compile ../shared/sigma/rules*
 * --target ee-outliers` writes one use-case file; it must load back with no error, and the live
 * pipeline built from it must tag exactly the (event, rule) pairs the pipeline built from the Sigma
 * YAML tags, on the regression events and a generated corpus (OUTLIERS_EE_DOCS events, default
 * 3,000 to keep the suite short). Skips when ../shared is missing.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Rule } from "../../src/ir/types.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileEeOutliersFiles } from "../../src/rules/eeoutliers/compile.ts";
import { buildPipeline } from "../../src/emit/painless/pipeline.ts";
import { cluster, dropIndices, testIndex } from "../helpers/es.ts";
import { generateEvents } from "../helpers/gen-events.ts";
import { regressionEvents, SHARED, SKIP_MESSAGE, windowsRules } from "../helpers/windows-rules.ts";

if (!SHARED) console.warn(SKIP_MESSAGE);
const SIZE = Number(process.env.OUTLIERS_EE_DOCS ?? 3000);
const ROOT = path.resolve(import.meta.dir, "../..");
const BUN = path.join(ROOT, "node_modules/.bin/bun");
const profile = loadProfile("winlogbeat");

/** `# <rule id> (<path>)` above each `[section]`, as src/emit/eeoutliers.ts writes it. */
function sectionIds(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# (\S+) \(.*\)\r?\n\[([^\]\r\n]+)\]/gm)) out.set(m[2]!, m[1]!);
  return out;
}

/** The (document, rule) pairs a pipeline of these rules tags. */
async function livePairs(
  rules: Rule[],
  docs: { id: string; source: object }[],
  prefix: string,
  ruleName: (id: string) => string,
) {
  const { client } = await cluster();
  const built = buildPipeline(rules);
  const pipe = testIndex(`${prefix}-pipe`);
  const index = testIndex(`${prefix}-live`);
  const template = profile.indexTemplate();
  try {
    await client.ingest.putPipeline({ id: pipe, processors: built.processors, on_failure: built.on_failure } as any);
    await client.indices.create({
      index,
      settings: { ...(template.settings ?? {}), "index.default_pipeline": pipe },
      mappings: template.mappings,
    } as any);
    for (let i = 0; i < docs.length; i += 1000) {
      const body: object[] = [];
      for (const d of docs.slice(i, i + 1000)) body.push({ index: { _index: index, _id: d.id } }, d.source);
      const res: any = await client.bulk({ body } as any);
      if (res.errors) throw new Error(JSON.stringify(res.items.find((x: any) => x.index?.error)));
    }
    await client.indices.refresh({ index });
    const pairs = new Set<string>();
    const errors: string[] = [];
    let res: any = await client.search({
      index,
      scroll: "2m",
      size: 5000,
      _source: ["outliers.rule_id", "outliers.error"],
      query: { match_all: {} },
    } as any);
    while (res.hits.hits.length) {
      for (const h of res.hits.hits) {
        for (const id of [].concat(h._source?.outliers?.rule_id ?? [])) pairs.add(`${h._id} ${ruleName(id)}`);
        errors.push(...[].concat(h._source?.outliers?.error ?? []));
      }
      res = await client.scroll({ scroll_id: res._scroll_id, scroll: "2m" } as any);
    }
    return { pairs, errors, skipped: built.skipped, ruleIds: built.ruleIds };
  } finally {
    await dropIndices(index);
    await client.ingest.deletePipeline({ id: pipe }).catch(() => {});
  }
}

describe("Sigma corpus → ee-outliers file → rules", () => {
  test.skipIf(!SHARED)(
    `loads back with no error and tags the same pairs (regression events + ${SIZE} generated)`,
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "outliers-ee-corpus-"));
      try {
        const rulesDirs = readdirSync(SHARED!)
          .filter((d) => d.startsWith("rules"))
          .sort()
          .map((d) => path.join(SHARED!, d));
        const out = path.join(dir, "corpus.conf");
        const run = spawnSync(BUN, ["src/cli.ts", "compile", ...rulesDirs, "--target", "ee-outliers", "--out", out], {
          cwd: ROOT,
          encoding: "utf8",
        });
        expect([0, 1]).toContain(run.status ?? -1); // 1: some Sigma rules are unsupported, the rest written
        const text = readFileSync(out, "utf8");

        const results = compileEeOutliersFiles([out], { profile });
        const errors = results.filter((r) => r.status !== "ok");
        expect(errors.slice(0, 5)).toEqual([]);
        const ids = sectionIds(text);
        const sigma = windowsRules();
        const sigmaIds = new Set(sigma.map((r) => r.id));
        const conf = results.flatMap((r) =>
          r.status === "ok" && sigmaIds.has(ids.get(r.rule.id) ?? "") ? [r.rule] : [],
        );
        const written = new Set(conf.map((r) => ids.get(r.id)!));
        // every Windows rule the DSL could express was written and read back
        const yaml = sigma.filter((r) => written.has(r.id));
        expect(conf.length).toBe(yaml.length);
        expect(conf.filter((r) => r.liveUnsupported).map((r) => `${r.id}: ${r.liveUnsupported}`)).toEqual([]);
        console.log(
          `ee-outliers round trip: ${results.length} use cases read, ${conf.length} Windows rules compared (${sigma.length - yaml.length} Windows rules not written)`,
        );

        const docs = [
          ...regressionEvents().map((e) => ({ id: `reg:${e.id}`, source: e.doc })),
          ...generateEvents(sigma, SIZE, 11),
        ];
        const fromYaml = await livePairs(yaml, docs, "ee-corpus-yml", (id) => id);
        const fromConf = await livePairs(conf, docs, "ee-corpus-conf", (id) => ids.get(id) ?? `?${id}`);
        expect(fromConf.skipped).toEqual([]);
        expect(fromYaml.errors.slice(0, 5)).toEqual([]);
        expect(fromConf.errors.slice(0, 5)).toEqual([]);
        const onlyYaml = [...fromYaml.pairs].filter((p) => !fromConf.pairs.has(p));
        const onlyConf = [...fromConf.pairs].filter((p) => !fromYaml.pairs.has(p));
        console.log(
          `pairs: yaml ${fromYaml.pairs.size}, conf ${fromConf.pairs.size}; only yaml ${onlyYaml.length}, only conf ${onlyConf.length}`,
        );
        expect(onlyYaml.slice(0, 10)).toEqual([]);
        expect(onlyConf.slice(0, 10)).toEqual([]);
        expect(fromYaml.pairs.size).toBeGreaterThan(docs.length / 10);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    1_200_000,
  );
});
