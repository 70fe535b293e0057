/**
 * Which engine answers, and what it can do: Elasticsearch 7.10-9.x or OpenSearch 1.x-3.x. Everything
 * here follows from `GET /` (version, distribution, build flavor), read once by `probe` in client.ts, so
 * no command pays an extra request for it; `doctor` also checks data streams live.
 *
 * What differs, and who uses it:
 * - product header and media types: the @elastic/elasticsearch 8.x client refuses a server without
 *   `X-Elastic-Product: Elasticsearch` (OpenSearch, Elasticsearch before 7.14) and sends
 *   `application/vnd.elasticsearch+json; compatible-with=8`, which OpenSearch and Elasticsearch 7 reject;
 *   client.ts then talks plain JSON without the check (`clientMode`).
 * - pipeline `_meta`: Elasticsearch 8+ only (7.10.2 and OpenSearch 2.19 answer "doesn't support one or
 *   more provided configuration parameters [_meta]"); elsewhere our metadata is JSON in the pipeline's
 *   description (pipeline-body.ts).
 * - data streams: OpenSearch 1.0+ (core), Elasticsearch 7.9+ in its default distribution (not the OSS
 *   build that tests run on, 7.10.2).
 * - match_only_text: Elasticsearch 7.14+, OpenSearch 2.12+.
 * - privileges: Elasticsearch has `_security/user/_has_privileges`; OpenSearch's security plugin has
 *   `_plugins/_security/api/account` (who am I, which roles) and no privilege check.
 */
import type { ClusterInfo } from "./client.ts";

export interface Engine {
  /** "Elasticsearch 8.15.0", "OpenSearch 2.19.1". */
  label: string;
  product: "elasticsearch" | "opensearch";
  major: number;
  minor: number;
  /** The server sends the product header and takes the 8.x client's compatible-with media types. */
  productHeader: boolean;
  pipelineMeta: boolean;
  /** `undefined`: cannot tell from the version (OpenSearch masking its version as 7.10.2). */
  dataStreams: boolean | undefined;
  matchOnlyText: boolean | undefined;
  /** Versions run by CI (scripts/test): Elasticsearch 7.10, OpenSearch 2.19; OpenSearch 3.x by `scripts/test --engine opensearch3`. */
  tested: boolean;
  /** Set when the version in GET / is not the engine's own (OpenSearch's compatibility.override_main_response_version). */
  note?: string;
}

const at = (major: number, minor: number, m: number, n: number) => major > m || (major === m && minor >= n);

export function engineOf(
  info: Pick<ClusterInfo, "distribution" | "major" | "minor" | "version"> & { flavor?: string },
): Engine {
  const { major, minor } = info;
  if (info.distribution === "opensearch") {
    // OpenSearch with compatibility.override_main_response_version answers 7.10.2 in GET /.
    const masked = major === 7;
    return {
      label: `OpenSearch ${info.version}`,
      product: "opensearch",
      major,
      minor,
      productHeader: false,
      pipelineMeta: false,
      dataStreams: masked ? undefined : true,
      matchOnlyText: masked ? undefined : at(major, minor, 2, 12),
      tested: (major === 2 && minor === 19) || major === 3,
      ...(masked
        ? {
            note: "OpenSearch answers GET / with version 7.10.2 (compatibility.override_main_response_version): its real version is unknown",
          }
        : {}),
    };
  }
  return {
    label: `Elasticsearch ${info.version}`,
    product: "elasticsearch",
    major,
    minor,
    productHeader: at(major, minor, 7, 14),
    pipelineMeta: major >= 8,
    // 7.9 and 7.10 have data streams in the default distribution only; 7.11+ has no OSS build.
    dataStreams: at(major, minor, 7, 11) || (at(major, minor, 7, 9) && info.flavor === "default"),
    matchOnlyText: at(major, minor, 7, 14),
    tested: major === 7 && minor === 10,
  };
}

const yesNo = (v: boolean | undefined) => (v === undefined ? "unknown" : v ? "yes" : "no");

/** The differences that matter to outliers, in words, for `doctor`. */
export function engineDifferences(e: Engine, dataStreamsLive?: boolean): string[] {
  const ds = dataStreamsLive ?? e.dataStreams;
  return [
    `client: ${e.productHeader ? "product check and compatible-with=8 media types" : "plain JSON, no product check (no X-Elastic-Product header)"}`,
    `pipeline _meta: ${e.pipelineMeta ? "yes" : "no (metadata kept as JSON in the pipeline description)"}`,
    `data streams: ${yesNo(ds)}${ds === false ? " (install, ingest and backfill work on plain indices only)" : ""}`,
    `match_only_text: ${yesNo(e.matchOnlyText)}`,
    `privileges API: ${e.product === "opensearch" ? "security plugin account (no privilege check)" : "_security/user/_has_privileges"}`,
  ];
}
