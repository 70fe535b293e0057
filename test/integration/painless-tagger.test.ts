/**
 * The tagger and the safety net on the real node: the contract's tag layout, placeholders, ATT&CK
 * ids, never the same rule twice whatever the order of live tagging and backfill, `ctx.op = noop`
 * when nothing is new, and no event lost when a rule or the whole script fails.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Node, Rule } from "../../src/ir/types.ts";
import { buildPipeline, updateScript } from "../../src/emit/painless/pipeline.ts";
import { untagScript } from "../../src/emit/painless/untag.ts";
import { cluster, dropIndices, testIndex } from "../helpers/es.ts";
import { kw, long, rule } from "../helpers/rules.ts";

const IMG = kw("winlog.event_data.Image");
const mshta: Node = { kind: "suffix", field: IMG, value: "\\mshta.exe", cased: false };
const eid1: Node = { kind: "number", field: long("winlog.event_id"), op: "eq", value: 1 };

const r1: Rule = rule(
  "r-mshta",
  { kind: "and", children: [eid1, mshta] },
  {
    title: "MSHTA",
    tags: ["attack.defense_evasion", "attack.t1140", "attack.t1059.001"],
    tagsOut: {
      type: ["Sigma hit", "attack.defense_evasion", "attack.t1140"],
      reason: "Sigma hit - MSHTA",
      summary: "Sigma hit - MSHTA {winlog.event_data.Image} by {winlog.event_data.User} {no.such.field}",
      modelName: "MSHTA",
      modelType: "sigma",
      techniques: ["T1140"],
      extra: { severity: "high" },
    },
  },
);
const r2: Rule = rule("r-eid1", eid1, { tags: ["attack.t1140"] });
const r3: Rule = rule(
  "r-late",
  { kind: "contains", field: IMG, value: "windows", cased: false },
  { tags: ["attack.t1218"] },
);

const doc = {
  tags: ["beats"],
  winlog: { event_id: 1, event_data: { Image: "C:\\Windows\\MSHTA.exe", User: ["CORP\\bob", "x"] } },
};

const pipelines: string[] = [];
const indices: string[] = [];
setDefaultTimeout(60_000);
afterAll(async () => {
  const { client } = await cluster();
  await dropIndices(...indices);
  for (const p of pipelines) await client.ingest.deletePipeline({ id: p }).catch(() => {});
});

async function simulate(processors: object[], docs: object[]): Promise<any[]> {
  const { client } = await cluster();
  const res: any = await client.ingest.simulate({
    pipeline: { processors },
    docs: docs.map((d) => ({ _source: d })),
  } as any);
  return res.docs.map((d: any) => d.doc?._source ?? d);
}

describe("tagger", () => {
  test("writes the contract's layout: one entry per rule (each of a rule's types), in rule order, placeholders, ATT&CK ids", async () => {
    const [out] = await simulate(buildPipeline([r1, r2]).processors, [doc]);
    expect(out.tags).toEqual(["beats", "outlier"]);
    expect(out.outliers.rule_id).toEqual(["r-mshta", "r-eid1"]);
    // As ee-outliers writes outlier_type: split on commas, appended rule after rule.
    expect(out.outliers.type).toEqual(["Sigma hit", "attack.defense_evasion", "attack.t1140", "Sigma hit"]);
    expect(out.outliers.reason).toEqual(["Sigma hit - MSHTA", "Sigma hit - Rule r-eid1"]);
    expect(out.outliers.summary).toEqual([
      "Sigma hit - MSHTA C:\\Windows\\MSHTA.exe by CORP\\bob, x {no.such.field}",
      "Sigma hit - Rule r-eid1",
    ]);
    expect(out.outliers.model_name).toEqual(["MSHTA", "Rule r-eid1"]);
    expect(out.outliers.model_type).toEqual(["sigma", "sigma"]);
    expect(out.outliers.severity).toEqual(["high", ""]);
    expect(out.outliers.total_outliers).toBe(2);
    expect(out.threat.technique.id).toEqual(["T1140", "T1059.001"]);
    expect(out.outliers.level).toEqual(["informational", "informational"]);
    expect(out.outliers.max_level).toBe("informational");
    expect(out.outliers.max_severity).toBe(1);
    expect(out.outliers.added).toEqual({
      outliers_created: true,
      outlier_tag: true,
      threat_created: ["threat", "threat.technique"],
      techniques: [
        ["T1140", "r-mshta", "r-eid1"],
        ["T1059.001", "r-mshta"],
      ],
      // One span per run of entries this tool appended: untag removes exactly these positions.
      entries: [
        { r: "r-mshta", k: "rule_id", p: 0, n: 1 },
        { r: "r-mshta", k: "type", p: 0, n: 3 },
        { r: "r-mshta", k: "reason", p: 0, n: 1 },
        { r: "r-mshta", k: "summary", p: 0, n: 1 },
        { r: "r-mshta", k: "model_name", p: 0, n: 1 },
        { r: "r-mshta", k: "model_type", p: 0, n: 1 },
        { r: "r-mshta", k: "level", p: 0, n: 1 },
        { r: "r-mshta", k: "severity", p: 0, n: 1 },
        { r: "r-eid1", k: "rule_id", p: 1, n: 1 },
        { r: "r-eid1", k: "type", p: 3, n: 1 },
        { r: "r-eid1", k: "reason", p: 1, n: 1 },
        { r: "r-eid1", k: "summary", p: 1, n: 1 },
        { r: "r-eid1", k: "model_name", p: 1, n: 1 },
        { r: "r-eid1", k: "model_type", p: 1, n: 1 },
        { r: "r-eid1", k: "level", p: 1, n: 1 },
        { r: "r-eid1", k: "severity", p: 1, n: 1 },
      ],
      total: { base: 0 },
    });
  });

  test("an event that already carries a rule does not get it again (pipeline after backfill)", async () => {
    const [once] = await simulate(buildPipeline([r1]).processors, [doc]);
    const [twice] = await simulate(buildPipeline([r1, r2]).processors, [once]);
    expect(twice.outliers.rule_id).toEqual(["r-mshta", "r-eid1"]);
    expect(twice.outliers.type).toEqual(["Sigma hit", "attack.defense_evasion", "attack.t1140", "Sigma hit"]);
    expect(twice.outliers.added.entries).toContainEqual({ r: "r-eid1", k: "type", p: 3, n: 1 });
    expect(twice.outliers.total_outliers).toBe(2);
    expect(twice.tags).toEqual(["beats", "outlier"]);
    expect(twice.threat.technique.id).toEqual(["T1140", "T1059.001"]);
  });

  test("update script: tags once, new rules append, nothing new → noop (backfill after live)", async () => {
    const { client } = await cluster();
    const pipeline = testIndex("tag-pipe");
    const index = testIndex("tag-upd");
    pipelines.push(pipeline);
    indices.push(index);
    await client.ingest.putPipeline({ id: pipeline, processors: buildPipeline([r1]).processors } as any);
    await client.indices.create({
      index,
      settings: { "index.default_pipeline": pipeline, number_of_replicas: 0 },
    } as any);
    await client.index({ index, id: "live", document: doc, refresh: true } as any);
    await client.index({ index, id: "other", document: { winlog: { event_id: 2 } }, refresh: true } as any);
    const ubq = async (rules: Rule[]) =>
      (await client.updateByQuery({
        index,
        refresh: true,
        conflicts: "proceed",
        script: updateScript(rules),
      } as any)) as any;
    let res = await ubq([r1]);
    expect([res.updated, res.noops]).toEqual([0, 2]);
    res = await ubq([r1, r2, r3]);
    expect([res.updated, res.noops]).toEqual([1, 1]);
    res = await ubq([r1, r2, r3]);
    expect([res.updated, res.noops]).toEqual([0, 2]);
    const got: any = await client.get({ index, id: "live" });
    expect(got._source.outliers.rule_id).toEqual(["r-mshta", "r-eid1", "r-late"]);
    expect(got._source.outliers.total_outliers).toBe(3);
    expect(got._source.threat.technique.id).toEqual(["T1140", "T1059.001", "T1218"]);
    const other: any = await client.get({ index, id: "other" });
    expect(other._source).toEqual({ winlog: { event_id: 2 } });
  });
});

describe("events another writer tagged before", () => {
  // An older tool wrote scalars where the contract has lists (`outliers.rule_id: "…"`).
  const older = { ...doc, outliers: { rule_id: "old-tool-rule", type: "old type", total_outliers: 1 } };

  test("a scalar outliers.rule_id / type: read as one-element lists, every list stays aligned with rule_id, live = backfill, untag removes exactly ours", async () => {
    const { client } = await cluster();
    const pipeline = testIndex("tag-older");
    const live = testIndex("tag-older-live");
    const back = testIndex("tag-older-back");
    pipelines.push(pipeline);
    indices.push(live, back);
    await client.ingest.putPipeline({ id: pipeline, processors: buildPipeline([r1]).processors } as any);
    await client.indices.create({
      index: live,
      settings: { "index.default_pipeline": pipeline, number_of_replicas: 0 },
    } as any);
    await client.indices.create({ index: back, settings: { number_of_replicas: 0 } } as any);
    await client.index({ index: live, id: "e", document: older, refresh: true } as any);
    await client.index({ index: back, id: "e", document: older, refresh: true } as any);
    const ubq = async (index: string, script: object) =>
      (await client.updateByQuery({ index, refresh: true, conflicts: "proceed", script } as any)) as any;
    expect((await ubq(back, updateScript([r1]))).updated).toBe(1);

    const a: any = (await client.get({ index: live, id: "e" }))._source;
    const b: any = (await client.get({ index: back, id: "e" }))._source;
    expect(b).toEqual(a);
    expect(a.outliers.error).toBeUndefined();
    expect(a.outliers.rule_id).toEqual(["old-tool-rule", "r-mshta"]);
    expect(a.outliers.total_outliers).toBe(2);
    expect(a.outliers.reason).toEqual(["", "Sigma hit - MSHTA"]);
    expect(a.outliers.model_name).toEqual(["", "MSHTA"]);
    expect(a.outliers.model_type).toEqual(["", "sigma"]);
    expect(a.outliers.summary).toHaveLength(2);
    expect(a.outliers.severity).toEqual(["", "high"]);
    expect(a.outliers.type).toEqual(["old type", "Sigma hit", "attack.defense_evasion", "attack.t1140"]);
    expect(a.outliers.added.scalars).toEqual([
      { p: "outliers.rule_id", s: "old-tool-rule" },
      { p: "outliers.type", s: "old type" },
    ]);
    expect(a.outliers.added.total).toEqual({ base: 1, n: 1 });
    expect(a.tags).toEqual(["beats", "outlier"]);

    // A second rule appends; untag of the first takes exactly its entries, in every list.
    expect((await ubq(back, updateScript([r1, r2]))).updated).toBe(1);
    expect((await ubq(back, untagScript(["r-mshta"]))).updated).toBe(1);
    const c: any = (await client.get({ index: back, id: "e" }))._source;
    expect(c.outliers.rule_id).toEqual(["old-tool-rule", "r-eid1"]);
    expect(c.outliers.total_outliers).toBe(2);
    expect(c.outliers.reason).toEqual(["", "Sigma hit - Rule r-eid1"]);
    expect(c.outliers.model_name).toEqual(["", "Rule r-eid1"]);
    expect(c.outliers.severity).toEqual(["", ""]);
    expect(c.outliers.type).toEqual(["old type", "Sigma hit"]);
    expect(c.threat.technique.id).toEqual(["T1140"]);
  });
});

describe("never lose an event", () => {
  test("a rule that throws on an event: the event is indexed, the error recorded, other rules still tag", async () => {
    const { client } = await cluster();
    const built = buildPipeline([r1, r2]);
    // Fault injection: r-mshta's compiled condition gets an op code the matcher does not know.
    const params = (built.processors.find((p: any) => p.script?.tag === "outliers-tagger") as any).script.params;
    params.r[0][0] = [99, 0];
    const pipeline = testIndex("tag-fault");
    const index = testIndex("tag-fault");
    pipelines.push(pipeline);
    indices.push(index);
    await client.ingest.putPipeline({
      id: pipeline,
      processors: built.processors,
      on_failure: built.on_failure,
    } as any);
    await client.indices.create({
      index,
      settings: { "index.default_pipeline": pipeline, number_of_replicas: 0 },
    } as any);
    const res: any = await client.index({ index, id: "e1", document: doc, refresh: true } as any);
    expect(res.result).toBe("created");
    const got: any = await client.get({ index, id: "e1" });
    expect(got._source.outliers.rule_id).toEqual(["r-eid1"]);
    expect(got._source.outliers.error.length).toBe(1);
    expect(got._source.outliers.error[0]).toStartWith("r-mshta: ");
    expect(got._source.outliers.error[0]).toContain("unknown predicate op 99");
  });

  test("an event with a number tags (issue 17 item 4) is tagged: the number becomes its text in a list, no error", async () => {
    const { client } = await cluster();
    const pipeline = testIndex("tag-type");
    const index = testIndex("tag-type");
    pipelines.push(pipeline);
    indices.push(index);
    const built = buildPipeline([r2]);
    await client.ingest.putPipeline({
      id: pipeline,
      processors: built.processors,
      on_failure: built.on_failure,
    } as any);
    await client.indices.create({
      index,
      settings: { "index.default_pipeline": pipeline, number_of_replicas: 0 },
    } as any);
    // (An object `tags` is set aside before the tagger runs: see ingest-keeps.test.ts.)
    await client.index({ index, id: "e2", document: { tags: 5, winlog: { event_id: 1 } }, refresh: true } as any);
    const got: any = await client.get({ index, id: "e2" });
    expect(got._source.tags).toEqual(["5", "outlier"]);
    expect(got._source.outliers.rule_id).toEqual(["r-eid1"]);
    expect(got._source.outliers.error).toBeUndefined();
    expect(got._source.outliers.added.scalars).toEqual([{ p: "tags", n: 5 }]);
  });

  test("a crash of the whole script: the processor's on_failure records it and the event is indexed", async () => {
    const { client } = await cluster();
    const built = buildPipeline([r1, r2]);
    (built.processors.find((p: any) => p.script?.tag === "outliers-tagger") as any).script.params.dk = "not a list";
    const pipeline = testIndex("tag-crash");
    const index = testIndex("tag-crash");
    pipelines.push(pipeline);
    indices.push(index);
    await client.ingest.putPipeline({
      id: pipeline,
      processors: built.processors,
      on_failure: built.on_failure,
    } as any);
    await client.indices.create({
      index,
      settings: { "index.default_pipeline": pipeline, number_of_replicas: 0 },
    } as any);
    const res: any = await client.index({ index, id: "e3", document: doc, refresh: true } as any);
    expect(res.result).toBe("created");
    const got: any = await client.get({ index, id: "e3" });
    expect(got._source.winlog).toEqual(doc.winlog);
    expect(got._source.outliers.error).toEqual([expect.stringMatching(/^pipeline: script: /)]);
  });
});
