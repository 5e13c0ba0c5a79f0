/**
 * The token cache on disk for `ocx` (one process per command, so without it every command logs in again):
 * `$XDG_CACHE_HOME/ocx` or `~/.cache/ocx`, off with `--no-token-cache`, `OCX_TOKEN_CACHE=0`, or per cloud with
 * clouds.yaml `cache: {auth: false}` (openstacksdk's name for caching auth).
 */
import {
  type CloudConfig,
  createSession,
  DiskTokenCache,
  defaultTokenCache,
  defaultTokenCacheDir,
  type SessionFactory,
} from '@ocx/sdk';
import type { CliContext } from './context.ts';

const OFF = new Set(['0', 'false', 'no', 'off']);

/** The disk cache this command may use, or undefined when it is switched off or there is no cache directory. */
export function diskTokenCache(g: { tokenCache?: boolean | undefined }, ctx: CliContext): DiskTokenCache | undefined {
  if (g.tokenCache === false) return undefined;
  const env = ctx.env.OCX_TOKEN_CACHE;
  if (env !== undefined && OFF.has(env.trim().toLowerCase())) return undefined;
  const dir = defaultTokenCacheDir(ctx.env);
  // The process-wide memory cache stays in front, so commands run in one process still share their tokens.
  return dir ? new DiskTokenCache({ dir, memory: defaultTokenCache }) : undefined;
}

/** clouds.yaml `cache: {auth: false}` on the cloud switches the disk cache off for it. */
export function cachesAuth(cloud: CloudConfig): boolean {
  const cache = cloud.extra.cache as { auth?: unknown } | undefined;
  return !(cache && typeof cache === 'object' && (cache.auth === false || cache.auth === 'false'));
}

/** The SDK's session factory, with `cache` as the token cache of every cloud that allows it. */
export function sessionFactoryWith(cache: DiskTokenCache): SessionFactory {
  return (cloud, c) =>
    createSession(cloud, {
      transport: c.transport,
      homeCloud: cloud.federation ? (cloud.federation.home ?? c.home?.cloud) : undefined,
      tokenCache: cachesAuth(cloud) ? cache : undefined,
    });
}
