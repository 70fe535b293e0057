/**
 * The tagging pipeline as installed: the compiled processors plus a `version` and our metadata (tool
 * version, rule ids, content hash, install record). Elasticsearch 8+ keeps metadata in `_meta`; 7.x
 * rejects `_meta` on pipelines (measured on 7.10.2), so there it is JSON in `description`.
 */
import { engineOf } from "../connection/engine.ts";
import { createHash } from "node:crypto";
import type { ClusterInfo } from "../connection/client.ts";

/** What the Painless emitter gives (src/emit/painless/pipeline.ts `buildPipeline`). */
export interface CompiledPipeline {
  processors: object[];
  on_failure?: object[];
  ruleIds: string[];
  /** Per rule (parallel to ruleIds), a digest of its representation (rule-changes.ts `ruleDigest`). */
  ruleHashes?: string[];
  /** Hash of the rule content. */
  hash: string;
}

export interface PipelineMeta {
  tool: "outliers";
  tool_version: string;
  rule_count: number;
  rule_ids: string[];
  /** Per rule (parallel to rule_ids), a digest of its representation: install diffs name changed rules. */
  rule_hashes?: string[];
  /** The rule content hash of the emitter. */
  hash: string;
  /** Hash of the processors as installed: a new emitter for the same rules is a change too. */
  body_hash: string;
  /** When this name was first installed, and when this version was. */
  installed_at: string;
  updated_at: string;
  /** Where the wiring record lives. */
  state: string;
}

export interface PipelineDoc {
  description?: string;
  version?: number;
  processors: object[];
  on_failure?: object[];
  _meta?: Record<string, unknown>;
}

/** Canonical JSON (sorted keys) so that hashes do not depend on key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export function bodyHash(p: { processors: object[]; on_failure?: object[] }): string {
  return createHash("sha256")
    .update(canonical({ processors: p.processors, on_failure: p.on_failure ?? null }))
    .digest("hex")
    .slice(0, 16);
}

export function supportsPipelineMeta(info: ClusterInfo): boolean {
  return engineOf(info).pipelineMeta;
}

export function pipelineDocument(
  info: ClusterInfo,
  compiled: CompiledPipeline,
  meta: PipelineMeta,
  version: number,
): PipelineDoc {
  const doc: PipelineDoc = { processors: compiled.processors, version };
  if (compiled.on_failure?.length) doc.on_failure = compiled.on_failure;
  if (supportsPipelineMeta(info)) {
    doc.description = `outliers tagging pipeline: ${meta.rule_count} rule(s), content ${meta.hash}`;
    doc._meta = { outliers: meta };
  } else {
    doc.description = JSON.stringify({ outliers: meta });
  }
  return doc;
}

/** Our metadata on an installed pipeline, or undefined when it is not one of ours. */
export function readPipelineMeta(doc: PipelineDoc | undefined): PipelineMeta | undefined {
  if (!doc) return undefined;
  const fromMeta = (doc._meta as { outliers?: PipelineMeta } | undefined)?.outliers;
  if (fromMeta?.tool === "outliers") return fromMeta;
  if (doc.description?.startsWith("{")) {
    try {
      const m = (JSON.parse(doc.description) as { outliers?: PipelineMeta }).outliers;
      if (m?.tool === "outliers") return m;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The wiring pipeline that keeps an index's previous final pipeline working: it runs that pipeline
 * first and ours on its output, so what the previous pipeline adds (Fleet's `event.ingested`, a
 * module's parsed fields) is what gets tagged. Our step ignores failures: the tagging pipeline
 * records its own errors on the event, and a missing tagging pipeline must not reject events either.
 */
export function chainDocument(info: ClusterInfo, name: string, previous: string): PipelineDoc {
  const description = `outliers: runs the previous final pipeline ${previous}, then ${name}`;
  const doc: PipelineDoc = {
    description,
    processors: [{ pipeline: { name: previous } }, { pipeline: { name, ignore_failure: true } }],
  };
  if (supportsPipelineMeta(info)) doc._meta = { outliers_chain: { pipeline: name, previous } };
  return doc;
}

export function chainName(name: string, previous: string): string {
  return `${name}-chain-${previous}`;
}
