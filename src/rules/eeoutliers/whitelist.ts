/**
 * ee-outliers whitelists as one representation node (`Rule.whitelist`), applied identically live
 * and in backfill.
 *
 * ee-outliers checks an entry against every value of the event AND of the outlier it would add
 * (type, reason, summary, model name/type, extra keys). The representation names fields, so:
 * - values of the outlier are known when compiling: a part equal to one of them always matches
 *   (the summary with `{field}` placeholders too: the placeholder field must hold the rest);
 * - values of the event are searched in the profile's keyword fields (`keywordFields({})`) plus
 *   every field the use case's query references, string-typed fields only (a string compared
 *   with a number field cannot match the way ee-outliers compares `str(value)`).
 * A literal part matches a value exactly (case-sensitive); a regexp part is Python `re.match`,
 * i.e. anchored at the start and case-insensitive: `^(?:part)` with flag `i`.
 */
import { and, FALSE, forEachPredicate, or, TRUE } from "../../ir/build.ts";
import type { Field, Node, Predicate } from "../../ir/types.ts";
import type { Profile } from "../../mapping/profile.ts";
import { resolveField, searchFields } from "./fields.ts";
import type { UseCaseSpec, WhitelistEntry } from "./read.ts";

/** Fields a whitelist searches for a rule with this condition. */
export function whitelistFields(profile: Profile, condition: Node, summary: string): Field[] {
  const byName = new Map<string, Field>();
  const add = (f: Field) => {
    if ((f.type === "keyword" || f.type === "text") && !byName.has(f.name)) byName.set(f.name, f);
  };
  searchFields(profile).forEach(add);
  forEachPredicate(condition, (p: Predicate) => {
    if ("field" in p) add(p.field);
    if ("fields" in p) p.fields.forEach(add);
    if (p.kind === "fieldref") add(p.other);
  });
  for (const name of placeholders(summary)) add(resolveField(profile, name).field);
  return [...byName.values()];
}

export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
}

export function whitelistNode(
  entries: WhitelistEntry[],
  spec: UseCaseSpec,
  fields: Field[],
  profile: Profile,
): Node | undefined {
  if (entries.length === 0) return undefined;
  const constants = new Set<string>([
    ...spec.types,
    spec.reason.trim(),
    spec.modelName,
    "simplequery",
    ...Object.values(spec.extra).map((v) => v.trim()),
  ]);
  const summaryHasFields = placeholders(spec.summary).length > 0;
  if (!summaryHasFields) constants.add(spec.summary.trim());

  const node = or(
    entries.map((e) =>
      and(
        e.parts.map((part) => {
          if (e.kind === "regexp") {
            const pattern = `^(?:${part})`;
            const anyField = or(
              fields.map(
                (field) =>
                  ({ kind: "regex", field, regex: { pattern, flags: { i: true, m: false, s: false } } }) as Node,
              ),
            );
            // The outlier's own constant values can match the regexp too.
            const rx = safeRegExp(pattern);
            const constHit = rx !== undefined && [...constants].some((c) => rx.test(c));
            return constHit ? TRUE : anyField;
          }
          if (constants.has(part)) return TRUE;
          const viaSummary = summaryHasFields ? summaryEquals(spec.summary, part, profile) : FALSE;
          return or([{ kind: "keyword", fields, parts: [{ lit: part }], cased: true }, viaSummary]);
        }),
      ),
    ),
  );
  return node;
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, "i");
  } catch {
    return undefined;
  }
}

/**
 * The summary, with its placeholders expanded, equals `literal`: for a template with one
 * placeholder `pre{f}post`, field f equals the middle part. With several placeholders the split
 * is ambiguous; those parts are not matched against the summary (documented).
 */
function summaryEquals(template: string, literal: string, profile: Profile): Node {
  const names = placeholders(template);
  if (names.length !== 1) return FALSE;
  const i = template.indexOf(`{${names[0]}}`);
  const pre = template.slice(0, i);
  const post = template.slice(i + names[0]!.length + 2);
  if (literal.length < pre.length + post.length || !literal.startsWith(pre) || !literal.endsWith(post)) return FALSE;
  const middle = literal.slice(pre.length, literal.length - post.length);
  const rf = resolveField(profile, names[0]!);
  if (rf.field.type !== "keyword" && rf.field.type !== "text") return FALSE;
  return { kind: "equals", field: rf.field, value: middle, cased: true };
}
