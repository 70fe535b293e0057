/**
 * PATHS → rule files → CompileResult[]. PATHS are files, folders (searched recursively) or globs;
 * with none, `./rules`. The file extension chooses the compiler (`RULE_KINDS`). A broken file gives
 * an error result for that file and the others still load. Results are sorted by path, then
 * document/section; a rule id used again by a later file is an error result naming both paths.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, isAbsolute } from "node:path";
import type { CompileResult } from "../ir/types.ts";
import type { Profile } from "../mapping/profile.ts";
import { compileSigmaFiles } from "./sigma/index.ts";
import type { FilterReport } from "./sigma/filters.ts";
import { resolveCorrelations } from "./sigma/correlation.ts";
import { compileEeOutliersTexts } from "./eeoutliers/compile.ts";

export interface LoadOptions {
  profile: Profile;
  /** Values for Sigma `%placeholders%` (the `expand` modifier), from `--placeholders FILE`. */
  placeholders?: Record<string, string[]>;
  /** When given, the Sigma front end adds what each filter document did (the rules it changed, warnings). */
  filterReports?: FilterReport[];
}

/** A rule file read from disk. */
export interface RuleFile {
  path: string;
  text: string;
}

/**
 * A kind of rule file: its extensions and the compiler that turns all files of that kind (at once:
 * ee-outliers whitelists apply across files) into one result per rule, in file and document order.
 */
export interface RuleKind {
  name: string;
  extensions: string[];
  compile(files: RuleFile[], opts: LoadOptions): CompileResult[];
}

/**
 * The one place that maps file extensions to compilers. ee-outliers use-case files (`.conf`,
 * `.ini`) are added here by src/rules/eeoutliers (its `compileEeOutliersTexts` fits `compile`).
 */
export const RULE_KINDS: RuleKind[] = [
  {
    name: "Sigma",
    extensions: [".yml", ".yaml"],
    // Filters and correlations reference rules of any file: applied once all files are parsed.
    compile: (files, opts) => resolveCorrelations(compileSigmaFiles(files, opts), opts),
  },
  { name: "ee-outliers", extensions: [".conf", ".ini"], compile: compileEeOutliersTexts },
];

const GLOB_CHARS = /[*?[\]{}]/;

/** Larger rule files are refused unread (the whole SigmaHQ set is ~30 MB spread over 3,000+ files). */
export const MAX_RULE_FILE_BYTES = 10 * 1024 * 1024;

/**
 * A rule file's text, checked before it is read whole: its size (a large file renamed `.yml` once took
 * minutes and gigabytes), and that it is text (no NUL byte, valid UTF-8).
 */
export function readRuleText(file: string, maxBytes = MAX_RULE_FILE_BYTES): { text: string } | { error: string } {
  let buf: Buffer;
  try {
    const size = statSync(file).size;
    if (size > maxBytes)
      return {
        error: `${file}: ${(size / 1048576).toFixed(1)} MB is more than a rule file may be (${maxBytes / 1048576} MB); not read`,
      };
    buf = readFileSync(file);
  } catch (e) {
    return { error: `${file}: cannot read: ${(e as Error).message}` };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) return { error: `${file}: binary content (a NUL byte at offset ${nul}); a rule file is text` };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(buf) };
  } catch {
    return { error: `${file}: not UTF-8 text; a rule file is text` };
  }
}

/** The rule files PATHS name, each once, sorted; explicit files of unknown kinds are kept (and reported). */
export function findRuleFiles(paths: string[]): { files: string[]; missing: string[] } {
  // Extensions picked up when searching folders and globs (files of other kinds there are skipped).
  const FOLDER_EXTENSIONS = new Set(RULE_KINDS.flatMap((k) => k.extensions));
  const seen = new Set<string>();
  const files: string[] = [];
  const missing: string[] = [];
  const add = (f: string) => {
    const key = isAbsolute(f) ? f : join(process.cwd(), f);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(f);
  };
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      missing.push(dir);
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (FOLDER_EXTENSIONS.has(extname(e.name).toLowerCase())) add(p);
      else if (e.isSymbolicLink()) {
        try {
          const st = statSync(p);
          if (st.isDirectory()) walk(p);
          else if (FOLDER_EXTENSIONS.has(extname(e.name).toLowerCase())) add(p);
        } catch {
          /* dangling link */
        }
      }
    }
  };
  for (const p of paths.length ? paths : ["./rules"]) {
    let st;
    try {
      st = statSync(p);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) walk(p);
    else if (st) add(p);
    else if (GLOB_CHARS.test(p)) {
      const glob = new Bun.Glob(p);
      const matched = [...glob.scanSync({ cwd: isAbsolute(p) ? "/" : ".", onlyFiles: true, absolute: isAbsolute(p) })];
      if (matched.length === 0) missing.push(p);
      for (const m of matched) {
        const f = isAbsolute(p) ? m : m.startsWith(".") || !p.startsWith("./") ? m : `./${m}`;
        if (FOLDER_EXTENSIONS.has(extname(f).toLowerCase())) add(f);
      }
    } else missing.push(p);
  }
  files.sort(comparePaths);
  return { files, missing };
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function kindOf(path: string): RuleKind | undefined {
  const ext = extname(path).toLowerCase();
  return RULE_KINDS.find((k) => k.extensions.includes(ext));
}

function resultPath(r: CompileResult): string {
  return r.status === "ok" ? r.rule.source.path : r.path;
}

/** Compiles every rule under PATHS: sorted by path (then document), duplicate ids rejected. */
export function loadRules(paths: string[], opts: LoadOptions): CompileResult[] {
  const { files, missing } = findRuleFiles(paths);
  const results: CompileResult[] = [];
  for (const m of missing)
    results.push({ status: "error", path: m, error: `${m}: no such file, folder or matching glob` });
  const byKind = new Map<RuleKind, RuleFile[]>();
  for (const file of files) {
    const kind = kindOf(file);
    if (!kind) {
      const ext = extname(file) || "(no extension)";
      const known = RULE_KINDS.map((k) => `${k.name}: ${k.extensions.join("/")}`).join("; ");
      results.push({ status: "error", path: file, error: `${file}: unknown rule file type '${ext}' (${known})` });
      continue;
    }
    const read = readRuleText(file);
    if ("error" in read) {
      results.push({ status: "error", path: file, error: read.error });
      continue;
    }
    const text = read.text;
    const list = byKind.get(kind) ?? [];
    list.push({ path: file, text });
    byKind.set(kind, list);
  }
  for (const [kind, list] of byKind) {
    try {
      results.push(...kind.compile(list, opts));
    } catch (e) {
      // A compiler bug must not lose the other kinds' rules.
      for (const f of list)
        results.push({
          status: "error",
          path: f.path,
          error: `${f.path}: ${kind.name} compiler failed: ${(e as Error)?.message ?? e}`,
        });
    }
  }
  // Stable: a file's rules keep their document order.
  results.sort((a, b) => comparePaths(resultPath(a), resultPath(b)));
  return rejectDuplicateIds(results);
}

/** A rule id seen before (in path order) makes the later rule an error naming both places. */
export function rejectDuplicateIds(results: CompileResult[]): CompileResult[] {
  const firstSeen = new Map<string, string>();
  return results.map((r) => {
    if (r.status !== "ok") return r;
    const prev = firstSeen.get(r.rule.id);
    const here = r.rule.source.path;
    if (prev !== undefined) {
      return {
        status: "error",
        id: r.rule.id,
        title: r.rule.title,
        path: here,
        error: `${here}: duplicate rule id '${r.rule.id}' (already used by ${prev})`,
      };
    }
    firstSeen.set(
      r.rule.id,
      r.rule.source.section !== undefined && r.rule.source.format === "simplequery"
        ? `${here} [${r.rule.source.section}]`
        : here,
    );
    return r;
  });
}
