import { createHash } from 'node:crypto';
import { registerSecret } from '../transport/redact.ts';
import { SharedFlight } from '../transport/shared-flight.ts';
import { expiresSoon } from './access-info.ts';
import type { AccessInfo, AuthContext, AuthPlugin } from './types.ts';

/** A hash of auth parameters. Secrets only ever enter the hash input, never the key text. */
export function hashKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export interface TokenStore {
  get(key: string): AccessInfo | undefined;
  set(key: string, access: AccessInfo): void;
  delete(key: string): void;
}

/** An in-memory token cache (the default, shared by every session of the process). */
export class MemoryTokenCache implements TokenStore {
  readonly #map = new Map<string, AccessInfo>();
  get(key: string): AccessInfo | undefined {
    return this.#map.get(key);
  }
  set(key: string, access: AccessInfo): void {
    this.#map.set(key, access);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
  get size(): number {
    return this.#map.size;
  }
}

export const defaultTokenCache = new MemoryTokenCache();

/** Default refresh margin: re-authenticate 5 minutes before expiry (keystoneauth's stale window is 30 s; nodepool-scale jobs prefer more). */
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

/** In-flight authentications per cache (so two caches never share one result), keyed by plugin key. */
const inflightByCache = new WeakMap<TokenStore, Map<string, SharedFlight<AccessInfo>>>();

/**
 * The cached token of `plugin`, authenticating (once, even with many concurrent callers) when there is none,
 * it expires within `marginMs`, or `force` is set (after a 401).
 */
export async function cachedAccess(
  plugin: AuthPlugin,
  ctx: AuthContext,
  opts: { cache?: TokenStore | undefined; marginMs?: number | undefined; force?: boolean | undefined } = {},
): Promise<AccessInfo> {
  const cache = opts.cache ?? defaultTokenCache;
  const margin = opts.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const key = plugin.cacheKey();
  if (!opts.force) {
    const hit = cache.get(key);
    if (hit && !expiresSoon(hit, margin)) return hit;
  } else {
    cache.delete(key);
  }
  let inflight = inflightByCache.get(cache);
  if (!inflight) {
    inflight = new Map();
    inflightByCache.set(cache, inflight);
  }
  const flights = inflight;
  const flightKey = `${key}:${opts.force ? 'force' : ''}`;
  const where = { cloud: ctx.cloud, service: 'identity' };
  const running = flights.get(flightKey) ?? flights.get(`${key}:`);
  if (running) return running.join(ctx.signal, ctx.deadline, where);
  // The shared login is bounded by the first caller's deadline and runs under its own signal: one caller giving up
  // does not fail the others, and when all of them gave up (a Keystone that hangs) it is aborted and forgotten, so
  // the next call logs in afresh instead of waiting on a request that will never be answered.
  const drop = () => {
    if (flights.get(flightKey) === flight) flights.delete(flightKey);
  };
  const flight: SharedFlight<AccessInfo> = new SharedFlight(
    (signal) =>
      plugin.authenticate({ ...ctx, signal }).then((access) => {
        registerSecret(access.token);
        cache.set(key, access);
        return access;
      }),
    drop,
  );
  flights.set(flightKey, flight);
  flight.promise.then(drop, drop);
  return flight.join(ctx.signal, ctx.deadline, where);
}
