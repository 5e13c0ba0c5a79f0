/**
 * Progress on stderr, redrawn in place, drawn only on a terminal and only for the table format (a pipe or
 * `-f json|yaml|value|csv` gets none): `ProgressLine` while waiting on several clouds at once
 * (`sp1: BUILD 40% | sp2: ACTIVE`), `progressBar` for transfers (bytes, percent, rate; off with `--no-progress`).
 */
import type { ProgressListener, TransferProgress } from '@ocx/sdk';
import type { CliContext } from './context.ts';

export class ProgressLine {
  readonly #ctx: CliContext;
  readonly #enabled: boolean;
  readonly #states = new Map<string, string>();
  #width = 0;

  /** `progress: false` is the commands' `--no-progress`. */
  constructor(ctx: CliContext, format: string | undefined, progress = true) {
    this.#ctx = ctx;
    this.#enabled = progress && ctx.errIsTTY === true && (format ?? 'table') === 'table';
  }

  /** Record `state` for `cloud` and redraw the line. */
  update(cloud: string, state: string): void {
    if (!this.#enabled || this.#states.get(cloud) === state) return;
    this.#states.set(cloud, state);
    const line = [...this.#states].map(([c, s]) => `${c}: ${s}`).join(' | ');
    this.#ctx.err(`\r${line.padEnd(this.#width)}`);
    this.#width = line.length;
  }

  /** End the line (before results or errors are printed). */
  done(): void {
    if (this.#enabled && this.#width > 0) this.#ctx.err('\n');
    this.#width = 0;
  }
}

// --- transfer bars (object create/save) ---

const WIDTH = 28;
const REDRAW_MS = 100;

export interface ProgressBar {
  /** A listener for one transfer (one per cloud and file); their bytes add up. */
  listener(key: string): ProgressListener;
  /** Draw the final state and end the line. */
  done(): void;
}

/** Whether a command shows a bar: stderr is a TTY, the output is for people, and the user did not opt out. */
export function progressWanted(ctx: CliContext, opts: { format?: string; progress?: boolean }): boolean {
  const format = opts.format ?? 'table';
  return ctx.errIsTTY === true && opts.progress !== false && format === 'table';
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Render one bar line (no newline): `label [#####.....]  50% 5.0 MiB/10.0 MiB 2.5 MiB/s`. */
export function barLine(label: string, done: number, total: number, elapsedMs: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * WIDTH);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${pct} ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(Math.round(rate))}/s`;
}

const SILENT: ProgressBar = { listener: () => () => {}, done: () => {} };

export function progressBar(ctx: CliContext, label: string, enabled: boolean): ProgressBar {
  if (!enabled) return SILENT;
  const states = new Map<string, TransferProgress>();
  const started = Date.now();
  let last = 0;
  let drawn = false;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < REDRAW_MS) return;
    last = now;
    let done = 0;
    let total = 0;
    for (const s of states.values()) {
      done += s.bytesDone;
      total += s.bytesTotal;
    }
    ctx.err(`\r${barLine(label, done, total, now - started)}\x1b[K`);
    drawn = true;
  };
  return {
    listener: (key) => (p) => {
      states.set(key, p);
      draw(false);
    },
    done: () => {
      if (states.size > 0) draw(true);
      if (drawn) ctx.err('\n');
    },
  };
}
