/**
 * The rule representation: the one thing every emitter sees.
 *
 * Sigma rules and ee-outliers use cases are both compiled into a `Rule`: metadata plus one boolean
 * tree (`Node`) over field predicates. Field names in the tree are already resolved to index fields
 * by a mapping profile (src/mapping), and each predicate carries the field's index type, so that
 * the query DSL emitter (src/emit/dsl.ts) and the Painless emitter (src/emit/painless) can give the
 * same answer for the same indexed document.
 *
 * Matching semantics that every emitter must follow (the DSL is the reference):
 * - string predicates compare against the field's value as indexed in a `keyword` field: numbers and
 *   booleans in the source are compared as their JSON text ("1", "true"); case-insensitive unless
 *   `cased` is true;
 * - a field holding an array matches when any element matches;
 * - a missing field or a null value matches nothing except `exists: false`;
 * - dotted field names address nested objects and literal dotted keys alike.
 */

import type { Correlation } from "./correlation.ts";
import type { RuleLocation } from "./errors.ts";

/** Index types a mapping profile can give a field. */
export type FieldType = "keyword" | "text" | "ip" | "long" | "double" | "boolean" | "date";

export interface Field {
  /** Index field name, e.g. `winlog.event_data.Image`. */
  name: string;
  type: FieldType;
  /**
   * For `text` fields: the sub-field that holds the whole value as a keyword (usually `keyword`),
   * which exact, wildcard and regex predicates query. Absent for other types.
   */
  keywordSubfield?: string;
}

/** One piece of a wildcard pattern: literal text, `*` (any run of characters) or `?` (one character). */
export type WildcardPart = { lit: string } | { any: true } | { one: true };

/** A regular expression as Sigma writes it (PCRE-like, unanchored search) with its flags. */
export interface RegexValue {
  pattern: string;
  /** `i` case-insensitive, `m` multi-line anchors, `s` dot matches newline. */
  flags: { i: boolean; m: boolean; s: boolean };
}

export type Predicate =
  /** Whole value equals `value` (string comparison on the keyword value). */
  | { kind: "equals"; field: Field; value: string; cased: boolean }
  /** Numeric/boolean equality on a numeric or boolean field (EventID 1 matches 1 and "1"). */
  | { kind: "number"; field: Field; op: "eq" | "gt" | "gte" | "lt" | "lte"; value: number }
  | { kind: "contains"; field: Field; value: string; cased: boolean }
  | { kind: "prefix"; field: Field; value: string; cased: boolean }
  | { kind: "suffix"; field: Field; value: string; cased: boolean }
  /** Whole value matches a pattern with `*` and `?` wildcards. */
  | { kind: "wildcard"; field: Field; parts: WildcardPart[]; cased: boolean }
  /** Unanchored regular expression search in the value. */
  | { kind: "regex"; field: Field; regex: RegexValue }
  /** IP address in an IPv4 or IPv6 network, e.g. `10.0.0.0/8`, `fe80::/10`. */
  | { kind: "cidr"; field: Field; cidr: string }
  /** The field is present with a non-null value (`exists: true`), or absent/null (`exists: false`). */
  | { kind: "exists"; field: Field; exists: boolean }
  /** Two fields hold the same value (Sigma `fieldref`). */
  | { kind: "fieldref"; field: Field; other: Field; cased: boolean }
  /**
   * A value with no field name (Sigma keyword lists): matches when any of `fields` matches the
   * wildcard pattern. The mapping profile fixes the list of fields searched.
   */
  | { kind: "keyword"; fields: Field[]; parts: WildcardPart[]; cased: boolean };

export type Node =
  | { kind: "and"; children: Node[] }
  | { kind: "or"; children: Node[] }
  | { kind: "not"; child: Node }
  /** Constant truth value, e.g. an empty `1 of` or a simplified branch. */
  | { kind: "const"; value: boolean }
  | Predicate;

/** Where a rule came from. */
export interface RuleSource {
  format: "sigma" | "simplequery";
  /** File path as given on the command line (relative where possible). */
  path: string;
  /** For ee-outliers: the `[simplequery_…]` section name. For Sigma: the document index in the file. */
  section?: string;
}

/** What a matching event is tagged with (ee-outliers layout, see docs/contract.md). */
export interface OutlierTags {
  /** `outliers.type` entries, e.g. ["Sigma hit", "attack.defense_evasion", "attack.t1140"]. */
  type: string[];
  /** `outliers.reason`, e.g. "Sigma hit - <title>". May hold `{field}` placeholders. */
  reason: string;
  /** `outliers.summary`, with ee-outliers `{field}` placeholders expanded at tagging time. */
  summary: string;
  /** `outliers.model_name`. */
  modelName: string;
  /** `outliers.model_type`. */
  modelType: "sigma" | "simplequery";
  /** ATT&CK technique ids from `attack.tNNNN[.NNN]` tags, e.g. ["T1140"]. */
  techniques: string[];
  /** Extra ee-outliers keys copied under `outliers.` (e.g. a use case's custom fields). */
  extra: Record<string, string>;
}

export interface Rule {
  /** Sigma id, or the ee-outliers section name. Unique within a compiled rule set. */
  id: string;
  /** Sigma `name`, by which correlation rules may reference the rule. */
  name?: string;
  title: string;
  description?: string;
  status?: string;
  level?: string;
  author?: string;
  references: string[];
  falsepositives: string[];
  tags: string[];
  /** The Sigma logsource as written (product/category/service), for reports and guards. */
  logsource: { product?: string; category?: string; service?: string };
  source: RuleSource;
  /** Index patterns the rule applies to (from the logsource via the profile, or `es_index`). */
  index: string[];
  /** Time field for backfill windows. */
  timeField: string;
  /** Default backfill window in hours, from ee-outliers `history_window_*`, if any. */
  historyWindowHours?: number;
  /** The detection, logsource guards included. Field names are index fields. */
  condition: Node;
  /**
   * The events this rule must never tag (ee-outliers whitelists), applied live and in backfill
   * alike. Absent when there is none.
   */
  whitelist?: Node;
  /**
   * When the condition cannot be evaluated at ingest time (e.g. an ee-outliers query using a
   * construct the representation does not hold), the original query, used for backfill only.
   */
  backfillOnlyQuery?: unknown;
  /** Why the rule cannot run live; set together with `backfillOnlyQuery`. */
  liveUnsupported?: string;
  tagsOut: OutlierTags;
  /** Sigma filters applied to the condition (src/rules/sigma/filters.ts); part of the rule's digest. */
  filters?: Array<{ id?: string; title: string; path: string }>;
  /**
   * Set on a Sigma correlation rule (src/ir/correlation.ts): it tags the events of firing windows,
   * never a single event (its `condition` is false; `loadRuleSet` keeps it away from the emitters).
   */
  correlation?: Correlation;
}

/** The outcome of compiling one rule document. */
export type CompileResult =
  | { status: "ok"; rule: Rule; warnings?: string[] }
  | {
      status: "error" | "unsupported";
      id?: string;
      title?: string;
      path: string;
      /** The message, starting with its location as `locatedMessage` prints it (src/ir/errors.ts). */
      error: string;
      /** Where the problem is, when the reader knows it. */
      location?: RuleLocation;
    };
