import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import type { AuthContext } from './types.ts';

const cache = new Map<string, { url: string; at: number }>();
const CACHE_TTL_MS = 10 * 60_000;

/** Trim trailing slashes. */
export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

interface VersionDoc {
  id?: string;
  status?: string;
  links?: Array<{ rel?: string; href?: string }>;
}

function selfHref(v: VersionDoc): string | undefined {
  return v.links?.find((l) => l.rel === 'self')?.href;
}

/**
 * From a clouds.yaml `auth_url` to the Keystone v3 base URL. `…/v3` is used as is; an unversioned URL
 * (`http://ks:5000`, `http://host/identity`) is asked for its version document (GET, 300 Multiple Choices)
 * and the stable v3 entry's self link is used; a `/v2.0` URL is treated as unversioned. When the server has no
 * version document (404 / not JSON) `<auth_url>/v3` is assumed, as keystoneauth does for a well-formed Keystone.
 */
export async function discoverIdentityV3(authUrl: string, ctx: AuthContext): Promise<string> {
  const base = trimSlash(authUrl);
  if (/\/v3(\.\d+)?$/.test(base)) return base;
  const unversioned = base.replace(/\/v2\.0$/, '');
  const hit = cache.get(unversioned);
  if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.url;
  let found: string | undefined;
  try {
    const res = await ctx.transport.request({
      method: 'GET',
      url: `${unversioned}/`,
      headers: { accept: 'application/json' },
      signal: ctx.signal,
      deadline: ctx.deadline,
      timeoutMs: ctx.timeoutMs,
      context: { cloud: ctx.cloud, region: ctx.region, service: 'identity', operation: 'identity.discovery' },
    });
    if (res.status === 200 || res.status === 300) {
      const doc = (await res.json().catch((err: unknown) => {
        if (isOcxError(err, ErrorCode.INVALID_RESPONSE)) return undefined;
        throw err;
      })) as { versions?: { values?: VersionDoc[] } | VersionDoc[]; version?: VersionDoc } | undefined;
      const values = Array.isArray(doc?.versions) ? doc.versions : (doc?.versions?.values ?? []);
      const all = doc?.version ? [doc.version, ...values] : values;
      const v3 = all.filter((v) => typeof v.id === 'string' && /^v3(\.|$)/.test(v.id));
      const pick =
        v3.find((v) => /^(stable|current|supported)$/i.test(v.status ?? '')) ?? v3.find((v) => selfHref(v)) ?? v3[0];
      const href = pick ? selfHref(pick) : undefined;
      if (href) found = trimSlash(new URL(href, `${unversioned}/`).toString());
      else if (all.length > 0) {
        throw new OcxError(ErrorCode.AUTH_FAILED, `the identity service at ${unversioned} offers no v3 API`, {
          service: 'identity',
          url: unversioned,
        });
      }
    } else {
      await res.dump();
    }
  } catch (err) {
    if (isOcxError(err) && err.code !== ErrorCode.INVALID_RESPONSE) throw err;
  }
  const url = found ?? `${unversioned}/v3`;
  cache.set(unversioned, { url, at: Date.now() });
  return url;
}

export function clearDiscoveryCache(): void {
  cache.clear();
}
