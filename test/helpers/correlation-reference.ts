/**
 * The brute-force reference for Sigma correlations (docs/correlations.md), deliberately simple and
 * independent of src/: for every correlation (inner first), for every event that takes part, the
 * window ending at that event's time is rebuilt from scratch over all events, measured the slow way,
 * and when it fires every event in it is named. Base-rule hits come from the generator (which knows
 * which rule each event was made for), not from a matcher.
 *
 * Also here: the correlation rules of the differential test as YAML, and a seeded stream generator
 * that hits the edges (exactly at a threshold, one millisecond outside the timespan, equal
 * timestamps, shuffled arrival, missing group-by fields, groups firing twice, chains).
 */

export interface RefEvent {
  /** Document id. */
  id: string;
  t: number;
  /** Base rules (names) the event is made to hit. */
  base: string[];
  user?: string;
  subject?: string;
  ws?: string;
  logonType?: string;
}

export interface RefCorrelation {
  id: string;
  name?: string;
  type: string;
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  timespan: string;
  condition?: Record<string, number>;
  field?: string;
  percentile?: number;
  aliases?: Record<string, Record<string, string>>;
}

/** The base rules: name → EventID. */
export const BASE: Record<string, number> = { fail: 4625, ok: 4624, priv: 4672 };

const FIELD_OF: Record<string, (e: RefEvent) => string | undefined> = {
  TargetUserName: (e) => e.user,
  SubjectUserName: (e) => e.subject,
  WorkstationName: (e) => e.ws,
  LogonType: (e) => e.logonType,
};

const m = 60_000;
export const CORRELATIONS: RefCorrelation[] = [
  {
    id: "c-ec",
    name: "many_fail",
    type: "event_count",
    rules: ["fail"],
    groupBy: ["TargetUserName"],
    timespan: "5m",
    timespanMs: 5 * m,
    condition: { gte: 3 },
  },
  {
    id: "c-ec-range",
    type: "event_count",
    rules: ["fail", "ok"],
    groupBy: ["TargetUserName"],
    timespan: "2m",
    timespanMs: 2 * m,
    condition: { gt: 1, lte: 2 },
  },
  {
    id: "c-vc",
    type: "value_count",
    rules: ["fail"],
    groupBy: ["TargetUserName"],
    timespan: "10m",
    timespanMs: 10 * m,
    condition: { gte: 2 },
    field: "WorkstationName",
  },
  {
    id: "c-tmp",
    type: "temporal",
    rules: ["fail", "priv"],
    groupBy: ["TargetUserName"],
    timespan: "3m",
    timespanMs: 3 * m,
  },
  {
    id: "c-tord",
    type: "temporal_ordered",
    rules: ["fail", "ok"],
    groupBy: ["TargetUserName"],
    timespan: "4m",
    timespanMs: 4 * m,
  },
  {
    id: "c-sum",
    type: "value_sum",
    rules: ["ok"],
    groupBy: ["TargetUserName"],
    timespan: "5m",
    timespanMs: 5 * m,
    condition: { gte: 15 },
    field: "LogonType",
  },
  {
    id: "c-avg",
    type: "value_avg",
    rules: ["ok"],
    groupBy: ["TargetUserName"],
    timespan: "5m",
    timespanMs: 5 * m,
    condition: { gt: 7 },
    field: "LogonType",
  },
  {
    id: "c-med",
    type: "value_median",
    rules: ["ok"],
    groupBy: ["TargetUserName"],
    timespan: "5m",
    timespanMs: 5 * m,
    condition: { gte: 8 },
    field: "LogonType",
  },
  {
    id: "c-pct",
    type: "value_percentile",
    rules: ["ok"],
    groupBy: ["TargetUserName"],
    timespan: "5m",
    timespanMs: 5 * m,
    condition: { gte: 10 },
    field: "LogonType",
    percentile: 75,
  },
  {
    id: "c-chain",
    name: "fail_then_ok",
    type: "temporal_ordered",
    rules: ["many_fail", "ok"],
    groupBy: ["TargetUserName"],
    timespan: "10m",
    timespanMs: 10 * m,
  },
  {
    id: "c-chain2",
    type: "event_count",
    rules: ["fail_then_ok"],
    groupBy: ["TargetUserName"],
    timespan: "20m",
    timespanMs: 20 * m,
    condition: { gte: 6 },
  },
  {
    id: "c-alias",
    type: "temporal",
    rules: ["fail", "priv"],
    groupBy: ["user"],
    timespan: "3m",
    timespanMs: 3 * m,
    aliases: { user: { fail: "TargetUserName", priv: "SubjectUserName" } },
  },
];

/** The rule files: base rules, and the correlations (in one file, chained by name). */
export function ruleYaml(): { base: string; correlations: string } {
  const base = Object.entries(BASE)
    .map(
      ([name, eid]) => `title: Base ${name}
id: base-${name}
name: ${name}
level: low
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: ${eid}
    condition: selection
`,
    )
    .join("---\n");
  const corr = CORRELATIONS.map((c) => {
    const lines = [
      `title: Correlation ${c.id}`,
      `id: ${c.id}`,
      ...(c.name ? [`name: ${c.name}`] : []),
      "level: high",
      "tags:",
      "    - attack.credential_access",
      "    - attack.t1110",
      "correlation:",
      `    type: ${c.type}`,
      `    rules: [${c.rules.join(", ")}]`,
      `    group-by: [${c.groupBy.join(", ")}]`,
      `    timespan: ${c.timespan}`,
    ];
    const cond: Record<string, unknown> = { ...(c.condition ?? {}) };
    if (c.field) cond.field = c.field;
    if (c.percentile !== undefined) cond.percentile = c.percentile;
    if (Object.keys(cond).length) lines.push(`    condition: ${JSON.stringify(cond)}`);
    if (c.aliases) {
      lines.push("    aliases:");
      for (const [a, mp] of Object.entries(c.aliases)) {
        lines.push(`        ${a}:`);
        for (const [r, f] of Object.entries(mp)) lines.push(`            ${r}: ${f}`);
      }
    }
    return lines.join("\n") + "\n";
  }).join("---\n");
  return { base, correlations: corr };
}

function holds(cond: Record<string, number>, v: number): boolean {
  return Object.entries(cond).every(([op, x]) =>
    op === "gt"
      ? v > x
      : op === "gte"
        ? v >= x
        : op === "lt"
          ? v < x
          : op === "lte"
            ? v <= x
            : op === "eq"
              ? v === x
              : v !== x,
  );
}

/** Does some choice of events, one per rule in order, have non-decreasing times? (tries them all) */
function ordered(win: { t: number; rules: string[] }[], rules: string[], i = 0, after = -Infinity): boolean {
  if (i === rules.length) return true;
  return win.some((e) => e.rules.includes(rules[i]!) && e.t >= after && ordered(win, rules, i + 1, e.t));
}

/** Event id → the correlation ids that tag it. */
export function reference(events: RefEvent[], correlations = CORRELATIONS): Map<string, Set<string>> {
  const carried = new Map<string, Set<string>>(events.map((e) => [e.id, new Set(e.base)]));
  const out = new Map<string, Set<string>>(events.map((e) => [e.id, new Set()]));
  const nameOf = (r: string) => correlations.find((c) => c.name === r)?.id ?? r;
  for (const c of correlations) {
    const refs = c.rules.map((r) => (correlations.some((x) => x.name === r) ? nameOf(r) : r));
    // Who takes part, with their group and value.
    const parts: { e: RefEvent; group: string; rules: string[]; value?: string }[] = [];
    for (const e of events) {
      const rules = refs.filter((r) => carried.get(e.id)!.has(r));
      if (rules.length === 0) continue;
      const fieldFor = (g: string) => c.aliases?.[g]?.[c.rules[refs.indexOf(rules[0]!)]!] ?? g;
      const group = c.groupBy.map((g) => FIELD_OF[fieldFor(g)]!(e));
      if (group.some((v) => v === undefined)) continue;
      const value = c.field ? FIELD_OF[c.field]!(e) : undefined;
      if (c.field && value === undefined) continue;
      if (c.field && c.type !== "value_count" && !Number.isFinite(Number(value))) continue;
      parts.push({ e, group: JSON.stringify(group), rules, value });
    }
    for (const end of parts) {
      const win = parts.filter((p) => p.group === end.group && p.e.t <= end.e.t && p.e.t >= end.e.t - c.timespanMs);
      let fires: boolean;
      if (c.type === "event_count") fires = holds(c.condition!, win.length);
      else if (c.type === "value_count") fires = holds(c.condition!, new Set(win.map((p) => p.value)).size);
      else if (c.type === "temporal") {
        const n = refs.filter((r) => win.some((p) => p.rules.includes(r))).length;
        fires = holds(c.condition ?? { gte: refs.length }, n);
      } else if (c.type === "temporal_ordered")
        fires = ordered(
          win.map((p) => ({ t: p.e.t, rules: p.rules })),
          refs,
        );
      else {
        const vs = win.map((p) => Number(p.value)).sort((a, b) => a - b);
        const sum = vs.reduce((a, b) => a + b, 0);
        const v =
          c.type === "value_sum"
            ? sum
            : c.type === "value_avg"
              ? sum / vs.length
              : c.type === "value_median"
                ? vs.length % 2
                  ? vs[(vs.length - 1) / 2]!
                  : (vs[vs.length / 2 - 1]! + vs[vs.length / 2]!) / 2
                : vs[Math.max(1, Math.ceil((c.percentile! / 100) * vs.length)) - 1]!;
        fires = holds(c.condition!, v);
      }
      if (fires)
        for (const p of win) {
          out.get(p.e.id)!.add(c.id);
          carried.get(p.e.id)!.add(c.id);
        }
    }
  }
  return out;
}

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const T0 = Date.parse("2026-03-01T10:00:00.000Z");

/**
 * A stream hitting the edges: random events (few users, so groups fire and fire again; times on a
 * 20 s grid, so timestamps collide; some without a user), plus hand-made edge groups; shuffled.
 */
export function stream(n: number, seed = 11): RefEvent[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"];
  const out: RefEvent[] = [];
  let k = 0;
  const add = (e: Omit<RefEvent, "id">) => out.push({ id: `e${k++}`, ...e });
  for (let i = 0; i < n; i++) {
    const kind = pick(["fail", "fail", "fail", "ok", "ok", "priv"]);
    add({
      t: T0 + Math.floor(r() * 540) * 20_000 + (r() < 0.1 ? Math.floor(r() * 1000) : 0),
      base: [kind],
      user: r() < 0.1 ? undefined : pick(users),
      subject: r() < 0.5 ? pick(users) : undefined,
      ws: r() < 0.1 ? undefined : pick(["ws1", "ws2", "ws3"]),
      logonType: r() < 0.05 ? undefined : String(pick([2, 3, 3, 5, 7, 10, 11, 12])),
    });
  }
  // Exactly at the threshold and the timespan (5m closed): fires.
  const e = T0 + 4 * 3_600_000;
  for (const dt of [0, 150_000, 300_000]) add({ t: e + dt, base: ["fail"], user: "edge-in", ws: "ws1" });
  // One millisecond outside: does not fire.
  for (const dt of [0, 150_000, 300_001]) add({ t: e + dt, base: ["fail"], user: "edge-out", ws: "ws1" });
  // Equal timestamps: three at one instant fire; a temporal pair at one instant fires.
  for (let i = 0; i < 3; i++) add({ t: e, base: ["fail"], user: "same-time", ws: `ws${i}` });
  add({ t: e, base: ["priv"], user: "same-time", subject: "same-time" });
  add({ t: e, base: ["ok"], user: "same-time", logonType: "10" });
  // Missing group-by field: these never count.
  for (let i = 0; i < 4; i++) add({ t: e + i, base: ["fail"], ws: "ws1" });
  // A group that fires twice, far apart, and a chain (many fails, then a logon) twice.
  for (const base of [e + 3_600_000, e + 7_200_000]) {
    for (let i = 0; i < 3; i++) add({ t: base + i * 1000, base: ["fail"], user: "twice", ws: `ws${i % 2}` });
    add({ t: base + 60_000, base: ["ok"], user: "twice", logonType: "11" });
  }
  // Shuffled: arrival order is not time order.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The winlogbeat document of an event. */
export function toDoc(e: RefEvent): Record<string, unknown> {
  const data: Record<string, string> = {};
  if (e.user !== undefined) data.TargetUserName = e.user;
  if (e.subject !== undefined) data.SubjectUserName = e.subject;
  if (e.ws !== undefined) data.WorkstationName = e.ws;
  if (e.logonType !== undefined) data.LogonType = e.logonType;
  return {
    "@timestamp": new Date(e.t).toISOString(),
    event: { code: String(BASE[e.base[0]!]) },
    winlog: {
      channel: "Security",
      event_id: BASE[e.base[0]!],
      provider_name: "Microsoft-Windows-Security-Auditing",
      event_data: data,
    },
    ref: e.id,
  };
}

/** The correlation ids among an event's `outliers.rule_id`. */
export function correlationIds(doc: any): string[] {
  const ids = doc?.outliers?.rule_id;
  const list: string[] = Array.isArray(ids) ? ids : ids === undefined ? [] : [ids];
  return list.filter((x) => x.startsWith("c-")).sort();
}
