/**
 * Progress for long work, on stderr, never under --json:
 * - on a terminal, a one-line bar redrawn in place (at most 5 times a second);
 * - elsewhere (a pipe, a log file, cron, CI), one plain line every ~10 s, so that a long run is never
 *   silent until it ends. The interval is `OUTLIERS_PROGRESS_INTERVAL_MS` (tests use a short one).
 * The ETA comes from the rate measured over the last ~30 s, not from the start of the run: setup time
 * (connecting, planning, a task that has not counted its candidates yet) no longer inflates it.
 */
export interface ProgressState {
  done: number;
  total?: number;
  /** Extra counters shown after the bar, e.g. { tagged: 12 }. */
  counters?: Record<string, number>;
}

/** Plain progress lines outside a terminal: one per this many milliseconds. */
export const LINE_INTERVAL_MS = 10_000;
/** The window the rate (and so the ETA) is measured over. */
const RATE_WINDOW_MS = 30_000;

function lineInterval(): number {
  const v = Number(process.env.OUTLIERS_PROGRESS_INTERVAL_MS);
  return Number.isFinite(v) && v > 0 ? v : LINE_INTERVAL_MS;
}

export class Progress {
  private readonly mode: "bar" | "lines" | "off";
  private readonly started = Date.now();
  private readonly interval: number;
  private lastDraw = 0;
  private drawn = false;
  /** (time, done) samples of the last RATE_WINDOW_MS, oldest first. */
  private samples: Array<[number, number]> = [];
  private readonly stream: NodeJS.WriteStream;

  constructor(
    private readonly label: string,
    opts: { json?: boolean; stream?: NodeJS.WriteStream } = {},
  ) {
    const stream = opts.stream ?? process.stderr;
    this.stream = stream;
    this.mode = opts.json ? "off" : stream.isTTY && process.env.CI !== "true" ? "bar" : "lines";
    this.interval = this.mode === "bar" ? 200 : lineInterval();
    // Lines: the first one an interval after the start, not at once.
    if (this.mode === "lines") this.lastDraw = this.started;
  }

  update(state: ProgressState, force = false): void {
    if (this.mode === "off") return;
    const now = Date.now();
    this.sample(now, state.done);
    if (!(force && this.mode === "bar") && now - this.lastDraw < this.interval) return;
    this.lastDraw = now;
    if (this.mode === "bar") {
      this.stream.write("\r\x1b[2K" + this.render(state, now));
      this.drawn = true;
    } else this.stream.write(`outliers: progress: ${this.render(state, now)}\n`);
  }

  /** Clears the bar so that the next line printed starts clean. */
  done(): void {
    if (this.mode === "bar" && this.drawn) this.stream.write("\r\x1b[2K");
  }

  private sample(now: number, done: number): void {
    const last = this.samples[this.samples.length - 1];
    // A counter that went back (a new pass) starts a new measure.
    if (last && done < last[1]) this.samples = [];
    this.samples.push([now, done]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > RATE_WINDOW_MS) this.samples.shift();
  }

  /** Events per second over the last RATE_WINDOW_MS; undefined until a second of progress was seen. */
  rate(now = Date.now()): number | undefined {
    const first = this.samples.find(([, d]) => d > 0) ?? this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last === first) return undefined;
    const secs = (last[0] - first[0]) / 1000;
    if (secs < 1 || last[1] <= first[1]) return now - this.started > RATE_WINDOW_MS ? 0 : undefined;
    return (last[1] - first[1]) / secs;
  }

  render(state: ProgressState, now = Date.now()): string {
    const rate = this.rate(now);
    const parts = [this.label];
    if (state.total && state.total > 0) {
      const frac = Math.min(state.done / state.total, 1);
      const width = 24;
      const fill = Math.round(frac * width);
      if (this.mode === "bar")
        parts.push(`[${"#".repeat(fill)}${".".repeat(width - fill)}] ${(frac * 100).toFixed(1)}%`);
      else parts.push(`${(frac * 100).toFixed(1)}%`);
      parts.push(`${fmt(state.done)}/${fmt(state.total)}`);
      if (rate && rate > 0 && state.done < state.total)
        parts.push(`~${fmtSecs((state.total - state.done) / rate)} left`);
    } else {
      parts.push(fmt(state.done));
    }
    if (rate !== undefined) parts.push(`${fmt(Math.round(rate))}/s`);
    parts.push(`${fmtSecs((now - this.started) / 1000)} elapsed`);
    for (const [k, v] of Object.entries(state.counters ?? {})) parts.push(`${k} ${fmt(v)}`);
    return parts.join("  ");
  }
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function fmtSecs(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
