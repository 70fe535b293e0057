/**
 * The continuous `correlate` mode's progress, kept in the cluster so that a run started on another
 * machine goes on where the last one stopped: one document per rule set and index patterns in the
 * state index (`.outliers-state` by default), holding the end of the last complete round.
 */
import { createHash } from "node:crypto";
import { call, isResponseError, type Cluster } from "../connection/client.ts";

export const DEFAULT_STATE_INDEX = ".outliers-state";

/** The document id of a rule set's progress: its correlation ids and index patterns. */
export function stateKey(ruleIds: string[], index: string[]): string {
  const h = createHash("sha256")
    .update(JSON.stringify([[...ruleIds].sort(), [...new Set(index)].sort()]))
    .digest("hex");
  return `correlate-${h.slice(0, 32)}`;
}

/** The end of the last complete round, if any. */
export async function readRound(cluster: Cluster, stateIndex: string, key: string): Promise<Date | undefined> {
  try {
    const r: any = await cluster.client.get({ index: stateIndex, id: key } as any);
    const end = r?._source?.round_end;
    return typeof end === "string" ? new Date(end) : undefined;
  } catch (e) {
    if (isResponseError(e) && (e as any).meta?.statusCode === 404) return undefined;
    return call(cluster, `read the correlate progress from ${stateIndex}`, () => Promise.reject(e));
  }
}

export async function writeRound(cluster: Cluster, stateIndex: string, key: string, end: Date): Promise<void> {
  await call(cluster, `store the correlate progress in ${stateIndex}`, () =>
    cluster.client.index({
      index: stateIndex,
      id: key,
      refresh: true,
      document: { kind: "correlate", round_end: end.toISOString(), updated: new Date().toISOString() },
    } as any),
  );
}
