/** The pure parts of `pipeline install`: pattern coverage, tag mappings, settings access, pipeline metadata. */
import { describe, expect, test } from "bun:test";
import { checkPatterns, globCovers, globMatch, globOverlaps } from "../../src/cluster/connection/patterns.ts";
import { mergeProperties, missingTagMappings } from "../../src/cluster/live/tag-mappings.ts";
import { getIndexSetting, withIndexSetting } from "../../src/cluster/connection/settings-access.ts";
import {
  bodyHash,
  chainDocument,
  pipelineDocument,
  readPipelineMeta,
  type PipelineMeta,
} from "../../src/cluster/live/pipeline-body.ts";
import { impliedBefore, isOurs } from "../../src/cluster/live/install.ts";
import type { ClusterInfo } from "../../src/cluster/connection/client.ts";

describe("patterns", () => {
  test("match", () => {
    expect(globMatch("winlogbeat-*", "winlogbeat-7.10.2-2024.01.01")).toBe(true);
    expect(globMatch("winlogbeat-*", "filebeat-1")).toBe(false);
    expect(globMatch("logs-*-default", "logs-windows.sysmon-default")).toBe(true);
    expect(globMatch("a*b*c", "abbbc")).toBe(true);
    expect(globMatch("a*b*c", "acb")).toBe(false);
  });
  test("covers: every name the inner pattern can match is matched by the outer", () => {
    expect(globCovers("winlogbeat-*", "winlogbeat-7.10.2-*")).toBe(true);
    expect(globCovers("winlogbeat-*", "winlogbeat-*")).toBe(true);
    expect(globCovers("winlogbeat-7*", "winlogbeat-*")).toBe(false);
    expect(globCovers("winlogbeat-*", "*")).toBe(false);
    expect(globCovers("logs-*", "logs-windows*-default")).toBe(true);
    expect(globCovers("logs-*-default", "logs-*")).toBe(false);
    expect(globCovers("logs-*-default", "logs-*-default")).toBe(true);
    expect(globCovers("x-a", "x-*")).toBe(false);
  });
  test("overlaps", () => {
    expect(globOverlaps("winlogbeat-*", "*")).toBe(true);
    expect(globOverlaps("winlogbeat-*", "winlog*")).toBe(true);
    expect(globOverlaps("winlogbeat-*", "filebeat-*")).toBe(false);
    expect(globOverlaps("a-*-z", "*-b-*")).toBe(true);
    expect(globOverlaps("a-1", "a-2")).toBe(false);
  });
  test("checkPatterns refuses every-index patterns and splits commas", () => {
    expect(checkPatterns(["a-*,b-*", "a-*"])).toEqual(["a-*", "b-*"]);
    for (const bad of ["*", "_all", "**", "a-*,*"])
      expect(() => checkPatterns([bad])).toThrow(/refusing to touch every index/);
    expect(() => checkPatterns(["-a"])).toThrow(/exclusions/);
    expect(() => checkPatterns([])).toThrow(/no index patterns/);
  });
});

describe("tag mappings", () => {
  test("an empty mapping gets every tag field", () => {
    const add = missingTagMappings(undefined);
    expect(add.fields).toContain("outliers.rule_id");
    expect(add.properties.outliers.properties.total_outliers).toEqual({ type: "integer" });
    expect(add.properties.threat.properties.technique.properties.id).toEqual({ type: "keyword" });
    expect(add.properties.outliers.properties.added).toEqual({ type: "object", enabled: false });
  });
  test("only missing fields are added; existing ones (nested or literal dotted) are left alone", () => {
    const props = {
      outliers: { properties: { rule_id: { type: "text" }, total_outliers: { type: "long" } } },
      "threat.technique.id": { type: "keyword" },
      tags: { type: "keyword" },
    };
    const add = missingTagMappings(props);
    expect(add.fields).not.toContain("outliers.rule_id");
    expect(add.fields).not.toContain("outliers.total_outliers");
    expect(add.fields).not.toContain("threat.technique.id");
    expect(add.fields).not.toContain("tags");
    expect(add.fields).toContain("outliers.type");
    expect(add.properties.outliers.properties.rule_id).toBeUndefined();
  });
  test("a parent mapped as a leaf blocks its children (reported, never changed)", () => {
    const add = missingTagMappings({ threat: { type: "keyword" } });
    expect(add.blocked).toEqual(["threat.technique.id"]);
    expect(add.properties.threat).toBeUndefined();
  });
  test("extra keys of use cases are mapped as keyword", () => {
    const add = missingTagMappings({}, ["custom_note", "bad.key"]);
    expect(add.fields).toContain("outliers.custom_note");
    expect(add.fields).not.toContain("outliers.bad.key");
  });
  test("mergeProperties is additive", () => {
    const merged = mergeProperties(
      { dynamic: "strict", properties: { outliers: { properties: { x: { type: "long" } } } } },
      missingTagMappings({}).properties,
    );
    expect(merged.dynamic).toBe("strict");
    expect(merged.properties.outliers.properties.x).toEqual({ type: "long" });
    expect(merged.properties.outliers.properties.type).toEqual({ type: "keyword" });
  });
});

describe("settings access", () => {
  test("nested and flat forms", () => {
    expect(getIndexSetting({ index: { final_pipeline: "a" } }, "final_pipeline")).toEqual({
      present: true,
      value: "a",
    });
    expect(getIndexSetting({ "index.final_pipeline": "b" }, "final_pipeline")).toEqual({ present: true, value: "b" });
    expect(getIndexSetting({ index: { number_of_shards: "1" } }, "final_pipeline")).toEqual({ present: false });
    expect(
      withIndexSetting({ "index.final_pipeline": "b", index: { number_of_shards: "1" } }, "final_pipeline", "c"),
    ).toEqual({ index: { number_of_shards: "1", final_pipeline: "c" } });
    expect(withIndexSetting({ index: { final_pipeline: "c" } }, "final_pipeline", undefined)).toEqual({});
  });
});

describe("pipeline metadata", () => {
  const info = (major: number): ClusterInfo => ({
    url: "u",
    version: `${major}.0.0`,
    major,
    minor: 0,
    distribution: "elasticsearch",
    clusterName: "c",
  });
  const compiled = {
    processors: [{ set: { field: "x", value: 1 } }],
    on_failure: [{ set: { field: "e", value: 1 } }],
    ruleIds: ["r1"],
    hash: "h",
  };
  const meta: PipelineMeta = {
    tool: "outliers",
    tool_version: "0.1.0",
    rule_count: 1,
    rule_ids: ["r1"],
    hash: "h",
    body_hash: bodyHash(compiled),
    installed_at: "t0",
    updated_at: "t1",
    state: ".outliers-state/x",
  };
  test("7.x keeps metadata as JSON in description, 8.x in _meta; both read back", () => {
    const d7 = pipelineDocument(info(7), compiled, meta, 3);
    expect(d7._meta).toBeUndefined();
    expect(d7.version).toBe(3);
    expect(readPipelineMeta(d7)).toEqual(meta);
    const d8 = pipelineDocument(info(8), compiled, meta, 3);
    expect(d8._meta).toEqual({ outliers: meta });
    expect(readPipelineMeta(d8)).toEqual(meta);
    expect(readPipelineMeta({ description: "someone else's", processors: [] })).toBeUndefined();
  });
  test("body hash ignores key order but not content", () => {
    expect(bodyHash({ processors: [{ set: { value: 1, field: "x" } }] })).toBe(
      bodyHash({ processors: [{ set: { field: "x", value: 1 } }] }),
    );
    expect(bodyHash({ processors: [{ set: { field: "x", value: 2 } }] })).not.toBe(
      bodyHash({ processors: [{ set: { field: "x", value: 1 } }] }),
    );
  });
  test("the chain runs the previous final pipeline first, then ours, ignoring our failures", () => {
    expect(chainDocument(info(7), "outliers", ".fleet_final_pipeline-1").processors).toEqual([
      { pipeline: { name: ".fleet_final_pipeline-1" } },
      { pipeline: { name: "outliers", ignore_failure: true } },
    ]);
  });
  test("what a template-created index had before us", () => {
    expect(isOurs("o", "o")).toBe(true);
    expect(isOurs("o", "o-chain-x")).toBe(true);
    expect(isOurs("o", "other")).toBe(false);
    expect(impliedBefore("o", "o", {})).toEqual({ present: false });
    expect(impliedBefore("o", "o-chain-fleet", { "o-chain-fleet": "fleet" })).toEqual({
      present: true,
      value: "fleet",
    });
  });
});

describe("applyPlan guard", () => {
  test("a plan made for a cluster without ingest nodes is refused before any request", async () => {
    const { applyPlan } = await import("../../src/cluster/live/install.ts");
    const calls: string[] = [];
    const cluster = {
      url: "http://x",
      client: { transport: { request: async (p: { path: string }) => void calls.push(p.path) } },
    } as any;
    const plan = {
      name: "o",
      version: 1,
      ruleCount: 1,
      hash: "h",
      actions: [{ kind: "state", op: "write" }],
      warnings: [],
      state: {},
      pendingState: {},
      noIngestNode: true,
    } as any;
    await expect(applyPlan(cluster, plan)).rejects.toThrow(/no node with the ingest role/);
    expect(calls).toEqual([]);
  });
});
