/**
 * One progress line on stderr while waiting on several clouds at once (`sp1: BUILD 40% | sp2: ACTIVE`), redrawn in
 * place. Drawn only on a terminal and only for the table format: a pipe or `-f json|yaml|value|csv` gets none.
 */
import type { CliContext } from './context.ts';

export class ProgressLine {
  readonly #ctx: CliContext;
  readonly #enabled: boolean;
  readonly #states = new Map<string, string>();
  #width = 0;

  constructor(ctx: CliContext, format: string | undefined) {
    this.#ctx = ctx;
    this.#enabled = ctx.errIsTTY === true && (format ?? 'table') === 'table';
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
