/**
 * The method every comparison benchmark follows (BENCHMARKS.md, "How figures are measured"):
 *   - one shared warm-up pass of every way first (scripts compile, caches fill), not measured;
 *   - then the ways interleaved in rounds (A B C, A B C, …, at least 3 rounds), so that a drift of
 *     the machine (load, merges, garbage collection) falls on every way alike;
 *   - each figure is the median over the rounds with its min–max, and the load average of the rounds;
 *   - a ratio is taken within a round (way / baseline of the same round), then its median and spread;
 *   - a result where the baseline is slower than a way that does strictly more work is flagged, and
 *     the scripts do not record a flagged run.
 */
import os from "node:os";
import { median } from "./stats.ts";

export interface Way<T extends { seconds: number }> {
  name: string;
  /** One measured (or warm-up) run of this way. */
  run(round: number): Promise<T>;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface RoundsResult<T extends { seconds: number }> {
  rounds: number;
  /** Per way, one sample per round, in round order. */
  samples: Map<string, T[]>;
  /** One-minute load average at the start of each round. */
  loads: number[];
}

export const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/** `12.3 (11.9–13.0)`, with `digits` decimals. */
export const showSpread = (s: Spread, digits = 2, unit = ""): string =>
  `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

/** Runs the shared warm-up, then `rounds` rounds of every way in order; `log` gets one line per run. */
export async function interleave<T extends { seconds: number }>(
  ways: Way<T>[],
  opts: { rounds: number; warmup?: boolean; log?: (line: string) => void },
): Promise<RoundsResult<T>> {
  const log = opts.log ?? (() => {});
  if (opts.rounds < 3) log(`rounds: ${opts.rounds} (< 3): figures are indicative only`);
  if (opts.warmup !== false)
    for (const w of ways) {
      const r = await w.run(-1);
      log(`warm-up ${w.name}: ${r.seconds.toFixed(2)} s`);
    }
  const samples = new Map<string, T[]>(ways.map((w) => [w.name, []]));
  const loads: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    loads.push(os.loadavg()[0]!);
    for (const w of ways) {
      const r = await w.run(round);
      samples.get(w.name)!.push(r);
      log(`round ${round + 1}/${opts.rounds} ${w.name}: ${r.seconds.toFixed(2)} s`);
    }
  }
  return { rounds: opts.rounds, samples, loads };
}

/** Per round, `value(way) / value(baseline)`; its median and spread. */
export function roundRatios<T extends { seconds: number }>(
  res: RoundsResult<T>,
  way: string,
  baseline: string,
  value: (t: T) => number = (t) => t.seconds,
): Spread & { perRound: number[] } {
  const a = res.samples.get(way)!;
  const b = res.samples.get(baseline)!;
  const perRound = a.map((x, i) => value(x) / value(b[i]!));
  return { ...spread(perRound), perRound };
}

/** The median of one way's values over the rounds, with min–max. */
export function waySpread<T extends { seconds: number }>(
  res: RoundsResult<T>,
  way: string,
  value: (t: T) => number = (t) => t.seconds,
): Spread {
  return spread(res.samples.get(way)!.map(value));
}

/**
 * The flags of a run: each `[more, less]` pair names a way that does strictly more work than another;
 * the run is suspect when `more` is faster than `less` by median time per unit. Empty: nothing to flag.
 * A pair may carry a tolerance (`[more, less, 0.03]`: flagged below a ratio of 0.97) for two ways whose
 * difference in work is smaller than a round's noise, where a strict check would flag a coin toss;
 * pairs against the baseline are given none.
 */
export function inversions<T extends { seconds: number }>(
  res: RoundsResult<T>,
  pairs: Array<[more: string, less: string, tolerance?: number]>,
  value: (t: T) => number = (t) => t.seconds,
): string[] {
  const out: string[] = [];
  for (const [more, less, tolerance = 0] of pairs) {
    if (!res.samples.has(more) || !res.samples.has(less)) continue;
    const r = roundRatios(res, more, less, value);
    if (r.median < 1 - tolerance)
      out.push(
        `${more} (does more work) ran faster than ${less}: median ratio ${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`,
      );
  }
  return out;
}

/** The load line every section carries. */
export function loadLine(res: RoundsResult<{ seconds: number }>): string {
  const l = spread(res.loads);
  return `load average (1 min, whole machine) at the start of the rounds: median ${l.median.toFixed(2)}, ${l.min.toFixed(2)}–${l.max.toFixed(2)}`;
}
