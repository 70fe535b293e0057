/**
 * Recall on real events: a pipeline of every Windows rule under ../shared/sigma/rules*, installed as
 * the default pipeline of an index made with the winlogbeat template; every regression capture must
 * come out with an event carrying the rule id its info.yml names. A miss names the file, the rule
 * and why.
 */
import { describe, expect, test } from "bun:test";
import { buildPipeline } from "../../src/emit/painless/pipeline.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { cluster, dropIndices, testIndex } from "../helpers/es.ts";
import { regressionEvents, SHARED, SKIP_MESSAGE, windowsRules } from "../helpers/windows-rules.ts";

if (!SHARED) console.warn(SKIP_MESSAGE);

describe("live tagging recall on the regression events", () => {
  test.skipIf(!SHARED)(
    "every regression capture has an event tagged with the rule its info.yml names",
    async () => {
      const { client } = await cluster();
      const rules = windowsRules();
      const events = regressionEvents();
      const built = buildPipeline(rules);
      const skipped = new Map(built.skipped.map((s) => [s.id, s.reason]));
      const known = new Set(rules.map((r) => r.id));
      const pipeline = testIndex("recall-pipe");
      const index = testIndex("recall");
      const template = loadProfile("winlogbeat").indexTemplate();
      try {
        await client.ingest.putPipeline({
          id: pipeline,
          processors: built.processors,
          on_failure: built.on_failure,
        } as any);
        await client.indices.create({
          index,
          settings: { ...template.settings, "index.default_pipeline": pipeline },
          mappings: template.mappings,
        } as any);
        const body: object[] = [];
        for (const e of events) body.push({ index: { _index: index, _id: e.id } }, e.doc);
        const res: any = await client.bulk({ body, refresh: true } as any);
        const refused = res.items
          .filter((i: any) => i.index?.error)
          .map((i: any) => `${i.index._id}: ${i.index.error.reason}`);
        expect(refused).toEqual([]);
        const got: any = await client.search({
          index,
          size: 10000,
          _source: ["outliers.rule_id", "outliers.error"],
        } as any);
        const tags = new Map<string, { ids: string[]; errors: string[] }>();
        for (const h of got.hits.hits)
          tags.set(h._id, {
            ids: [].concat(h._source?.outliers?.rule_id ?? []),
            errors: [].concat(h._source?.outliers?.error ?? []),
          });
        // A regression file is an evtx capture: the detection plus the events around it (the shell
        // that started the tool, ...). The rule must fire on at least one event of each file; an
        // event of the file that the rule does not match is context, not a miss.
        const byFile = new Map<string, typeof events>();
        for (const e of events) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
        const misses: string[] = [];
        let tagged = 0;
        for (const [file, evs] of byFile) {
          const ruleId = evs[0]!.ruleId;
          const hit = evs.filter((e) => tags.get(e.id)?.ids.includes(ruleId));
          tagged += hit.length;
          if (hit.length > 0) continue;
          const errors = evs.flatMap((e) => tags.get(e.id)?.errors ?? []);
          const why = !known.has(ruleId)
            ? "the rule did not compile for Windows (or is not under rules*)"
            : skipped.has(ruleId)
              ? `the rule is not live: ${skipped.get(ruleId)}`
              : errors.length
                ? `tagging error: ${errors.join("; ")}`
                : "the rule's condition is false on every event of the file";
          misses.push(`${file} (${evs.length} event(s)): rule ${ruleId}: ${why}`);
        }
        console.log(
          `recall: ${byFile.size} regression files (${events.length} events, ${tagged} tagged with the file's rule): ${byFile.size - misses.length} detected, ${misses.length} missed; pipeline of ${built.ruleIds.length} rules (${built.skipped.length} not live)`,
        );
        expect(misses).toEqual([]);
      } finally {
        await dropIndices(index);
        await client.ingest.deletePipeline({ id: pipeline }).catch(() => {});
      }
    },
    300_000,
  );
});
