/**
 * `outliers doctor --index PATTERN [RULES]`: how the indices really index the fields the rules
 * read, and what that means for backfill. Live tagging reads `_source` and never depends on the
 * mapping; backfill's candidate query does, and widens where an index cannot answer exactly (see
 * "Mapping-aware emission" in src/emit/dsl.ts): tags stay exact, the run gets slower. Each finding
 * names the field, the indices, the rules and what to do. Read-only.
 */
import { isStringField } from "../../ir/semantics.ts";
import type { Field, Node, Rule } from "../../ir/types.ts";
import { describeIndexed, keywordPathOf, type FieldVariant, type IndexedField } from "../../emit/field-index.ts";
import type { Discovery } from "./field-discovery.ts";
import { ruleIdFields } from "./field-discovery.ts";

/** The matcher's keyword limit (values longer are absent to it). */
const MATCHER_IGNORE_ABOVE = 8191;

export type FindingKind =
  | "no-index"
  | "time-field"
  | "missing"
  | "not-indexed"
  | "text-only"
  | "ignore-above"
  | "type"
  | "conflict"
  | "tag-fields";

export interface Finding {
  kind: FindingKind;
  status: "ok" | "warn" | "fail";
  field?: string;
  /** null: every index of the pattern. */
  indices: string[] | null;
  detail: string;
  /** Ids of the rules reading the field (all of them, in rule-set order). */
  rules: string[];
  fix?: string;
}

export interface IndexReport {
  patterns: string[];
  indices: string[];
  rules: number;
  fields: number;
  findings: Finding[];
  /** false when backfill cannot run at all here (no index, no date time field). */
  ready: boolean;
}

/**
 * Fields a rule's condition and whitelist read, with the profile types the rules assume; `partial`:
 * some test on it is not a whole-value equality (substring, wildcard, regex, exists, …), which is
 * what a too-short ignore_above affects.
 */
export function ruleFields(rule: Rule): { field: Field; partial: boolean }[] {
  const out = new Map<string, { field: Field; partial: boolean }>();
  const add = (f: Field, partial: boolean) => {
    const e = out.get(f.name);
    if (e) e.partial ||= partial;
    else out.set(f.name, { field: f, partial });
  };
  const visit = (n: Node): void => {
    if (n.kind === "and" || n.kind === "or") n.children.forEach(visit);
    else if (n.kind === "not") visit(n.child);
    else if (n.kind === "const") return;
    else if (n.kind === "keyword") n.fields.forEach((f) => add(f, true));
    else {
      add(n.field, !(n.kind === "equals" || (n.kind === "number" && n.op === "eq")));
      if (n.kind === "fieldref") add(n.other, true);
    }
  };
  visit(rule.condition);
  if (rule.whitelist) visit(rule.whitelist);
  return [...out.values()];
}

/** What is wrong (for backfill) with one way of indexing a field the rules read, if anything. */
function judge(f: Field, v: IndexedField, partial = true): Omit<Finding, "indices" | "rules" | "field"> | undefined {
  switch (v.kind) {
    case "absent":
      return {
        kind: "missing",
        status: "ok",
        detail: "not mapped: no event here holds it (its predicates match nothing)",
      };
    case "unknown":
      return {
        kind: "not-indexed",
        status: "warn",
        detail: `${describeIndexed(v)}: events may hold it unindexed, so backfill cannot preselect on it (every event is a candidate)`,
        fix: "map the field (or enable dynamic mapping for its object) in the index template; existing indices need a reindex",
      };
    case "text":
      if (!v.sub && isStringField(f))
        return {
          kind: "text-only",
          status: "warn",
          detail:
            "text only, no keyword sub-field: exact, wildcard and regex tests cannot run on the index; backfill widens to 'the field exists'",
          fix: `add a keyword sub-field (e.g. "fields": {"keyword": {"type": "keyword", "ignore_above": ${MATCHER_IGNORE_ABOVE}}}) in the template; new indices get it, old ones need a reindex`,
        };
      break;
    case "typed":
      if (isStringField(f) && !v.sub)
        return {
          kind: "type",
          status: "warn",
          detail: `${describeIndexed(v)} where the rules compare text: backfill widens to 'the field exists'`,
          fix: "map it keyword (or add a keyword sub-field) in the template",
        };
      if (!isStringField(f) && v.type !== f.type)
        return {
          kind: "type",
          status: "warn",
          detail: `${describeIndexed(v)} where the rules assume ${f.type}: backfill widens to 'the field exists'`,
          fix: `map it ${f.type} in the template`,
        };
      break;
    case "keyword":
      if (!isStringField(f) && f.type !== "keyword")
        return {
          kind: "type",
          status: "warn",
          detail: `${describeIndexed(v)} where the rules assume ${f.type}: backfill cannot compare numbers/addresses on it and widens`,
          fix: `map it ${f.type} in the template`,
        };
      break;
  }
  const kw = keywordPathOf(v);
  if (kw && partial && isStringField(f) && kw.ignoreAbove < MATCHER_IGNORE_ABOVE)
    return {
      kind: "ignore-above",
      status: "warn",
      detail: `${describeIndexed(v)}: longer values are not indexed, so backfill also selects events whose value is too long to be indexed (tags exact, slower; an array mixing short and long values is the one case the index cannot see)`,
      fix: `raise ignore_above to ${MATCHER_IGNORE_ABOVE} in the template for new indices`,
    };
  return undefined;
}

export function indexReport(d: Discovery, patterns: string[], rules: Rule[], timeField: string): IndexReport {
  const findings: Finding[] = [];
  if (d.indices.length === 0) {
    findings.push({
      kind: "no-index",
      status: "fail",
      indices: null,
      detail: `${patterns.join(",")} matches no index or data stream`,
      rules: [],
      fix: "check the name (GET _cat/indices)",
    });
    return { patterns, indices: [], rules: rules.length, fields: 0, findings, ready: false };
  }
  const time = d.fields.variants(timeField);
  for (const v of time)
    if (!(v.field.kind === "typed" && v.field.type === "date"))
      findings.push({
        kind: "time-field",
        status: time.length === 1 ? "fail" : "warn",
        field: timeField,
        indices: v.indices,
        detail: `the time field is ${describeIndexed(v.field)}, not a date: a backfill window selects nothing there`,
        rules: [],
        fix: "pass the right --time-field (e.g. event.created), or map it date",
      });
  const readers = new Map<string, { field: Field; partial: boolean; rules: string[] }>();
  for (const r of rules)
    for (const { field: f, partial } of ruleFields(r)) {
      const e = readers.get(f.name) ?? { field: f, partial: false, rules: [] };
      e.rules.push(r.id);
      e.partial ||= partial;
      readers.set(f.name, e);
    }
  for (const [name, { field, partial, rules: ids }] of readers) {
    const vs: FieldVariant[] = d.fields.variants(name);
    if (
      vs.length > 1 &&
      new Set(vs.map((v) => (v.field.kind === "absent" ? "absent" : describeIndexed(v.field)))).size > 1 &&
      vs.some((v) => v.field.kind !== "absent")
    )
      findings.push({
        kind: "conflict",
        status: "warn",
        field: name,
        indices: null,
        detail: `indexed differently across the indices: ${vs.map((v) => `${describeIndexed(v.field)} in ${v.indices!.length} index(es)`).join("; ")}; backfill compiles it per index`,
        rules: ids,
        fix: "align the index template; old indices keep their mapping until reindexed",
      });
    for (const v of vs) {
      const j = judge(field, v.field, partial);
      if (j && j.kind !== "missing") findings.push({ ...j, field: name, indices: v.indices, rules: ids });
    }
    if (vs.every((v) => v.field.kind === "absent"))
      findings.push({ ...judge(field, { kind: "absent" })!, field: name, indices: null, rules: ids });
  }
  const ids = ruleIdFields(d);
  for (const f of ids)
    if (f.field !== "outliers.rule_id")
      findings.push({
        kind: "tag-fields",
        status: "ok",
        field: "outliers.rule_id",
        indices: f.indices,
        detail: `tag fields mapped as ee-outliers left them (text + ${f.field}): backfill and untag count on ${f.field}`,
        rules: [],
      });
  return {
    patterns,
    indices: d.indices,
    rules: rules.length,
    fields: readers.size,
    findings,
    ready: !findings.some((f) => f.status === "fail"),
  };
}

/** Per index, the template that shapes its mapping (undefined: none), when the caller looked them up. */
export type IndexTemplates = Map<string, { kind: string; name: string } | undefined>;

/**
 * The fix of a group, with "the template" made concrete: the template(s) that shape those indices,
 * or, where none does (a dynamic mapping), what to do instead.
 */
function fixFor(fix: string, indices: string[], templates?: IndexTemplates): string {
  if (!templates || !/\btemplate\b/.test(fix)) return fix;
  const named = [
    ...new Set(
      indices.flatMap((ix) => {
        const t = templates.get(ix);
        return t ? [`${t.kind} ${t.name}`] : [];
      }),
    ),
  ];
  const bare = indices.filter((ix) => !templates.get(ix));
  const parts: string[] = [];
  if (named.length) parts.push(fix.replace(/\bthe (index )?template\b/, named.join(", ")));
  if (bare.length)
    parts.push(
      `${bare.length === indices.length ? "" : `for ${bare.length} index(es) no template applies: `}no index template matches ${bare.length > 3 ? `${bare.slice(0, 3).join(", ")} and ${bare.length - 3} more` : bare.join(", ")} (the mapping is dynamic, so there is no template to change): create one for them (PUT _index_template/NAME with index_patterns matching them) and in it ${fix.replace(/ in the (index )?template\b/, "")}; new indices get it, existing ones keep their mapping until reindexed`,
    );
  return parts.join("; ");
}

/**
 * The report as lines: one grouped finding per kind of problem (with its field list, the indices and
 * the rules), problems first, the "missing" fields summed up in one line.
 */
export function formatIndexReport(r: IndexReport, templates?: IndexTemplates): string {
  const lines = [
    `indices: ${r.patterns.join(",")} -> ${r.indices.length} index(es)${r.indices.length ? ` (${r.indices.slice(0, 5).join(", ")}${r.indices.length > 5 ? ", …" : ""})` : ""}; ${r.rules} rule(s) read ${r.fields} field(s)`,
  ];
  const listOf = (xs: string[], max: number) =>
    xs.length > max ? `${xs.slice(0, max).join(", ")} and ${xs.length - max} more` : xs.join(", ");
  const missing = r.findings.filter((f) => f.kind === "missing");
  const rank = (s: Finding["status"]) => (s === "fail" ? 0 : s === "warn" ? 1 : 2);
  const groups = new Map<string, Finding[]>();
  for (const f of r.findings.filter((x) => x.kind !== "missing")) {
    const key = `${f.status}\u0000${f.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const fs of [...groups.values()].sort((a, b) => rank(a[0]!.status) - rank(b[0]!.status))) {
    const f = fs[0]!;
    const fields = [...new Set(fs.flatMap((x) => (x.field ? [x.field] : [])))];
    const indices = [...new Set(fs.flatMap((x) => x.indices ?? r.indices))].sort();
    const rules = new Set(fs.flatMap((x) => x.rules));
    if (fs.length === 1) {
      lines.push(
        `[${f.status}] ${f.kind}: ${f.field ?? ""}${f.indices ? ` in ${listOf(f.indices, 3)}` : ""}: ${f.detail}${rules.size ? ` [${rules.size} rule(s): ${listOf([...rules], 3)}]` : ""}`,
      );
    } else {
      lines.push(
        `[${f.status}] ${f.kind}: ${fields.length} field(s) in ${indices.length} index(es), read by ${rules.size} rule(s): e.g. ${f.field}: ${f.detail}`,
        `       fields: ${fields.join(", ")}`,
        `       indices: ${listOf(indices, 5)}`,
      );
    }
    const fixes = [...new Set(fs.flatMap((x) => (x.fix ? [x.fix] : [])))];
    for (const fix of fixes) lines.push(`       fix: ${fixFor(fix, indices, templates)}`);
  }
  if (missing.length)
    lines.push(
      `[ok] ${missing.length} field(s) the rules read are mapped in no index (no event holds them; their predicates match nothing), e.g. ${missing
        .slice(0, 3)
        .map((f) => f.field)
        .join(", ")}`,
    );
  lines.push(
    r.ready
      ? "backfill can run here (widened fields make it slower, never less exact)"
      : "backfill cannot run here: fix the [fail] lines first",
  );
  return lines.join("\n");
}
