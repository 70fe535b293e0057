/** The Sigma front end: rule files' text into one CompileResult per rule document, filters applied. */
import type { CompileResult } from "../../ir/types.ts";
import type { LoadOptions } from "../load.ts";
import { convertSigmaRule } from "./convert.ts";
import { applyFilters, filterReports } from "./filters.ts";
import { type ParsedDocument, parseSigmaFile, type SigmaFilterDoc } from "./parse.ts";
import { pendingResult } from "./correlation.ts";

export function compileSigmaText(path: string, text: string, opts: LoadOptions): CompileResult[] {
  return compileSigmaFiles([{ path, text }], opts);
}

/**
 * Every file parsed first: filter documents (any file) apply to the rules they name in every file.
 * What each filter did goes to `opts.filterReports` when given.
 */
export function compileSigmaFiles(files: Array<{ path: string; text: string }>, opts: LoadOptions): CompileResult[] {
  const parsed = files.map((f) => parseSigmaFile(f.path, f.text));
  const filters = parsed.flat().flatMap((d) => ("filter" in d ? [d.filter] : []));
  const reports = filterReports(
    filters,
    parsed.flat().flatMap((d) => ("rule" in d ? [d.rule] : [])),
  );
  const out = parsed.flatMap((docs) => compileDocs(docs, opts, filters, reports));
  opts.filterReports?.push(...reports.values());
  return out;
}

function compileDocs(
  docs: ParsedDocument[],
  opts: LoadOptions,
  filters: SigmaFilterDoc[],
  reports: ReturnType<typeof filterReports>,
): CompileResult[] {
  const ruleDocs = docs.filter((d) => "rule" in d).length;
  const out: CompileResult[] = [];
  const ids = new Map<string, number>();
  let ordinal = 0;
  for (const d of docs) {
    if ("filter" in d) continue;
    if ("correlation" in d) {
      out.push(pendingResult(d.correlation));
      continue;
    }
    if ("failure" in d) {
      const f = d.failure;
      out.push({ status: f.status, id: f.id, title: f.title, path: f.path, error: f.error, location: f.location });
      continue;
    }
    const filtered = filters.length ? applyFilters(d.rule, filters, reports) : d.rule;
    const r = convertSigmaRule(filtered, opts, { index: ++ordinal, count: ruleDocs });
    if (r.status === "ok" && filtered !== d.rule) {
      const applied = [...reports].filter(([, rep]) => d.rule.id !== undefined && rep.rules.includes(d.rule.id));
      r.rule.filters = applied.map(([f]) => ({ ...(f.id ? { id: f.id } : {}), title: f.title, path: f.path }));
    }
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
