/**
 * Document ids for `outliers ingest`, so that a run killed and started again indexes nothing twice
 * (every document is sent with `create`: one already there is counted, never written again).
 *
 * - `auto` (default): a Windows event (`winlog.channel`, `winlog.computer_name` and
 *   `winlog.record_id`, as evtx-json conversion and Winlogbeat write them) gets the hash of those
 *   three and `@timestamp` (to the microsecond): the same event read from two exports is one document, and a log whose
 *   record numbers started again (a VM reverted to a snapshot) still gives new events new ids. Any other document gets the hash
 *   of its content plus how many identical documents came before it in the file, so that identical
 *   lines stay distinct documents and a re-run gives each the same id again.
 * - `field`: the value of a field of the document (`--id-field winlog.record_id`); a document
 *   without a string or number there fails with that reason.
 * - `none` (`--no-ids`): Elasticsearch makes the ids (a re-run duplicates).
 */
import { createHash } from "node:crypto";

export type IdMode = { kind: "auto" } | { kind: "field"; field: string } | { kind: "none" };

const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 40);

/** A dotted field of a document, through nested objects or a literal dotted key. */
export function valueAt(doc: unknown, dotted: string): unknown {
  if (typeof doc !== "object" || doc === null) return undefined;
  const o = doc as Record<string, unknown>;
  if (Object.hasOwn(o, dotted)) return o[dotted];
  const dot = dotted.indexOf(".");
  for (let i = dot; i > 0; i = dotted.indexOf(".", i + 1)) {
    const head = dotted.slice(0, i);
    if (Object.hasOwn(o, head)) {
      const v = valueAt(o[head], dotted.slice(i + 1));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

const scalar = (v: unknown): string | undefined =>
  typeof v === "string" || typeof v === "number" ? String(v) : undefined;

/** Makes ids for the documents of one run, in file order. */
export class IdMaker {
  private readonly seen = new Map<string, number>();
  constructor(private readonly mode: IdMode) {}

  /** The id of the next document, undefined for none, or `{ error }` when the document has no usable id. */
  next(doc: Record<string, unknown>, source: string): string | undefined | { error: string } {
    switch (this.mode.kind) {
      case "none":
        return undefined;
      case "field": {
        const v = scalar(valueAt(doc, this.mode.field));
        if (v === undefined || v === "")
          return { error: `--id-field ${this.mode.field}: the document has no string or number there` };
        return v;
      }
      case "auto": {
        const channel = scalar(valueAt(doc, "winlog.channel"));
        const computer = scalar(valueAt(doc, "winlog.computer_name"));
        const record = scalar(valueAt(doc, "winlog.record_id"));
        // Microseconds at most: exporters differ beyond (FILETIME has 100 ns; some print 9 digits, some 6).
        const time = (scalar(valueAt(doc, "@timestamp")) ?? "").replace(/(\.\d{6})\d+/, "$1");
        if (channel !== undefined && computer !== undefined && record !== undefined)
          return hash(`evtx\u0000${channel}\u0000${computer}\u0000${record}\u0000${time}`);
        const content = hash(source);
        const n = this.seen.get(content) ?? 0;
        this.seen.set(content, n + 1);
        return hash(`doc\u0000${content}\u0000${n}`);
      }
    }
  }
}
