import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { splitVersionedUrl } from './discovery.ts';
import type { PaginateOptions, Query, RequestOptions, ServiceClient } from './types.ts';

type Page = Record<string, unknown>;

/** Find the `next` link of a page: `<items>_links` / `links` arrays (rel=next), Keystone `links.next`, Glance `next`. */
export function nextLink(page: Page, itemsKey: string, linksKey: string | undefined): string | undefined {
  const keys = linksKey ? [linksKey] : [`${itemsKey}_links`, 'links'];
  for (const key of keys) {
    const links = page[key];
    if (Array.isArray(links)) {
      const next = links.find((l) => l && typeof l === 'object' && (l as { rel?: string }).rel === 'next') as
        | { href?: string }
        | undefined;
      if (next?.href) return next.href;
    } else if (links && typeof links === 'object') {
      const next = (links as { next?: unknown }).next;
      if (typeof next === 'string' && next) return next;
    }
  }
  if (!linksKey && typeof page.next === 'string' && page.next) return page.next;
  return undefined;
}

/**
 * Resolve a next link against the versioned endpoint. Absolute URLs are used as given; Glance's `/v2/images?marker=`
 * is relative to the unversioned root (so devstack's `/image` prefix is kept).
 */
export function resolveNext(next: string, endpoint: string): string {
  if (/^https?:\/\//i.test(next)) return next;
  if (next.startsWith('/')) {
    const { root, version } = splitVersionedUrl(endpoint);
    const firstSeg = next.split('/')[1]?.split('?')[0];
    if (version && firstSeg === version) return `${root}${next}`;
    return `${endpoint}${next}`;
  }
  return `${endpoint}/${next}`;
}

function withQuery(base: Query | undefined, extra: Record<string, string | number | undefined>): Query {
  const out = new URLSearchParams();
  if (base instanceof URLSearchParams) for (const [k, v] of base) out.append(k, v);
  else if (base)
    for (const [k, v] of Object.entries(base)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v) out.append(k, String(x));
      else out.append(k, String(v));
    }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out.set(k, String(v));
  return out;
}

/** Iterate every item of a paginated collection (see PaginateOptions for the styles). */
export async function* paginate<T>(client: ServiceClient, path: string, opts: PaginateOptions): AsyncGenerator<T> {
  const reqOpts: RequestOptions = {
    headers: opts.headers,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
    microversion: opts.microversion,
  };
  const markerStyle = opts.marker ?? client.serviceType === 'object-store';
  const markerField = opts.markerField ?? (client.serviceType === 'object-store' ? 'name' : 'id');
  const seen = new Set<string>();
  let url: string | undefined;
  let marker: string | undefined;
  for (let page = 0; page < 100_000; page++) {
    const query = url ? undefined : withQuery(opts.query, { limit: opts.limit, marker });
    const res = await client.get(url ?? path, { ...reqOpts, query });
    const body = (await res.json()) as unknown;
    let items: unknown[];
    let pageObj: Page = {};
    if (Array.isArray(body)) items = body;
    else if (body && typeof body === 'object') {
      pageObj = body as Page;
      const v = pageObj[opts.itemsKey];
      if (v === undefined) items = [];
      else if (Array.isArray(v)) items = v;
      else
        throw new OcxError(ErrorCode.INVALID_RESPONSE, `page of ${path} has a non-array "${opts.itemsKey}"`, {
          service: client.serviceType,
          url: res.url,
        });
    } else items = [];
    for (const item of items) yield item as T;
    const next = Array.isArray(body) ? undefined : nextLink(pageObj, opts.itemsKey, opts.linksKey);
    if (next && !markerStyle) {
      const endpoint = await client.endpoint({ signal: opts.signal as AbortSignal });
      const resolved = resolveNext(next, endpoint);
      if (seen.has(resolved)) return; // a server that links to the same page again
      seen.add(resolved);
      url = resolved;
      continue;
    }
    if (!markerStyle || items.length === 0) return;
    if (opts.limit !== undefined && items.length < opts.limit) return;
    const last = items[items.length - 1] as Record<string, unknown> | undefined;
    const m = last?.[markerField] ?? last?.subdir;
    if (typeof m !== 'string' || m === marker) return;
    marker = m;
    url = undefined;
  }
}
