/**
 * `pipeline simulate`: documents through the compiled pipeline on the cluster with
 * `POST _ingest/pipeline/_simulate` (inline pipeline: nothing is installed), and what each got.
 */
import type { Cluster } from "../connection/client.ts";
import type { DocEntry } from "../../events/docs-file.ts";
import { rest } from "../connection/rest.ts";

export interface SimulatedDoc {
  line: number;
  /** Rule ids the pipeline added to the document. */
  matched: string[];
  /** Rule ids the document carried already (never recorded twice). */
  already: string[];
  /** Matching rules' titles, in the same order. */
  titles: string[];
  /** Tagging errors recorded on the event (`outliers.error`), or the pipeline's own failure. */
  errors: string[];
  /** The document after the pipeline. */
  source?: Record<string, unknown>;
}

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function get(obj: any, path: string): unknown {
  if (obj && path in obj) return obj[path];
  let cur = obj;
  for (const p of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = cur[p];
  }
  return cur;
}

export async function simulateDocs(
  cluster: Cluster,
  pipeline: { processors: object[]; on_failure?: object[] },
  entries: DocEntry[],
  titles: Map<string, string>,
  chunk = 200,
): Promise<SimulatedDoc[]> {
  const out: SimulatedDoc[] = [];
  const body = {
    description: "outliers simulate",
    processors: pipeline.processors,
    ...(pipeline.on_failure ? { on_failure: pipeline.on_failure } : {}),
  };
  for (let k = 0; k < entries.length; k += chunk) {
    const part = entries.slice(k, k + chunk);
    const docs = part.filter((e) => e.doc !== undefined);
    const res = docs.length
      ? await rest<{ docs: any[] }>(
          cluster,
          "POST",
          "/_ingest/pipeline/_simulate",
          {
            pipeline: body,
            docs: docs.map((e, n) => ({ _index: "outliers-simulate", _id: String(k + n), _source: e.doc })),
          },
          { what: "simulate pipeline" },
        )
      : { docs: [] };
    let n = 0;
    for (const e of part) {
      if (e.doc === undefined) {
        out.push({ line: e.line, matched: [], already: [], titles: [], errors: [`not read: ${e.error}`] });
        continue;
      }
      const r = res?.docs[n++];
      if (r?.error) {
        out.push({
          line: e.line,
          matched: [],
          already: [],
          titles: [],
          errors: [r.error.reason ?? JSON.stringify(r.error)],
        });
        continue;
      }
      const source = r?.doc?._source as Record<string, unknown> | undefined;
      // What this pipeline added: rule ids the document already carried are not news.
      const had = new Set(list(get(e.doc, "outliers.rule_id")));
      const matched = list(get(source, "outliers.rule_id")).filter((id) => !had.has(id));
      const already = [...had];
      const reasons = list(get(source, "outliers.reason"));
      const ids = list(get(source, "outliers.rule_id"));
      out.push({
        line: e.line,
        matched,
        already,
        titles: matched.map((id) => titles.get(id) ?? reasons[ids.indexOf(id)]?.replace(/^Sigma hit - /, "") ?? ""),
        errors: list(get(source, "outliers.error")),
        ...(source ? { source } : {}),
      });
    }
  }
  return out;
}
