/**
 * Which rules an install adds, removes or changes against what is installed. The installed pipeline
 * records its rule ids and, per rule, a digest of the rule's representation (`rule_hashes` in our
 * pipeline metadata, parallel to `rule_ids`); titles come from the tags the installed pipeline writes
 * (its params, `m`: see src/emit/painless/encode.ts), so a rule removed from disk is still named.
 */
import { createHash } from "node:crypto";
import type { Rule } from "../../ir/types.ts";
import { canonical, type PipelineDoc, readPipelineMeta } from "./pipeline-body.ts";
import type { Cluster } from "../connection/client.ts";
import { titleFromTag } from "../history/report.ts";
import { rest, seg } from "../connection/rest.ts";

export interface RuleRef {
  id: string;
  title: string;
  /** Digest of the rule's representation; absent for pipelines installed before digests were recorded. */
  digest?: string;
}

export interface RuleChanges {
  added: RuleRef[];
  removed: RuleRef[];
  changed: RuleRef[];
  unchanged: number;
  /** The installed pipeline records no digests (an older install): changes cannot be told apart. */
  digestsUnknown: boolean;
}

/**
 * What identifies a rule's behaviour and tags: its whole representation except where the file lies
 * (moving a file changes nothing).
 */
export function ruleDigest(rule: Rule): string {
  const { source: _source, ...rest } = rule;
  return createHash("sha256").update(canonical(rest)).digest("hex").slice(0, 16);
}

/** The rules an installed pipeline tags, with titles and digests where recorded. */
export function installedRules(doc: PipelineDoc | undefined): RuleRef[] {
  const meta = readPipelineMeta(doc);
  if (!meta) return [];
  const titles = new Map<string, string>();
  for (const p of doc?.processors ?? []) {
    const m = (p as any)?.script?.params?.m;
    if (!Array.isArray(m)) continue;
    for (const e of m) if (Array.isArray(e)) titles.set(String(e[0]), titleFromTag(e[2], e[5], e[4]));
  }
  const digests = meta.rule_hashes;
  return meta.rule_ids.map((id, i) => ({
    id,
    title: titles.get(id) ?? "",
    ...(digests?.[i] ? { digest: digests[i] } : {}),
  }));
}

export function ruleChanges(installed: RuleRef[], next: RuleRef[]): RuleChanges {
  const before = new Map(installed.map((r) => [r.id, r]));
  const after = new Map(next.map((r) => [r.id, r]));
  const out: RuleChanges = {
    added: [],
    removed: [],
    changed: [],
    unchanged: 0,
    digestsUnknown: installed.length > 0 && installed.some((r) => r.digest === undefined),
  };
  for (const r of next) {
    const old = before.get(r.id);
    if (!old) out.added.push(r);
    else if (old.digest !== undefined && r.digest !== undefined && old.digest !== r.digest) out.changed.push(r);
    else out.unchanged++;
  }
  for (const r of installed) if (!after.has(r.id)) out.removed.push(r);
  return out;
}

/** The pipeline installed under `name`, or undefined. */
export async function readInstalledPipeline(cluster: Cluster, name: string): Promise<PipelineDoc | undefined> {
  return (
    await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}`, undefined, {
      allow404: true,
      what: `read pipeline ${name}`,
    })
  )?.[name];
}
