/**
 * Rule selection, one meaning in every rule-taking command (`--min-level`, `--status`, `--tag`,
 * `--exclude`; the options are declared in src/commands/rule-set.ts). The filters run in that order
 * on the compiled rules, and each one counts what it kept and dropped per level.
 *
 * - `--min-level LEVEL`: informational < low < medium < high < critical. A rule without `level`
 *   ranks as `--default-level` when that option is given, else as informational: it is dropped by any
 *   `--min-level` above informational (it is counted under "none" in the per-level counts).
 * - `--status LIST` (comma-separated, repeatable): the statuses kept. Without it: stable, test,
 *   experimental and rules without a status (ee-outliers use cases); deprecated and unsupported rules
 *   are out unless named, and a rule without a status is out when `--status` is given.
 * - `--tag PATTERN` (repeatable): glob over the rule's tags (`*`, `?`, case-insensitive); a rule is
 *   kept when any pattern matches any of its tags.
 * - `--exclude FILE`: rule ids, titles or rule file paths (a folder excludes what is under it), one a
 *   line; blank lines and `#` comments are skipped. An entry matching no rule is a warning.
 */
import { readFileSync, statSync } from "node:fs";
import { resolve, sep } from "node:path";
import type { Rule } from "../ir/types.ts";
import { InputError, UsageError } from "../util/errors.ts";

export const LEVELS = ["informational", "low", "medium", "high", "critical"] as const;
export type Level = (typeof LEVELS)[number];
/** Per-level counts, highest first; `none` is for rules without a (known) level. */
export type LevelCounts = Record<Level | "none", number>;
const COUNT_KEYS = ["critical", "high", "medium", "low", "informational", "none"] as const;

export const STATUSES = ["stable", "test", "experimental", "deprecated", "unsupported"] as const;
const DEFAULT_STATUSES = ["stable", "test", "experimental"];

export interface ExcludeEntry {
  line: number;
  value: string;
}

export interface Selection {
  minLevel?: Level;
  /** Level of a rule without one (`--default-level`), for `--min-level`. */
  defaultLevel?: Level;
  statuses: string[];
  /** Whether `--status` was given (else the default statuses). */
  statusGiven: boolean;
  tags: string[];
  exclude?: { file: string; entries: ExcludeEntry[] };
}

export interface FilterCount {
  /** The filter as written, e.g. `--min-level high`. */
  filter: string;
  kept: number;
  dropped: number;
  keptByLevel: LevelCounts;
  droppedByLevel: LevelCounts;
}

export interface SelectionReport {
  /** Rules compiled before selection. */
  loaded: number;
  kept: number;
  dropped: number;
  keptByLevel: LevelCounts;
  droppedByLevel: LevelCounts;
  /** One entry per filter that ran, in order (each sees what the previous kept). */
  filters: FilterCount[];
  /** `--exclude` entries that matched no rule (file:line: entry). */
  unmatchedExcludes: string[];
}

export function emptyCounts(): LevelCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, informational: 0, none: 0 };
}

export function levelOf(r: Pick<Rule, "level">): Level | undefined {
  const l = r.level?.toLowerCase();
  return (LEVELS as readonly string[]).includes(l ?? "") ? (l as Level) : undefined;
}

export function parseLevel(v: string, flag: string): Level {
  const l = v.trim().toLowerCase();
  if (!(LEVELS as readonly string[]).includes(l))
    throw new UsageError(`${flag} ${JSON.stringify(v)}: expected one of ${LEVELS.join(", ")}`);
  return l as Level;
}

/** `--status a,b` values (repeatable) checked against the Sigma statuses. */
export function parseStatuses(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values)
    for (const s of v.split(",")) {
      const t = s.trim().toLowerCase();
      if (t === "") continue;
      if (!(STATUSES as readonly string[]).includes(t))
        throw new UsageError(`--status ${JSON.stringify(s.trim())}: expected one or more of ${STATUSES.join(", ")}`);
      if (!out.includes(t)) out.push(t);
    }
  if (out.length === 0) throw new UsageError(`--status: expected one or more of ${STATUSES.join(", ")}`);
  return out;
}

/** Reads an `--exclude` file: one id, title or path a line; `#` starts a comment (at a line's start or after a space). */
export function readExcludeFile(file: string): { file: string; entries: ExcludeEntry[] } {
  let buf: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new InputError(file, "is a folder, not an exclude list");
    buf = readFileSync(file);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(file, code === "ENOENT" ? "no such file (--exclude)" : (e as Error).message);
  }
  const entries: ExcludeEntry[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let start = 0;
  for (let i = 0; start <= buf.length; i++) {
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    const where = `${file}:${i + 1}`;
    let raw: string;
    try {
      raw = decoder.decode(buf.subarray(start, nl));
    } catch {
      throw new InputError(where, "not UTF-8 text; an exclude list holds rule ids, titles or paths, one a line");
    }
    start = nl + 1;
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(raw))
      throw new InputError(where, "a control character; an exclude list holds rule ids, titles or paths, one a line");
    const text = raw.replace(/^\uFEFF/, "");
    const value = (text.trimStart().startsWith("#") ? "" : text.replace(/\s+#.*$/, "")).trim();
    if (value !== "") entries.push({ line: i + 1, value });
  }
  return { file, entries };
}

/** The selection the options ask for (`opts` from commander: minLevel, status, tag, exclude, defaultLevel). */
export function selectionFrom(opts: Record<string, any>): Selection {
  const status: string[] | undefined = opts.status === undefined ? undefined : [opts.status].flat();
  const tags: string[] = opts.tag === undefined ? [] : [opts.tag].flat();
  for (const t of tags) if (t.trim() === "") throw new UsageError("--tag: expected a tag or glob, e.g. attack.t1059*");
  return {
    minLevel: opts.minLevel !== undefined ? parseLevel(String(opts.minLevel), "--min-level") : undefined,
    defaultLevel:
      typeof opts.defaultLevel === "string" && (LEVELS as readonly string[]).includes(opts.defaultLevel.toLowerCase())
        ? (opts.defaultLevel.toLowerCase() as Level)
        : undefined,
    statuses: status ? parseStatuses(status) : DEFAULT_STATUSES,
    statusGiven: status !== undefined,
    tags,
    exclude: opts.exclude ? readExcludeFile(String(opts.exclude)) : undefined,
  };
}

/** A glob (`*`, `?`) as a case-insensitive whole-string regular expression. */
function globRegex(glob: string): RegExp {
  const src = glob
    .trim()
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${src}$`, "i");
}

function normPath(p: string): string {
  return resolve(p).split(sep).join("/");
}

interface Filter {
  name: string;
  keep(r: Rule): boolean;
}

function filtersOf(sel: Selection, unmatched: Set<ExcludeEntry>): Filter[] {
  const filters: Filter[] = [];
  if (sel.minLevel) {
    const min = LEVELS.indexOf(sel.minLevel);
    filters.push({
      name: `--min-level ${sel.minLevel}`,
      keep: (r) => LEVELS.indexOf(levelOf(r) ?? sel.defaultLevel ?? "informational") >= min,
    });
  }
  filters.push({
    name: sel.statusGiven ? `--status ${sel.statuses.join(",")}` : `--status ${sel.statuses.join(",")} (default)`,
    keep: (r) => {
      const s = r.status?.trim().toLowerCase();
      // A rule without a status (ee-outliers use cases) is kept by the default, not by a --status given.
      return s === undefined || s === "" ? !sel.statusGiven : sel.statuses.includes(s);
    },
  });
  if (sel.tags.length) {
    const res = sel.tags.map(globRegex);
    filters.push({
      name: sel.tags.map((t) => `--tag ${t}`).join(" "),
      keep: (r) => r.tags.some((t) => res.some((re) => re.test(t))),
    });
  }
  if (sel.exclude) {
    const entries = sel.exclude.entries.map((e) => ({
      e,
      lower: e.value.toLowerCase(),
      path: normPath(e.value),
      tail: `/${e.value.replace(/\\/g, "/").replace(/^\.\//, "").replace(/\/+$/, "")}`,
    }));
    filters.push({
      name: `--exclude ${sel.exclude.file}`,
      keep: (r) => {
        const id = r.id.toLowerCase();
        const title = r.title.toLowerCase();
        const path = normPath(r.source.path);
        let keep = true;
        for (const x of entries) {
          const hit =
            x.lower === id ||
            x.lower === title ||
            path === x.path ||
            path.startsWith(`${x.path}/`) ||
            path.endsWith(x.tail) ||
            path.includes(`${x.tail}/`);
          if (hit) {
            unmatched.delete(x.e);
            keep = false;
          }
        }
        return keep;
      },
    });
  }
  return filters;
}

function count(rules: Rule[]): LevelCounts {
  const c = emptyCounts();
  for (const r of rules) c[levelOf(r) ?? "none"]++;
  return c;
}

/** Applies the selection: the rules kept (in their order) and what each filter kept and dropped. */
export function selectRules(rules: Rule[], sel: Selection): { rules: Rule[]; report: SelectionReport } {
  const unmatched = new Set(sel.exclude?.entries ?? []);
  let current = rules;
  const filters: FilterCount[] = [];
  for (const f of filtersOf(sel, unmatched)) {
    const kept: Rule[] = [];
    const dropped: Rule[] = [];
    for (const r of current) (f.keep(r) ? kept : dropped).push(r);
    filters.push({
      filter: f.name,
      kept: kept.length,
      dropped: dropped.length,
      keptByLevel: count(kept),
      droppedByLevel: count(dropped),
    });
    current = kept;
  }
  const keptSet = new Set(current);
  return {
    rules: current,
    report: {
      loaded: rules.length,
      kept: current.length,
      dropped: rules.length - current.length,
      keptByLevel: count(current),
      droppedByLevel: count(rules.filter((r) => !keptSet.has(r))),
      filters,
      unmatchedExcludes: [...unmatched].map((e) => `${sel.exclude!.file}:${e.line}: ${e.value}`),
    },
  };
}

/** "high 3, medium 6" (levels with a count, highest first; "no level" last). */
export function formatLevelCounts(c: LevelCounts): string {
  const parts = COUNT_KEYS.filter((k) => c[k] > 0).map((k) => `${k === "none" ? "no level" : k} ${c[k]}`);
  return parts.length ? parts.join(", ") : "none";
}

/**
 * The selection for a summary: one line of totals, then one line per filter that dropped a rule or
 * was asked for. Empty when nothing was asked and nothing dropped.
 */
export function formatSelection(s: SelectionReport): string[] {
  const asked = s.filters.filter((f) => !f.filter.endsWith("(default)"));
  if (s.dropped === 0 && asked.length === 0) return [];
  const lines = [
    `rule selection: ${s.kept} of ${s.loaded} rule(s) kept (${formatLevelCounts(s.keptByLevel)}), ${s.dropped} dropped (${formatLevelCounts(s.droppedByLevel)})`,
  ];
  for (const f of s.filters)
    if (f.dropped > 0 || !f.filter.endsWith("(default)"))
      lines.push(
        `  ${f.filter}: kept ${f.kept} (${formatLevelCounts(f.keptByLevel)}), dropped ${f.dropped} (${formatLevelCounts(f.droppedByLevel)})`,
      );
  for (const u of s.unmatchedExcludes) lines.push(`  warning: ${u}: matches no rule`);
  return lines;
}
