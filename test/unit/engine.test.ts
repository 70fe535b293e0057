/** engine.ts: what each engine can do, from its GET / answer. */
import { describe, expect, test } from "bun:test";
import type { Cluster } from "../../src/cluster/connection/client.ts";
import { versionCheck } from "../../src/cluster/connection/doctor.ts";
import { engineDifferences, engineOf } from "../../src/cluster/connection/engine.ts";

const es = (version: string, flavor?: string) => {
  const [major, minor] = version.split(".").map(Number);
  return engineOf({
    distribution: "elasticsearch",
    version,
    major: major!,
    minor: minor!,
    ...(flavor ? { flavor } : {}),
  });
};
const os = (version: string) => {
  const [major, minor] = version.split(".").map(Number);
  return engineOf({ distribution: "opensearch", version, major: major!, minor: minor! });
};

describe("engineOf", () => {
  test("Elasticsearch: product header from 7.14, _meta from 8, data streams 7.9+ default or 7.11+", () => {
    expect(es("7.10.2")).toMatchObject({
      label: "Elasticsearch 7.10.2",
      productHeader: false,
      pipelineMeta: false,
      dataStreams: false,
      matchOnlyText: false,
      tested: true,
    });
    expect(es("7.10.2", "default").dataStreams).toBe(true);
    expect(es("7.10.2", "oss").dataStreams).toBe(false);
    expect(es("7.17.9")).toMatchObject({
      productHeader: true,
      pipelineMeta: false,
      dataStreams: true,
      matchOnlyText: true,
      tested: false,
    });
    expect(es("8.15.0")).toMatchObject({ productHeader: true, pipelineMeta: true, dataStreams: true, tested: false });
    expect(es("9.1.0")).toMatchObject({ productHeader: true, pipelineMeta: true });
  });

  test("OpenSearch: never the product header or pipeline _meta; data streams always; match_only_text from 2.12", () => {
    expect(os("1.3.19")).toMatchObject({
      label: "OpenSearch 1.3.19",
      productHeader: false,
      pipelineMeta: false,
      dataStreams: true,
      matchOnlyText: false,
      tested: false,
    });
    expect(os("2.11.0").matchOnlyText).toBe(false);
    expect(os("2.19.1")).toMatchObject({ matchOnlyText: true, tested: true });
    expect(os("3.3.0")).toMatchObject({ matchOnlyText: true, tested: true, productHeader: false });
  });

  test("OpenSearch masking its version as 7.10.2: features unknown, and said so", () => {
    const e = os("7.10.2");
    expect(e.dataStreams).toBeUndefined();
    expect(e.note).toContain("compatibility.override_main_response_version");
    expect(engineDifferences(e)).toContain("data streams: unknown");
  });

  test("differences name the live data stream answer over the version's guess", () => {
    expect(engineDifferences(es("8.15.0"), false)).toContain(
      "data streams: no (install, ingest and backfill work on plain indices only)",
    );
    expect(engineDifferences(os("2.19.1"))[1]).toBe(
      "pipeline _meta: no (metadata kept as JSON in the pipeline description)",
    );
  });
});

describe("doctor's version line", () => {
  const cluster = (distribution: "elasticsearch" | "opensearch", version: string) => {
    const [major, minor] = version.split(".").map(Number);
    return {
      info: { url: "u", version, major: major!, minor: minor!, distribution, clusterName: "c" },
    } as unknown as Cluster;
  };
  test("names the engine and version, says when CI does not run it, and warns on a masked version", () => {
    expect(versionCheck(cluster("opensearch", "2.19.1"))).toEqual({
      name: "version",
      status: "ok",
      detail: 'OpenSearch 2.19.1 (cluster "c")',
    });
    expect(versionCheck(cluster("elasticsearch", "8.15.0")).detail).toBe(
      'Elasticsearch 8.15.0 (cluster "c"), supported, not run in outliers\' CI',
    );
    const masked = versionCheck(cluster("opensearch", "7.10.2"));
    expect(masked.status).toBe("warn");
    expect(masked.fix).toContain("compatibility.override_main_response_version");
  });
});
