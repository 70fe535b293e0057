/**
 * A local scan: events through the JavaScript matcher and tagger (src/emit/js), no cluster. Each
 * event first goes through `setAside` (the twin of the pipeline's set-aside processor, which runs on
 * every event before the tagger: an own scalar `outliers`/`threat`/`threat.technique` or object
 * `tags` moves to `outliers_original`), then gets exactly the tags the live pipeline would write; the run counts hits per rule and per
 * ATT&CK technique, and hands each tagged event to the caller (for `--json`).
 */
import type { Rule } from "../ir/types.ts";
import { Matcher } from "../emit/js/matcher.ts";
import type { GuardCosts } from "../emit/match-plan/index-keys.ts";
import { tagEvent, tagSet, type TagSet } from "../emit/js/tagger.ts";
import { setAside } from "../emit/js/set-aside.ts";
import type { LocalEvent } from "./events.ts";
import { emptyCounts, LEVELS, levelOf, type Level, type LevelCounts } from "../rules/select.ts";

export interface ScanCounts {
  events: number;
  /** Documents that could not be read (file:line: reason). */
  unreadable: { where: string; error: string }[];
  /** Events that got at least one new rule. */
  matched: number;
  /** (event, rule) pairs. */
  pairs: number;
  /** Events with an `outliers.error` entry from this run. */
  errored: number;
  /** Hits per rule, indexed as `Scanner.rules`. */
  perRule: number[];
  /** Per technique id: events tagged with it and the rules that brought it. */
  perTechnique: Map<string, { events: number; rules: Set<string> }>;
  /** Per level: (event, rule) hits of rules of that level, and events whose highest new level it is. */
  perLevel: { hits: LevelCounts; events: LevelCounts };
}

export interface ScannedEvent {
  event: LocalEvent;
  /** The event with its tags (undefined for an unreadable document). */
  doc?: Record<string, unknown>;
  /** Ids of the rules the event matched, in rule-set order. */
  ruleIds: string[];
  /** The same rules (indices into `Scanner.rules`). */
  ruleIndices?: number[];
  errors: string[];
}

export class Scanner {
  readonly matcher: Matcher;
  readonly tags: TagSet;
  counts: ScanCounts;
  private readonly ruleList: Rule[];

  constructor(rules: Rule[], opts: { guardCosts?: GuardCosts } = {}) {
    this.matcher = new Matcher(rules, opts);
    this.ruleList = this.matcher.rules.map((r) => r.rule);
    this.tags = tagSet(this.rules);
    this.counts = emptyScanCounts(this.rules.length);
  }

  /** The counts since the last call (or the start), and a fresh start: one batch's share. */
  takeCounts(): ScanCounts {
    const c = this.counts;
    this.counts = emptyScanCounts(this.rules.length);
    return c;
  }

  /** The rules that run (in rule-set order); `matcher.skipped` lists the others. */
  get rules(): Rule[] {
    return this.ruleList;
  }

  /** Matches and tags one event (in place) and counts it. */
  scan(event: LocalEvent): ScannedEvent {
    const c = this.counts;
    if (!event.doc) {
      c.unreadable.push({ where: `${event.file}:${event.line}`, error: event.error ?? "unreadable" });
      return { event, ruleIds: [], errors: [] };
    }
    c.events++;
    const doc = event.doc;
    setAside(doc);
    const { hits, errors } = this.matcher.match(doc);
    const errs = errors.map((e) => `${this.tags.meta[e.rule]![0]}: ${e.message}`);
    const before = new Set(existingRuleIds(doc));
    tagEvent(doc, this.tags, hits, errs);
    const fresh = hits.filter((ri) => !before.has(this.tags.meta[ri]![0]));
    if (fresh.length) c.matched++;
    if (errs.length) c.errored++;
    c.pairs += fresh.length;
    const techs = new Set<string>();
    const rules = this.ruleList;
    let top: Level | undefined;
    for (const ri of fresh) {
      c.perRule[ri]!++;
      const level = levelOf(rules[ri]!);
      c.perLevel.hits[level ?? "none"]++;
      if (level && (!top || LEVELS.indexOf(level) > LEVELS.indexOf(top))) top = level;
      for (const t of this.tags.meta[ri]![6]) {
        techs.add(t);
        let e = c.perTechnique.get(t);
        if (!e) c.perTechnique.set(t, (e = { events: 0, rules: new Set() }));
        e.rules.add(this.tags.meta[ri]![0]);
      }
    }
    for (const t of techs) c.perTechnique.get(t)!.events++;
    if (fresh.length) c.perLevel.events[top ?? "none"]++;
    return {
      event,
      doc,
      ruleIds: fresh.map((ri) => this.tags.meta[ri]![0]),
      ruleIndices: fresh,
      errors: errs,
    };
  }
}

export function emptyScanCounts(rules: number): ScanCounts {
  return {
    events: 0,
    unreadable: [],
    matched: 0,
    pairs: 0,
    errored: 0,
    perRule: new Array(rules).fill(0),
    perTechnique: new Map(),
    perLevel: { hits: emptyCounts(), events: emptyCounts() },
  };
}

/** Adds `from` (the counts of later events) to `into`; unreadable documents stay in order. */
export function mergeCounts(into: ScanCounts, from: ScanCounts): void {
  into.events += from.events;
  for (const u of from.unreadable) into.unreadable.push(u);
  into.matched += from.matched;
  into.pairs += from.pairs;
  into.errored += from.errored;
  for (let i = 0; i < from.perRule.length; i++) into.perRule[i] = (into.perRule[i] ?? 0) + from.perRule[i]!;
  for (const [t, e] of from.perTechnique) {
    const mine = into.perTechnique.get(t);
    if (!mine) into.perTechnique.set(t, { events: e.events, rules: new Set(e.rules) });
    else {
      mine.events += e.events;
      for (const r of e.rules) mine.rules.add(r);
    }
  }
  for (const k of Object.keys(from.perLevel.hits) as (keyof LevelCounts)[]) {
    into.perLevel.hits[k] += from.perLevel.hits[k];
    into.perLevel.events[k] += from.perLevel.events[k];
  }
}

function existingRuleIds(doc: Record<string, unknown>): string[] {
  const o = doc.outliers as Record<string, unknown> | undefined;
  if (!o || typeof o !== "object") return [];
  const ids = o.rule_id;
  return Array.isArray(ids) ? ids.map(String) : ids === undefined || ids === null ? [] : [String(ids)];
}
