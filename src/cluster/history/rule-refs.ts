/**
 * What `--rule` names, resolved to rule ids (issue 18.5): a rule id as written on the events, an exact
 * rule title (from the installed pipeline's rule list, or the rules under ./rules), or a rule file,
 * folder or glob (compiled by the rule loader, which gives the ids its rules tag with). A reference
 * that is none of these is kept as an id (an id no event carries is reported by the preflight).
 */
import { existsSync } from "node:fs";
import type { Cluster } from "../connection/client.ts";
import { rest, seg } from "../connection/rest.ts";
import { installedRules } from "../live/rule-changes.ts";
import type { PipelineDoc } from "../live/pipeline-body.ts";
import { loadRules } from "../../rules/load.ts";
import { loadProfile } from "../../mapping/index.ts";
import { UsageError } from "../../util/errors.ts";

export interface ResolvedRef {
  ref: string;
  ids: string[];
  how: "id" | "title" | "path";
}

const RULE_FILE = /\.(ya?ml|conf|ini)$/i;

export async function resolveRuleRefs(
  cluster: Cluster,
  refs: string[],
  opts: { name?: string; mapping?: string } = {},
): Promise<ResolvedRef[]> {
  const profile = loadProfile(opts.mapping ?? "winlogbeat");
  let titles: Map<string, string[]> | undefined;
  const titleIndex = async () => {
    if (titles) return titles;
    titles = new Map();
    const name = opts.name ?? "outliers";
    const doc = (
      await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}`, undefined, {
        allow404: true,
        what: `read pipeline ${name}`,
      })
    )?.[name];
    const add = (title: string, id: string) => {
      if (!title) return;
      const ids = titles!.get(title) ?? [];
      if (!ids.includes(id)) ids.push(id);
      titles!.set(title, ids);
    };
    for (const r of installedRules(doc)) add(r.title, r.id);
    if (existsSync("./rules"))
      for (const r of loadRules(["./rules"], { profile })) if (r.status === "ok") add(r.rule.title, r.rule.id);
    return titles;
  };
  const out: ResolvedRef[] = [];
  for (const ref of refs) {
    if (RULE_FILE.test(ref) && !existsSync(ref)) throw new UsageError(`--rule ${ref}: no such rule file`);
    if (existsSync(ref) || /[*?]/.test(ref)) {
      const results = loadRules([ref], { profile });
      const ids = results.flatMap((r) => (r.status === "ok" ? [r.rule.id] : []));
      if (!ids.length) {
        const why = results.find((r) => r.status !== "ok");
        throw new UsageError(
          `--rule ${ref}: no rule could be read there${why && "error" in why ? ` (${why.error})` : ""}`,
        );
      }
      out.push({ ref, ids, how: "path" });
      continue;
    }
    const byTitle = (await titleIndex()).get(ref);
    if (byTitle?.length) out.push({ ref, ids: byTitle, how: "title" });
    else out.push({ ref, ids: [ref], how: "id" });
  }
  return out;
}
