/**
 * Which index template shapes an index's mapping: the composable template of highest priority whose
 * index_patterns match the name, else the legacy templates that match it (highest order first).
 * `doctor --index` names it in its advice, or says there is none (the mapping is dynamic) and what to
 * do instead. Read-only.
 */
import type { Cluster } from "./client.ts";
import { rest } from "./rest.ts";

export interface TemplateRef {
  kind: "index template" | "legacy template";
  name: string;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(name);
}

/** Per index, the template that shapes it (undefined: none, the mapping is dynamic). */
export async function templatesFor(cluster: Cluster, indices: string[]): Promise<Map<string, TemplateRef | undefined>> {
  const out = new Map<string, TemplateRef | undefined>();
  let composable: Array<{ name: string; patterns: string[]; priority: number }> = [];
  let legacy: Array<{ name: string; patterns: string[]; order: number }> = [];
  try {
    const c = await rest<any>(cluster, "GET", "/_index_template", undefined, {
      allow404: true,
      what: "read index templates",
    });
    composable = (c?.index_templates ?? []).map((t: any) => ({
      name: t.name,
      patterns: [t.index_template?.index_patterns ?? []].flat(),
      priority: Number(t.index_template?.priority ?? 0),
    }));
  } catch {
    // an engine without composable templates
  }
  try {
    const l = await rest<Record<string, any>>(cluster, "GET", "/_template", undefined, {
      allow404: true,
      what: "read legacy templates",
    });
    legacy = Object.entries(l ?? {}).map(([name, t]) => ({
      name,
      patterns: [t.index_patterns ?? []].flat(),
      order: Number(t.order ?? 0),
    }));
  } catch {
    // no right to read them: reported as "none found"
  }
  for (const ix of indices) {
    const c = composable
      .filter((t) => t.patterns.some((p) => globMatch(p, ix)))
      .sort((a, b) => b.priority - a.priority)[0];
    if (c) {
      out.set(ix, { kind: "index template", name: c.name });
      continue;
    }
    const l = legacy.filter((t) => t.patterns.some((p) => globMatch(p, ix))).sort((a, b) => b.order - a.order)[0];
    out.set(ix, l ? { kind: "legacy template", name: l.name } : undefined);
  }
  return out;
}
