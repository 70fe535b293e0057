/**
 * What `outliers apply` made of each rule, kept in the cluster so that every laptop sees it: one
 * document per pipeline name in the hidden index `.outliers-applied` (stored, not indexed). Per rule:
 * its version (the digest of its representation, filters included), when that version went live,
 * and the window its history was backfilled over. While a run is under way the document also holds
 * the run's plan (`pending`): a run killed outright is finished by the next one, which reads it.
 */
import type { Cluster } from "../connection/client.ts";
import { ensureRecordIndex } from "../connection/record-index.ts";
import { rest, seg } from "../connection/rest.ts";

export const APPLIED_INDEX = ".outliers-applied";

export interface AppliedRule {
  id: string;
  title: string;
  /** The rule's version: `ruleDigest` of its representation. */
  digest: string;
  /** When this version went live (the pipeline carrying it was put). */
  live_at: string;
  /** The window its history was backfilled over, and when; null when apply did not backfill it. */
  backfill: { since: string; until: string; at: string } | null;
}

export interface PendingApply {
  started_at: string;
  /** The backfill window's start, kept so that the run finishing this one uses the same window. */
  since: string;
  /** Rule ids whose entries are being untagged, and rule ids being backfilled. */
  untag: string[];
  backfill: string[];
  /** The rule versions the run is installing (id → digest). */
  target: Record<string, string>;
}

export interface ApplyRecord {
  name: string;
  updated_at: string;
  rules: Record<string, AppliedRule>;
  pending?: PendingApply;
}

export async function readApplyRecord(cluster: Cluster, name: string): Promise<ApplyRecord | undefined> {
  const res = await rest<{ found: boolean; _source: ApplyRecord }>(
    cluster,
    "GET",
    `/${APPLIED_INDEX}/_doc/${seg(name)}`,
    undefined,
    { allow404: true, what: `read the apply record ${APPLIED_INDEX}/${name}` },
  );
  return res?.found ? res._source : undefined;
}

export async function writeApplyRecord(cluster: Cluster, record: ApplyRecord): Promise<void> {
  await ensureRecordIndex(cluster, APPLIED_INDEX);
  await rest(cluster, "PUT", `/${APPLIED_INDEX}/_doc/${seg(record.name)}`, record, {
    querystring: { refresh: "true" },
    what: `write the apply record ${APPLIED_INDEX}/${record.name}`,
  });
}
