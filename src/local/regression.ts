/**
 * SigmaHQ's regression layout (`outliers test --regression DIR`): every folder holding an `info.yml`
 * is a case naming the rule(s) it tests (`rule_metadata[].id`) and its event files
 * (`regression_tests_info[].path`, with an optional `match_count`). The event file is looked up
 * beside info.yml by its name; the evtx JSON export of the same name is read when present (the JSON
 * is the .evtx exported record by record). A case passes when each of its rules matches, in each
 * event file, at least `match_count` events (at least one when no count is given).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { InputError } from "../util/errors.ts";
import { readEvents } from "./events.ts";

export interface RegressionFile {
  /** The test's name in info.yml. */
  name: string;
  file: string;
  /** Events the rule must match at least in the file (undefined: one). */
  matchCount?: number;
  /** The file's events (winlogbeat shape), or why they could not be read. */
  docs: Record<string, unknown>[];
  errors: string[];
}

export interface RegressionCase {
  dir: string;
  info: string;
  ruleIds: { id: string; title?: string }[];
  files: RegressionFile[];
  /** Why the case itself could not be read. */
  error?: string;
}

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.isFile() && e.name === "info.yml")) out.push(dir);
  for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), out);
}

function readFile(name: string, file: string, matchCount: number | undefined): RegressionFile {
  const docs: Record<string, unknown>[] = [];
  const errors: string[] = [];
  try {
    for (const e of readEvents([file])) {
      if (e.doc) docs.push(e.doc);
      else errors.push(`${file}:${e.line}: ${e.error}`);
    }
  } catch (e) {
    errors.push((e as Error).message);
  }
  return { name, file, matchCount, docs, errors };
}

/** The event file a test names: the JSON export beside info.yml when there is one, else the file itself. */
function eventFile(dir: string, named: string): string | undefined {
  const base = path.basename(named);
  const stem = base.replace(/\.[^.]+$/, "");
  for (const candidate of [path.join(dir, `${stem}.json`), path.join(dir, base)])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

export function readCase(dir: string): RegressionCase {
  const info = path.join(dir, "info.yml");
  const c: RegressionCase = { dir, info, ruleIds: [], files: [] };
  let meta: any;
  try {
    meta = parseYaml(readFileSync(info, "utf8"));
  } catch (e) {
    c.error = `${info}: ${(e as Error).message.split("\n")[0]}`;
    return c;
  }
  const rules = Array.isArray(meta?.rule_metadata) ? meta.rule_metadata : [];
  c.ruleIds = rules
    .filter((r: any) => r && typeof r.id === "string")
    .map((r: any) => ({ id: r.id, ...(typeof r.title === "string" ? { title: r.title } : {}) }));
  if (c.ruleIds.length === 0) {
    c.error = `${info}: rule_metadata names no rule id`;
    return c;
  }
  const tests = Array.isArray(meta?.regression_tests_info) ? meta.regression_tests_info : [];
  if (tests.length === 0) {
    // No test list: every JSON file of the folder, each to be hit at least once.
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .sort())
      c.files.push(readFile(f, path.join(dir, f), undefined));
  }
  tests.forEach((t: any, i: number) => {
    const name = typeof t?.name === "string" ? t.name : `test ${i + 1}`;
    const count = t?.match_count;
    if (count !== undefined && !(Number.isInteger(count) && count >= 0)) {
      c.files.push({
        name,
        file: info,
        docs: [],
        errors: [`${info}: regression_tests_info[${i}].match_count ${JSON.stringify(count)} is not a count`],
      });
      return;
    }
    if (typeof t?.path !== "string") {
      c.files.push({ name, file: info, docs: [], errors: [`${info}: regression_tests_info[${i}] has no path`] });
      return;
    }
    const file = eventFile(dir, t.path);
    if (!file) {
      c.files.push({
        name,
        file: path.join(dir, path.basename(t.path)),
        docs: [],
        errors: [
          `${info}: regression_tests_info[${i}].path: ${path.basename(t.path)} (or its .json export) not found beside info.yml`,
        ],
      });
      return;
    }
    c.files.push(readFile(name, file, count));
  });
  if (c.files.length === 0) c.error = `${info}: no event file`;
  return c;
}

/** Every case under `root` (folders holding an info.yml), in path order. */
export function readRegression(root: string): RegressionCase[] {
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new InputError(root, "no such folder");
  }
  if (!st.isDirectory())
    throw new InputError(root, "is not a folder (expected SigmaHQ's regression layout: folders with info.yml)");
  const dirs: string[] = [];
  walk(root, dirs);
  return dirs.map(readCase);
}
