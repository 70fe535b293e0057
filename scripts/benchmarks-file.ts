/**
 * BENCHMARKS.md, shared by the bench scripts: each replaces its own section (found by a pattern that
 * matches exactly that section) and leaves the rest of the file alone.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export const BENCHMARKS_FILE = path.resolve(import.meta.dir, "../BENCHMARKS.md");

const HEADER = `# Benchmarks

Figures here are produced by scripts in \`scripts/\`; each section names the command that produced it and
is replaced when that command runs again. The machine is shared (2 cores, other work running), so
treat single figures as indicative.
`;

/** Writes `section` where `re` matches in BENCHMARKS.md, or appends it; returns the file's path. */
export function recordSection(re: RegExp, section: string): string {
  const text = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, "utf8") : HEADER;
  // A function, so that `$` in a section is text, not a replacement pattern.
  const next = re.test(text) ? text.replace(re, () => section) : `${text.trimEnd()}\n\n${section}`;
  writeFileSync(BENCHMARKS_FILE, next.endsWith("\n") ? next : `${next}\n`);
  return BENCHMARKS_FILE;
}
