/**
 * ee-outliers use-case files, as sigmac's `ee-outliers` backend (NVISO) wrote them:
 *
 *   [simplequery_sigma_<Title-With-Dashes>]
 *   es_dsl_filter = {"query":{...}}          one-line JSON of the rule's query (src/emit/dsl.ts)
 *   es_index = winlogbeat-*                   the rule's index patterns, comma-separated (sigmac left
 *                                             it empty unless there was exactly one)
 *   outlier_type = Sigma hit, attack.defense_evasion, attack.t1140
 *   outlier_reason = Sigma hit - <title>
 *   outlier_summary = Sigma hit - <title>
 *   run_model = 1
 *   test_model = 0
 *
 * Any number of use cases per file. The text must read back exactly with Python's configparser as
 * ee-outliers uses it (`ConfigParser(interpolation=None)`: `%` is literal, no inline comments,
 * duplicate sections are an error; src/rules/eeoutliers/configparser.ts reads it the same way).
 * The `ini` npm package reads differently (it ends a value at `;` or `#`, turns `\\` into `\`,
 * and nests section names at `.`); the query and the section names are written so that it reads
 * them identically too, titles are left exact for Python. So:
 * - `%` is written as is (interpolation=None, as sigmac wrote it);
 * - in es_dsl_filter, `\`, `;` and `#` inside JSON strings are written as `\u005c`, `\u003b`,
 *   `\u0023`, and line-breaking characters (U+2028, U+2029, C1 controls) as `\uXXXX` (the same
 *   JSON value, and text both parsers read identically on one line);
 * - section names keep letters, digits, `_` and `-` (spaces become `-` as in sigmac, other
 *   characters `_`), and get `-2`, `-3`… when two rules share a title;
 * - line breaks in titles/tags become spaces; other values are one line by construction.
 */
import type { Rule } from "../ir/types.ts";
import { ruleQuery } from "./dsl.ts";

/**
 * What iniSafeJson rewrites: a JSON escape (kept, except `\\`), `;`, `#`, and characters some line
 * readers treat as line ends or that a JS `.` does not match (the `ini` package's line regex):
 * DEL, C1 controls (U+0085 NEL among them), U+2028, U+2029.
 */
const INI_UNSAFE = /\\[^]|[;#\u007f-\u009f\u2028\u2029]/g;

/** JSON text whose strings carry no `\`, `;` or `#` literally (see above). */
export function iniSafeJson(value: unknown): string {
  // In JSON text a backslash always starts an escape: `\\` (a literal backslash) becomes \u005c,
  // other escapes stay; `;`, `#` and line-breaking characters only occur inside strings.
  return JSON.stringify(value).replace(INI_UNSAFE, (m) =>
    m[0] === "\\" ? (m === "\\\\" ? "\\u005c" : m) : "\\u" + m.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\u007f-\u009f\u2028\u2029]+/g, " ").trim();
}

/** sigmac's name for a use case: the title with spaces as `-` and no parentheses, made ini-safe. */
export function useCaseBaseName(title: string): string {
  const name = oneLine(title)
    .replace(/ /g, "-")
    .replace(/[()]/g, "")
    .replace(/[^\p{L}\p{N}_-]/gu, "_")
    .replace(/-+/g, "-");
  return name || "untitled";
}

/** The section name of a rule: an ee-outliers use case keeps its own, a Sigma rule gets `simplequery_sigma_<name>`. */
export function sectionName(rule: Rule, taken: Set<string>): string {
  const own =
    rule.source.format === "simplequery" && rule.source.section?.startsWith("simplequery_")
      ? rule.source.section
      : undefined;
  const base = own ?? `simplequery_sigma_${useCaseBaseName(rule.title)}`;
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}`;
  taken.add(name.toLowerCase());
  return name;
}

/** One `[simplequery_…]` section. Throws EmitError (from the DSL emitter) when the query cannot be built. */
export function useCaseSection(rule: Rule, name: string): string {
  const filter = iniSafeJson({ query: ruleQuery(rule) });
  const lines = [
    `# ${oneLine(rule.id)}${rule.source.path ? ` (${oneLine(rule.source.path)})` : ""}`,
    `[${name}]`,
    `es_dsl_filter = ${filter}`,
    `es_index = ${oneLine(rule.index.join(","))}`,
    `outlier_type = ${oneLine(rule.tagsOut.type.join(", "))}`,
    `outlier_reason = ${oneLine(rule.tagsOut.reason)}`,
    `outlier_summary = ${oneLine(rule.tagsOut.summary)}`,
  ];
  if (rule.timeField && rule.timeField !== "@timestamp") lines.push(`timestamp_field = ${oneLine(rule.timeField)}`);
  if (rule.historyWindowHours !== undefined) {
    const h = rule.historyWindowHours;
    lines.push(`history_window_days = ${Math.floor(h / 24)}`, `history_window_hours = ${h % 24}`);
  }
  lines.push("run_model = 1", "test_model = 0");
  return lines.join("\n") + "\n";
}
