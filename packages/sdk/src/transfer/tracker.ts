import type { ProgressListener, TransferProgress } from './types.ts';

/** Counts bytes and parts of one transfer and reports each change to the listener. */
export class ProgressTracker {
  readonly state: TransferProgress;
  readonly #listener: ProgressListener | undefined;

  constructor(bytesTotal: number, partsTotal: number, listener: ProgressListener | undefined) {
    this.state = { bytesDone: 0, bytesTotal, bytesTransferred: 0, bytesSkipped: 0, partsDone: 0, partsTotal };
    this.#listener = listener;
  }
  transferred(n: number): void {
    this.state.bytesTransferred += n;
    this.state.bytesDone += n;
    this.#emit();
  }
  /** A failed part's bytes no longer count as done (they will be sent again by the next attempt). */
  undo(n: number): void {
    this.state.bytesDone -= n;
  }
  skipped(n: number): void {
    this.state.bytesSkipped += n;
    this.state.bytesDone += n;
    this.state.partsDone += 1;
    this.#emit();
  }
  partDone(): void {
    this.state.partsDone += 1;
    this.#emit();
  }
  #emit(): void {
    this.#listener?.({ ...this.state });
  }
}
