/**
 * A mapping profile says how Sigma's field names and logsources become index fields, index patterns
 * and guard conditions, and which index type each field has. Profiles: `winlogbeat` (default),
 * `ecs`, or a sigmac-style mapping YAML file (see src/mapping/index.ts for `loadProfile`).
 */
import type { Field, Node } from "../ir/types.ts";

/** A Sigma logsource as written in a rule. */
export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
}

export type Resolved<T> = T | { unsupported: string };

export function isUnsupported<T>(r: Resolved<T>): r is { unsupported: string } {
  return typeof r === "object" && r !== null && "unsupported" in (r as object);
}

export interface LogsourceTarget {
  /** Index patterns the rule's events live in, e.g. ["winlogbeat-*"]. */
  index: string[];
  /** Conditions every event of this logsource meets (channel, event ids); TRUE when none. */
  guard: Node;
  /**
   * The same guard as data, for emitters that index rules by channel/event id (optional; absent
   * when the guard is not a plain channel/event-id test, e.g. sigmac `conditions` or no guard).
   * The guard is the OR over these sources of (channel in `channels` AND event id in `eventIds`).
   */
  sources?: { label: string; channels: string[]; eventIds?: number[] }[];
  /**
   * Present when the logsource's sources name some Sigma field differently (process_creation: Sysmon 1
   * `Image`, Security 4688 `NewProcessName`): one view per source, with its own guard and field names.
   * A rule compiles to the OR over sources of (guard AND the detection under that source's names), so a
   * rename applies only to its own source's events (and `not` stays right); see src/rules/sigma/convert.ts.
   */
  bySource?: SourceView[];
}

/** One source of a logsource: its guard, and the index fields it names each Sigma field by. */
export interface SourceView {
  label: string;
  guard: Node;
  field(sigmaField: string): Resolved<Field[]>;
  keywordFields(): Field[];
}

export interface Profile {
  name: string;
  /** The time field backfill windows use. */
  timeField: string;
  /** Index patterns and guard conditions for a logsource. */
  logsource(ls: Logsource): Resolved<LogsourceTarget>;
  /**
   * The index field (with its type) for a Sigma field name under a logsource; category-specific
   * renames (e.g. process_creation on Security 4688: Image -> NewProcessName) are applied here.
   * May return several fields when the logsource spans sources that name the field differently
   * (Sysmon 1 `Image` / Security 4688 `NewProcessName`), or when one Sigma field is a list of
   * unnamed values (`Data` -> `param1`..`paramN`). The caller tests each value predicate on every
   * returned field and ORs the results; for `exists: false` (Sigma `null`) it ANDs them instead
   * (none of the fields present). Renamed alternatives never occur together in one event, so this
   * is exact per source.
   */
  field(sigmaField: string, ls: Logsource): Resolved<Field[]>;
  /**
   * The fields a Sigma keyword (a value with no field) searches, for a logsource: a fixed list, so
   * the query DSL and Painless emitters expand over exactly the same fields.
   */
  keywordFields(ls: Logsource): Field[];
  /**
   * The type a field name has in this profile's index template, for fields that reach the
   * representation without going through `field()` (ee-outliers queries name index fields directly).
   */
  fieldType(indexField: string): Field;
  /**
   * What an index key on a logsource guard field costs the live matcher, per index field name: roughly
   * the percent of a source's events holding the key (the channel and provider carry every event of a
   * source, an event id most of one). Fields not named are rare values. The Painless and JavaScript
   * matchers key a rule by its guard only when every other choice costs more (see
   * src/emit/match-plan/index-keys.ts).
   */
  guardCosts: Readonly<Record<string, number>>;
  /**
   * An index template body (mappings and settings) giving every field the type this profile
   * assumes; tests and the demo create their indices with it.
   *
   * Contract with the Painless side: keyword fields have `ignore_above: 8191` (Lucene's 32,766-byte
   * term limit / 4), so a string longer than 8191 UTF-16 code units (Java/JS/Painless `length()`) is
   * not indexed and matches no keyword predicate (equals, prefix, suffix, contains, wildcard, regex,
   * keyword, and not `exists` either: measured on 7.10, see test/integration/mapping.test.ts) by a
   * query; the matchers (live, backfill's script, scan) read `_source` and see it (issue 17 item 2).
   * `ip` fields carry a `keyword` sub-field (Field.keywordSubfield) holding the value as sent,
   * malformed addresses (`-`, hex blobs) included; the ip field itself ignores malformed values
   * (`ignore_malformed`), so queries on the ip field (cidr) see them as absent.
   */
  indexTemplate(): { settings?: Record<string, unknown>; mappings: Record<string, unknown> };
}
