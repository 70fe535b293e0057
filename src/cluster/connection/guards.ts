/**
 * The guards every command applies before it touches a cluster, so that install, backfill, untag and
 * ingest refuse and reach exactly the same things:
 *
 * - index patterns that name every index (`*`, `_all`, `**`) are refused, so is a rule whose
 *   `es_index` is such a pattern (naming the rule and its file);
 * - hidden and system indices (names starting with `.`) are reached only when named exactly:
 *   `.tasks` may be given, `.*` or `.security*` is refused, and a wildcard such as `*beat*`, which
 *   Elasticsearch would let reach `.kibana`-like indices, gets `-.*` after it (wildcards never
 *   expand to hidden indices: requests use expand_wildcards=open); the backing indices (`.ds-…`) of
 *   the data streams a pattern names are the one exception, since a stream is written through them;
 * - a query that runs code on the cluster (a `script` query, `script_score`, any `*script*` key)
 *   is refused per rule with a clear message; the other rules still run.
 */
import type { Rule } from "../../ir/types.ts";
import { UsageError } from "../../util/errors.ts";

const EVERY_INDEX = /^(_all|\**)$/;

/** Checks index patterns given by `what` (`--index`, a rule's es_index); returns them split and deduplicated. */
export function checkIndexPatterns(patterns: string[], what = "--index"): string[] {
  const out: string[] = [];
  for (const raw of patterns) {
    for (const p of raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (p.startsWith("-"))
        throw new UsageError(`${what} ${p}: exclusions are not supported; name the indices to use`);
      if (EVERY_INDEX.test(p))
        throw new UsageError(
          `${what} ${p}: refusing to touch every index of the cluster; give specific patterns (e.g. winlogbeat-*)`,
        );
      if (!/^[^\s"\\/?<>|,#:]+$/.test(p)) throw new UsageError(`${what} ${p}: not a valid index pattern`);
      if (p.startsWith(".") && p.includes("*"))
        throw new UsageError(
          `${what} ${p}: hidden and system indices (names starting with '.') are only touched when named exactly (e.g. .my-hidden-index), never by a pattern`,
        );
      if (!out.includes(p)) out.push(p);
    }
  }
  if (out.length === 0) throw new UsageError(`no index patterns (give ${what} PATTERN)`);
  return out;
}

/**
 * The target list to send to Elasticsearch for checked patterns: wildcards first, then `-.*` so that
 * they reach no index whose name starts with '.', then the backing indices of the data streams those
 * wildcards name (`.ds-<pattern>`: `-.*` removes them too, and a stream is reached through them),
 * then the names given exactly (after the exclusion, so an exact data stream keeps its backing indices).
 */
export function searchTargets(patterns: string[]): string[] {
  const wild = patterns.filter((p) => p.includes("*"));
  const exact = patterns.filter((p) => !p.includes("*"));
  const exactDot = exact.filter((p) => p.startsWith("."));
  const rest = exact.filter((p) => !p.startsWith("."));
  return wild.length ? [...wild, "-.*", ...wild.map((p) => `.ds-${p}`), ...rest, ...exactDot] : [...rest, ...exactDot];
}

/** `p` as a whole-name regular expression, `*` standing for any characters. */
function globRegex(p: string): RegExp {
  return new RegExp(
    `^${p
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
}

/**
 * Whether an index found by expanding `patterns` may be touched: a '.' name only when named exactly,
 * or when it is the backing index (`.ds-<stream>-…`) of a data stream the patterns name.
 */
export function reachable(index: string, patterns: string[]): boolean {
  if (!index.startsWith(".") || patterns.includes(index)) return true;
  if (!index.startsWith(".ds-")) return false;
  const backing = index.slice(4);
  return patterns.some((p) => !p.startsWith(".") && (globRegex(p).test(backing) || globRegex(`${p}-*`).test(backing)));
}

/** Where a query runs code on the cluster (a JSON path), or undefined. */
export function codeIn(query: unknown, at = "query"): string | undefined {
  if (Array.isArray(query)) {
    for (let i = 0; i < query.length; i++) {
      const hit = codeIn(query[i], `${at}[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  }
  if (!query || typeof query !== "object") return undefined;
  for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
    if (/script/i.test(k)) return `${at}.${k}`;
    const hit = codeIn(v, `${at}.${k}`);
    if (hit) return hit;
  }
  return undefined;
}

/** The rule's place for messages: file and section. */
function place(rule: Rule): string {
  return `${rule.source.path}${rule.source.section ? `: [${rule.source.section}]` : ""}`;
}

/**
 * Splits rules into those a cluster command may run and those refused (with the message): a query
 * the cluster would run that contains code. Rules whose own index patterns name every index, or reach
 * hidden indices by a pattern, stop the command when no --index overrides them (as install does).
 */
export function guardRules(rules: Rule[], explicitIndex: boolean): { rules: Rule[]; refused: string[] } {
  const ok: Rule[] = [];
  const refused: string[] = [];
  for (const r of rules) {
    const code = r.backfillOnlyQuery !== undefined ? codeIn(r.backfillOnlyQuery) : undefined;
    if (code) {
      refused.push(
        `${place(r)}: rule ${r.id}: its query runs a script on the cluster (${code}); refused, the other rules still run`,
      );
      continue;
    }
    if (!explicitIndex) {
      try {
        checkIndexPatterns(r.index, "es_index");
      } catch (e) {
        throw new UsageError(`${place(r)}: rule ${r.id}: ${(e as Error).message} (or give --index)`);
      }
    }
    ok.push(r);
  }
  return { rules: ok, refused };
}

/** Whether `index` is a hidden or system index (`.kibana`, `.security-7`, `.tasks`); data streams' `.ds-` backing indices are not. */
export function isSystemIndex(index: string): boolean {
  return index.startsWith(".") && !index.startsWith(".ds-");
}

/**
 * Refuses writing events into hidden and system indices unless `allowed` (ingest's
 * `--allow-system-index`): `index` is the name given, `resolved` the indices it stands for (an alias
 * such as `.kibana`, or a plain alias pointing at one).
 */
export function checkEventTarget(index: string, resolved: string[], allowed: boolean, flag: string): void {
  if (allowed) return;
  const system = [index, ...resolved].filter(isSystemIndex);
  if (system.length === 0) return;
  const via = system[0] === index ? "" : ` (it points to ${system.join(", ")})`;
  throw new UsageError(
    `--index ${index}${via}: a hidden or system index (name starting with '.'); events are written there only with ${flag}`,
  );
}
