/**
 * The events files named on a command line: files, folders (walked recursively) and globs (for a
 * shell that left them unexpanded, e.g. quoted), in one sorted list. In a folder, or from a glob,
 * only events files are taken (`.evtx`, `.json`, `.ndjson`, `.jsonl`); the others are counted as
 * skipped. A file named exactly is always taken, whatever its name; `-` is stdin.
 */
import { readdirSync, statSync } from "node:fs";
import { extname, isAbsolute, join } from "node:path";

export const EVENT_EXTENSIONS = new Set([".evtx", ".json", ".ndjson", ".jsonl"]);
const GLOB_CHARS = /[*?[\]{}]/;

export interface InputFiles {
  files: string[];
  /** Paths that are neither a file, a folder nor a glob matching something. */
  missing: string[];
  /** Files in folders or globs that are not events files (by extension). */
  skipped: string[];
}

export function expandInputs(paths: string[]): InputFiles {
  const files: string[] = [];
  const missing: string[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    if (!seen.has(f)) {
      seen.add(f);
      files.push(f);
    }
  };
  const take = (f: string) => (EVENT_EXTENSIONS.has(extname(f).toLowerCase()) ? add(f) : skipped.push(f));
  const walk = (dir: string, found: string[]) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const st = statSync(p);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // a dangling link
        }
      }
      if (isDir) walk(p, found);
      else if (isFile) found.push(p);
    }
  };
  for (const p of paths) {
    if (p === "-") {
      add(p);
      continue;
    }
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(p);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      const found: string[] = [];
      walk(p, found);
      for (const f of found.sort()) take(f);
    } else if (st) add(p);
    else if (GLOB_CHARS.test(p)) {
      const glob = new Bun.Glob(p);
      const matched = [...glob.scanSync({ cwd: isAbsolute(p) ? "/" : ".", onlyFiles: true, absolute: isAbsolute(p) })];
      if (matched.length === 0) missing.push(p);
      for (const m of matched.sort()) take(m);
    } else missing.push(p);
  }
  return { files, missing, skipped };
}
