/**
 * Link rewriting: every absolute URL an upstream puts in a JSON body or a Location header that points at that
 * upstream's service root is re-rooted on the proxy's public URL for the same service, with the remote project
 * id swapped back to the local one. Relative links (Glance's `next`, `self`, `file`, `schema`) need nothing.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface LinkMap {
  /** Upstream service root, e.g. http://10.0.0.5:8774 or http://h/compute (no trailing slash). */
  upstreamRoot: string;
  /** Proxy public root for the same service, e.g. http://proxy:9913/compute. */
  proxyRoot: string;
  remoteProjectId?: string | undefined;
  localProjectId?: string | undefined;
}

/** The proxy's public origin for this request (X-Forwarded-Proto/Host honoured; first value of each). */
export function publicOrigin(req: { headers: IncomingHttpHeaders }, fallback: string): string {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim();
  const proto = first(req.headers['x-forwarded-proto']);
  const host = first(req.headers['x-forwarded-host']) ?? first(req.headers.host);
  if (!host) return fallback;
  const prefix = first(req.headers['x-forwarded-prefix'])?.replace(/\/+$/, '') ?? '';
  return `${proto === 'https' ? 'https' : proto === 'http' ? 'http' : schemeOf(fallback)}://${host}${prefix}`;
}

/** The scheme of an absolute URL as WHATWG URL gives it (lower case), without parsing the URL on every request. */
function schemeOf(url: string): string {
  const colon = url.indexOf(':');
  return colon > 0 ? url.slice(0, colon).toLowerCase() : new URL(url).protocol.slice(0, -1);
}

export function rewriteUrl(value: string, map: LinkMap): string {
  let rest: string | undefined;
  if (value.startsWith(map.upstreamRoot)) {
    rest = value.slice(map.upstreamRoot.length);
    if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?')) return value;
  } else {
    return value;
  }
  if (map.remoteProjectId && map.localProjectId && map.remoteProjectId !== map.localProjectId) {
    rest = rest
      .replace(`/AUTH_${map.remoteProjectId}`, `/AUTH_${map.localProjectId}`)
      .replace(new RegExp(`/${escapeRe(map.remoteProjectId)}(?=/|$|\\?)`), `/${map.localProjectId}`);
  }
  return map.proxyRoot + rest;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Rewrite every string value of a JSON document in place; returns whether anything changed. */
export function rewriteJson(doc: unknown, map: LinkMap): boolean {
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = rewriteUrl(v, map);
      if (r !== v) changed = true;
      return r;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
      return v;
    }
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = walk(o[k]);
      return o;
    }
    return v;
  };
  walk(doc);
  return changed;
}
