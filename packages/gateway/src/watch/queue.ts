/** A push → pull bridge for server streams: listeners push, the RPC's async generator pulls; ends on abort. */
export class EventQueue<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  push(...items: T[]): void {
    this.#items.push(...items);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Items until close() or the signal aborts. */
  async *drain(signal: AbortSignal): AsyncGenerator<T> {
    const onAbort = () => this.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (this.#items.length > 0) yield this.#items.shift() as T;
        if (this.#closed || signal.aborted) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
