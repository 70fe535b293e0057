/**
 * PATHS → rule files → CompileResult[]. PATHS are files, folders (searched recursively) or globs;
 * with none, `./rules`. The file extension chooses the compiler (`COMPILERS`). A broken file gives
 * an error result for that file and the others still load. Results are sorted by path, then
 * document/section; a rule id used again by a later file is an error result naming both paths.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, isAbsolute } from "node:path";
import type { CompileResult } from "../ir/types.ts";
import type { Profile } from "../mapping/profile.ts";
import { compileSigmaText } from "./sigma/index.ts";
import { compileEeOutliersTexts } from "./eeoutliers/compile.ts";

export interface LoadOptions {
  profile: Profile;
  /** Values for Sigma `%placeholders%` (the `expand` modifier), from `--placeholders FILE`. */
  placeholders?: Record<string, string[]>;
}

/** Compiles the text of one rule file into one result per rule (document or use case). */
export type FileCompiler = (path: string, text: string, opts: LoadOptions) => CompileResult[];

/**
 * The one place that maps file extensions to compilers. ee-outliers use-case files (`.conf`,
 * `.ini`) are added here by src/rules/eeoutliers.
 */
export const COMPILERS: Record<string, FileCompiler> = {
  ".yml": compileSigmaText,
  ".yaml": compileSigmaText,
  ".conf": (path, text, opts) => compileEeOutliersTexts([{ path, text }], opts),
  ".ini": (path, text, opts) => compileEeOutliersTexts([{ path, text }], opts),
};

/** ee-outliers files are compiled together: `[whitelist_…]` sections in any of them apply to all. */
const EE_OUTLIERS_EXTENSIONS = new Set([".conf", ".ini"]);

/** Extensions picked up when searching folders (files of other kinds there are skipped). */
const FOLDER_EXTENSIONS = new Set([".yml", ".yaml", ".conf", ".ini"]);
const GLOB_CHARS = /[*?[\]{}]/;

/** The rule files PATHS name, each once, sorted; explicit files of unknown kinds are kept (and reported). */
export function findRuleFiles(paths: string[]): { files: string[]; missing: string[] } {
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
        } catch { /* dangling link */ }
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

/** Compiles every rule under PATHS. */
export function loadRules(paths: string[], opts: LoadOptions): CompileResult[] {
  const { files, missing } = findRuleFiles(paths);
  const results: CompileResult[] = [];
  const eeResults = compileEeOutliersBatch(files, opts);
  for (const m of missing) results.push({ status: "error", path: m, error: `${m}: no such file, folder or matching glob` });
  for (const file of files) {
    const compile = COMPILERS[extname(file).toLowerCase()];
    if (!compile) {
      const kind = extname(file) || "(no extension)";
      results.push({ status: "error", path: file, error: `${file}: unknown rule file type '${kind}' (Sigma: .yml/.yaml; ee-outliers: .conf/.ini)` });
      continue;
    }
    const batched = eeResults.get(file);
    if (batched) {
      results.push(...batched);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      results.push({ status: "error", path: file, error: `${file}: cannot read: ${(e as Error).message}` });
      continue;
    }
    let out: CompileResult[];
    try {
      out = compile(file, text, opts);
    } catch (e) {
      out = [{ status: "error", path: file, error: `${file}: ${(e as Error)?.message ?? e}` }];
    }
    // Compilers return a file's rules in document/section order.
    results.push(...out);
  }
  return rejectDuplicateIds(results);
}

/** All readable ee-outliers files compiled together, results grouped by file. */
function compileEeOutliersBatch(files: string[], opts: LoadOptions): Map<string, CompileResult[]> {
  const texts: { path: string; text: string }[] = [];
  for (const f of files) {
    if (!EE_OUTLIERS_EXTENSIONS.has(extname(f).toLowerCase())) continue;
    try {
      texts.push({ path: f, text: readFileSync(f, "utf8") });
    } catch {
      // reported by the per-file loop
    }
  }
  const byFile = new Map<string, CompileResult[]>(texts.map((t) => [t.path, []]));
  if (texts.length === 0) return byFile;
  let out: CompileResult[];
  try {
    out = compileEeOutliersTexts(texts, opts);
  } catch (e) {
    out = texts.map((t) => ({ status: "error", path: t.path, error: `${t.path}: ${(e as Error)?.message ?? e}` }));
  }
  for (const r of out) byFile.get(r.status === "ok" ? r.rule.source.path : r.path)?.push(r);
  return byFile;
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
    firstSeen.set(r.rule.id, r.rule.source.section !== undefined && r.rule.source.format === "simplequery" ? `${here} [${r.rule.source.section}]` : here);
    return r;
  });
}

/** For messages: a path relative to the working directory when that is shorter. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && rel.length < p.length ? rel : p;
}
