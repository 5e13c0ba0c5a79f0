/**
 * A single-flight, stale-while-refresh cache for one list (shade's server-list batching, nodepool's
 * thundering-herd protection):
 *  - a value younger than `maxAgeMs` is returned as is;
 *  - otherwise one caller starts a refresh and waits for it; callers arriving while it runs get the stale value
 *    at once (or, when there is no value yet, wait for that same refresh): N concurrent callers → 1 request;
 *  - `invalidate()` makes the next call refresh: a refresh already running when invalidated counts as stale, so a
 *    caller after the invalidation neither joins it nor gets the value from before it (read-your-writes: a keypair
 *    created and then looked up by the same client is found, even while an older list was in flight).
 * A failed refresh rejects only the callers waiting on it; the previous value stays.
 */
export interface ListCacheOptions {
  /** How long a fetched value is fresh (ms). 0 = every call refreshes, but concurrent callers still share one fetch. */
  maxAgeMs: number;
  /** Return the stale value to callers that arrive while a refresh runs (default true). */
  staleWhileRefresh?: boolean;
  /** Clock (ms), for tests that step time by hand. */
  now?: () => number;
}

interface Entry<T> {
  value?: T;
  has: boolean;
  fetchedAt: number;
  /** Bumped by invalidate(); a value from an older generation is stale. */
  generation: number;
  valueGeneration: number;
  inflight?: Promise<T> | undefined;
  /** The generation the running refresh started in. */
  inflightGeneration: number;
}

export class ListCache<T> {
  readonly maxAgeMs: number;
  readonly staleWhileRefresh: boolean;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry<T>>();
  /** Fetches started (for metrics and tests). */
  fetches = 0;

  constructor(opts: ListCacheOptions) {
    this.maxAgeMs = opts.maxAgeMs;
    this.staleWhileRefresh = opts.staleWhileRefresh ?? true;
    this.now = opts.now ?? Date.now;
  }

  private entry(key: string): Entry<T> {
    let e = this.entries.get(key);
    if (!e) {
      e = { has: false, fetchedAt: 0, generation: 0, valueGeneration: -1, inflightGeneration: -1 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** True when `key` holds a value that is still fresh. */
  isFresh(key = ''): boolean {
    const e = this.entries.get(key);
    return !!e && this.fresh(e);
  }

  private fresh(e: Entry<T>): boolean {
    return e.has && e.valueGeneration === e.generation && this.now() - e.fetchedAt < this.maxAgeMs;
  }

  /** The cached value (fresh or stale) without fetching. */
  peek(key = ''): T | undefined {
    return this.entries.get(key)?.value;
  }

  async get(fetch: () => Promise<T>, key = ''): Promise<T> {
    const e = this.entry(key);
    if (this.fresh(e)) return e.value as T;
    if (e.inflight && e.inflightGeneration === e.generation) {
      // Only a value that is old by age is served stale; one from before an invalidate() is waited past.
      if (e.has && e.valueGeneration === e.generation && this.staleWhileRefresh) return e.value as T;
      return e.inflight;
    }
    return this.refresh(e, fetch);
  }

  private refresh(e: Entry<T>, fetch: () => Promise<T>): Promise<T> {
    const generation = e.generation;
    this.fetches++;
    let p: Promise<T> | undefined;
    p = (async () => {
      try {
        const value = await fetch();
        // A refresh from an older generation that ends after a newer one never overwrites it.
        if (generation >= e.valueGeneration) {
          e.value = value;
          e.has = true;
          e.fetchedAt = this.now();
          e.valueGeneration = generation;
        }
        return value;
      } finally {
        if (e.inflight === p) e.inflight = undefined;
      }
    })();
    e.inflight = p;
    e.inflightGeneration = generation;
    return p;
  }

  /** Make the next get() refresh (all keys when `key` is omitted). */
  invalidate(key?: string): void {
    if (key === undefined) {
      for (const e of this.entries.values()) e.generation++;
    } else {
      const e = this.entries.get(key);
      if (e) e.generation++;
    }
  }

  /** Drop every value. */
  clear(): void {
    this.entries.clear();
  }
}
