/**
 * The compiled rules as compact `params` for the fixed Painless matcher (src/emit/painless/matcher.painless). Nothing here
 * reaches script source. Layout of the params object (keys: PARAM in layout.ts):
 *
 *   f   fields:  [[sourcePath, typeCode, ignoreAbove], …]      typeCode: see TYPE
 *   r   rules:   [[condition, whitelist|null], …]             nodes below
 *   m   meta:    [[id, type, reason, summaryParts, modelName, modelType, techniques, extras|null], …]
 *   xk  every extra `outliers.` key of the set (keeps extra lists aligned with rule_id)
 *   a   rules that are candidates for every event (no index key)
 *   dk  index dimensions [[fieldIdx, mode], …] ([fieldIdx, 3, gramLength(, 1 when every key holds a
 *       non-ASCII character)] for grams)   mode 0 folded value, 1 folded base name after the
 *       last `\`, 2 integer value of a long field, 3 folded value contains the key (a gram)
 *   dm  per dimension: {key: [ruleIdx, …]}
 *   dg  per dimension: every rule of a gram dimension (mode 3), the candidates of a value longer
 *       than gl (GRAM_SCAN_LIMIT) characters; empty for the other modes
 *   dp  per source path: the dimensions on it, {path: [dimIdx, …]} (the event's fields select them)
 *   gf  a 65,536-bit filter of every gram key (gramHash), 8 bits per character: the matcher looks a
 *       gram up only when its bit is set
 *   gl  GRAM_SCAN_LIMIT
 *   x   regex programs (src/ir/regex), referenced by index
 *   mc  number of memo slots: a compound subtree that occurs more than once in the set (the logsource
 *       guards, shared by hundreds of rules) becomes [MEMO, slot, node], evaluated once per event
 *
 * Every code and key above is named once in layout.ts (OP, VIEW, CMP, MODE, DIM, PARAM, FIELD, META),
 * the table the Painless files take their names from.
 *
 * The parts: encode-nodes.ts (match ops → op-code lists, `f`, `r`, `x`, `mc`), ../match-plan/index-keys.ts
 * (the keys, grams and their cost model: `a`, `dk`, `dm`, `dg`, `dp`, `gf`), ../match-plan/rule-meta.ts (`m`). This file
 * puts them together.
 */
import type { Rule } from "../../ir/types.ts";
import { RuleError } from "../../ir/errors.ts";
import { DEFAULT_IGNORE_ABOVE } from "../match-plan/ops.ts";
import { lowerNode, type PlanNode } from "../match-plan/lower.ts";
import { Encoder, memoize, stringView, type Enc } from "./encode-nodes.ts";
import { countGrams, GRAM_SCAN_LIMIT, gramFilter, indexKeys, type GuardCosts } from "../match-plan/index-keys.ts";
import { MODE, TYPE } from "./layout.ts";
import { ruleMeta } from "../match-plan/rule-meta.ts";

export interface Params {
  f: [string, number, number][];
  r: [Enc, Enc | null][];
  m: unknown[][];
  xk: string[];
  a: number[];
  dk: ([number, number] | [number, 3, number] | [number, 3, number, 1])[];
  dm: Record<string, number[]>[];
  dg: number[][];
  dp: Record<string, number[]>;
  gf: string;
  gl: number;
  x: unknown[];
  mc: number;
}

export interface EncodeOptions {
  ignoreAbove?: number;
  /** The mapping profile's guard field costs (Profile.guardCosts), for the index-key choice. */
  guardCosts?: GuardCosts;
}

export interface Encoded {
  params: Params;
  /** Rules encoded, in params order. */
  rules: Rule[];
  /** Rules left out, with the reason. */
  skipped: { id: string; reason: string }[];
}

/** Why a rule is skipped before it is lowered: not live by its reader, or a second rule of the same id. */
function skipReason(rule: Rule, seen: Set<string>): string | undefined {
  if (rule.liveUnsupported) return rule.liveUnsupported;
  if (seen.has(rule.id)) return "duplicate rule id";
  return undefined;
}

/**
 * The rules encodeRules keeps and skips, with the same reasons, without encoding them: lowering
 * only (the first refusal in the condition, then in the whitelist, as the encoder meets it).
 */
export function liveRules(rules: Rule[]): { rules: Rule[]; skipped: { id: string; reason: string }[] } {
  const kept: Rule[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    const early = skipReason(rule, seen);
    if (early) {
      skipped.push({ id: rule.id, reason: early });
      continue;
    }
    try {
      lowerNode(rule.condition);
      if (rule.whitelist) lowerNode(rule.whitelist);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      skipped.push({ id: rule.id, reason: e.message });
      continue;
    }
    seen.add(rule.id);
    kept.push(rule);
  }
  return { rules: kept, skipped };
}

/** Encodes rules (those with `liveUnsupported` or that cannot be encoded are skipped and listed). */
export function encodeRules(rules: Rule[], opts: EncodeOptions = {}): Encoded {
  const enc = new Encoder(opts.ignoreAbove ?? DEFAULT_IGNORE_ABOVE);
  const params: Params = {
    f: enc.fields,
    r: [],
    m: [],
    xk: [],
    a: [],
    dk: [],
    dm: [],
    dg: [],
    dp: Object.create(null) as Record<string, number[]>,
    gf: "",
    gl: GRAM_SCAN_LIMIT,
    x: enc.regexes,
    mc: 0,
  };
  const kept: Rule[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const dims = new Map<string, number>();
  const seen = new Set<string>();
  // Each condition lowered once (the condition itself when it does not lower: the encoder then
  // meets the refusal where it is); the plans give the gram statistics, the op codes and the keys.
  const plans = rules.map((r): PlanNode | undefined => {
    try {
      return lowerNode(r.condition);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      return undefined;
    }
  });
  const grams = countGrams(rules.map((r, i) => plans[i] ?? r.condition));
  for (const [i, rule] of rules.entries()) {
    const plan = plans[i];
    const early = skipReason(rule, seen);
    if (early) {
      skipped.push({ id: rule.id, reason: early });
      continue;
    }
    let cond: Enc;
    let wl: Enc | null;
    const mark = { f: enc.fields.length, x: enc.regexes.length };
    try {
      cond = plan ? enc.plan(plan) : enc.node(rule.condition);
      wl = rule.whitelist ? enc.node(rule.whitelist) : null;
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      // Fields registered by the failed rule stay (harmless); its regex programs are dropped.
      enc.regexes.length = mark.x;
      skipped.push({ id: rule.id, reason: e.message });
      continue;
    }
    seen.add(rule.id);
    const ri = params.r.length;
    params.r.push([cond, wl]);
    params.m.push(ruleMeta(rule));
    for (const k of Object.keys(rule.tagsOut.extra ?? {})) if (!params.xk.includes(k)) params.xk.push(k);
    kept.push(rule);
    const keys = indexKeys(plan!, grams, opts.guardCosts);
    if (keys === null) {
      params.a.push(ri);
      continue;
    }
    for (const k of keys) {
      const fi = enc.field(k.field, k.mode === MODE.LONG ? TYPE.long : stringView(k.field));
      // A gram dimension per gram length: [fieldIdx, 3, length].
      const dimKey = k.mode === MODE.GRAM ? `${fi}:3:${k.key.length}` : `${fi}:${k.mode}`;
      let d = dims.get(dimKey);
      if (d === undefined) {
        d = params.dk.length;
        params.dk.push(k.mode === MODE.GRAM ? [fi, MODE.GRAM, k.key.length] : [fi, k.mode]);
        params.dm.push(Object.create(null) as Record<string, number[]>);
        params.dg.push([]);
        dims.set(dimKey, d);
      }
      const list = (params.dm[d]![k.key] ??= []);
      if (list[list.length - 1] !== ri) list.push(ri);
      const every = params.dg[d]!;
      if (k.mode === MODE.GRAM && every[every.length - 1] !== ri) every.push(ri);
    }
  }
  // A gram dimension whose every key holds a non-ASCII character: [fieldIdx, 3, length, 1], so that
  // the matcher skips its scan on the (usual) all-ASCII value.
  params.dk.forEach((dim, d) => {
    if (dim[1] === MODE.GRAM && Object.keys(params.dm[d]!).every((k) => /[^\x00-\x7f]/.test(k)))
      params.dk[d] = [dim[0], MODE.GRAM, dim[2]!, 1];
  });
  params.dk.forEach(([fi], d) => (params.dp[params.f[fi]![0]] ??= []).push(d));
  params.gf = gramFilter(params.dk.flatMap((dim, d) => (dim[1] === MODE.GRAM ? Object.keys(params.dm[d]!) : [])));
  params.mc = memoize(params.r);
  return { params, rules: kept, skipped };
}
