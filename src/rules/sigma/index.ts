/** The Sigma front end: a rule file's text into one CompileResult per rule document. */
import type { CompileResult } from "../../ir/types.ts";
import type { LoadOptions } from "../load.ts";
import { convertSigmaRule } from "./convert.ts";
import { parseSigmaFile } from "./parse.ts";
import { pendingResult } from "./correlation.ts";

export function compileSigmaText(path: string, text: string, opts: LoadOptions): CompileResult[] {
  const docs = parseSigmaFile(path, text);
  const ruleDocs = docs.filter((d) => "rule" in d).length;
  const out: CompileResult[] = [];
  const ids = new Map<string, number>();
  let ordinal = 0;
  for (const d of docs) {
    if ("correlation" in d) {
      out.push(pendingResult(d.correlation));
      continue;
    }
    if ("failure" in d) {
      const f = d.failure;
      out.push({ status: f.status, id: f.id, title: f.title, path: f.path, error: f.error });
      continue;
    }
    const r = convertSigmaRule(d.rule, opts, { index: ++ordinal, count: ruleDocs });
    // Documents of one file that share an id (sigmac's `action: global` style): later ones get
    // `<id>:<document>` so ids stay unique; said in the warnings.
    if (r.status === "ok") {
      const n = ids.get(r.rule.id);
      if (n !== undefined) {
        const newId = `${r.rule.id}:${d.rule.docIndex}`;
        (r.warnings ??= []).push(
          `${d.rule.where(["id"])}: id '${r.rule.id}' shared with an earlier document of this file; this one is '${newId}'`,
        );
        r.rule.id = newId;
      }
      ids.set(r.rule.id, (n ?? 0) + 1);
    }
    out.push(r);
  }
  return out;
}
