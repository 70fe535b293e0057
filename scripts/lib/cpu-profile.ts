/**
 * Reads a `.cpuprofile` (Chrome DevTools format, written by `bun --cpu-prof`) into the figures a
 * BENCHMARKS.md section quotes: the sampled total, the functions with the most self time, and the
 * inclusive time of named functions (a function counted once per sample however deep it recurses).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfileSummary {
  totalMs: number;
  /** Functions by self time, most first: `name file:line`. */
  self: Array<{ fn: string; ms: number }>;
  /** Inclusive time of every function, by `name file:line`. */
  inclusive: Map<string, number>;
}

/** `name path:line` with the path relative to `root` (a frame of native code has no path). */
function frameName(n: ProfileNode, root: string): string {
  const raw = n.callFrame.url.replace(/^file:\/\//, "");
  const url = raw.startsWith(root) ? raw.slice(root.length + 1) : raw;
  const fn = n.callFrame.functionName || "(anonymous)";
  return url ? `${fn} ${url}:${n.callFrame.lineNumber + 1}` : `${fn} (native)`;
}

export function summarizeCpuProfile(file: string, root: string): CpuProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    total += us;
    const name = frameName(byId.get(id)!, root);
    self.set(name, (self.get(name) ?? 0) + us / 1000);
    const seen = new Set<string>();
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
      const k = frameName(byId.get(c)!, root);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us / 1000);
    }
  }
  return {
    totalMs: total / 1000,
    self: [...self].map(([fn, ms]) => ({ fn, ms })).sort((a, b) => b.ms - a.ms),
    inclusive,
  };
}

/** The inclusive time of the first function whose `name file:line` starts with `prefix` (0 if none). */
export function inclusiveOf(s: CpuProfileSummary, prefix: string): number {
  let best = 0;
  for (const [k, ms] of s.inclusive) if (k.startsWith(prefix) && ms > best) best = ms;
  return best;
}
