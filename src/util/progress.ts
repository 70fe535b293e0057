/**
 * Progress for long work: a one-line bar redrawn on stderr when stderr is a terminal, and nothing at
 * all in pipes or under --json (the contract: long work stays quiet there).
 */
export interface ProgressState {
  done: number;
  total?: number;
  /** Extra counters shown after the bar, e.g. { tagged: 12 }. */
  counters?: Record<string, number>;
}

export class Progress {
  private readonly enabled: boolean;
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    opts: { json?: boolean; stream?: NodeJS.WriteStream } = {},
  ) {
    const stream = opts.stream ?? process.stderr;
    this.enabled = !opts.json && Boolean(stream.isTTY) && process.env.CI !== "true";
    this.stream = stream;
  }
  private readonly stream: NodeJS.WriteStream;

  update(state: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.stream.write("\r\x1b[2K" + this.render(state, now));
    this.drawn = true;
  }

  /** Clears the bar so that the next line printed starts clean. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write("\r\x1b[2K");
  }

  render(state: ProgressState, now = Date.now()): string {
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = state.done / secs;
    const parts = [this.label];
    if (state.total && state.total > 0) {
      const frac = Math.min(state.done / state.total, 1);
      const width = 24;
      const fill = Math.round(frac * width);
      parts.push(`[${"#".repeat(fill)}${".".repeat(width - fill)}] ${(frac * 100).toFixed(1)}%`);
      parts.push(`${fmt(state.done)}/${fmt(state.total)}`);
      if (rate > 0 && state.done < state.total) parts.push(`~${fmtSecs((state.total - state.done) / rate)} left`);
    } else {
      parts.push(fmt(state.done));
    }
    parts.push(`${fmt(Math.round(rate))}/s`);
    for (const [k, v] of Object.entries(state.counters ?? {})) parts.push(`${k} ${fmt(v)}`);
    return parts.join("  ");
  }
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function fmtSecs(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
