/**
 * List aggregation: a collection GET (servers, volumes, images, networks, ports, floating IPs, …) is asked of
 * every available target in parallel under one deadline, with `limit` and the sort pushed down to each; the
 * pages are k-way merged on the sort keys (default created_at desc, id desc) and cut where the merge stops
 * being certain; the next page is addressed by an opaque composite marker holding one cursor per target.
 * A target that fails or misses the deadline is left out and named in X-OCX-Missing-Service-Providers.
 */
import { randomUUID } from 'node:crypto';
import { AGGREGATED, collectionOf, itemsKey } from '../paths.ts';
import type { Extension, ExtensionContext, ExtensionResponse } from './types.ts';

export const MISSING_HEADER = 'x-ocx-missing-service-providers';
const MARKER_PREFIX = 'ocx1.';

type Cursor = string | null; // string = marker at that target; null = exhausted
type Cursors = Record<string, Cursor>;

export interface SortKey {
  key: string;
  dir: 'asc' | 'desc';
}

export function encodeMarker(c: Cursors): string {
  return MARKER_PREFIX + Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeMarker(m: string): Cursors | undefined {
  if (!m.startsWith(MARKER_PREFIX)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(m.slice(MARKER_PREFIX.length), 'base64url').toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const out: Cursors = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (val === null || typeof val === 'string') out[k] = val;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Sort keys as the client asked (`sort=k:dir,…` or repeated sort_key/sort_dir); undefined when it did not. */
export function requestedSort(q: URLSearchParams): SortKey[] | undefined {
  const sort = q.get('sort');
  if (sort) {
    return sort
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [key, dir] = s.split(':');
        return { key: key!, dir: dir?.toLowerCase() === 'asc' ? 'asc' : 'desc' };
      });
  }
  const keys = q.getAll('sort_key');
  if (keys.length === 0) return undefined;
  const dirs = q.getAll('sort_dir');
  return keys.map((key, i) => ({
    key,
    dir: (dirs[i] ?? dirs[dirs.length - 1] ?? 'desc').toLowerCase() === 'asc' ? 'asc' : 'desc',
  }));
}

export const DEFAULT_SORT: SortKey[] = [
  { key: 'created_at', dir: 'desc' },
  { key: 'id', dir: 'desc' },
];

export const NETWORK_DEFAULT_SORT: SortKey[] = [{ key: 'id', dir: 'asc' }];

function compareValues(a: unknown, b: unknown): number {
  const am = a === undefined || a === null;
  const bm = b === undefined || b === null;
  if (am || bm) return am === bm ? 0 : am ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const as = String(a);
  const bs = String(b);
  return as < bs ? -1 : as > bs ? 1 : 0;
}

export function comparator(keys: SortKey[]): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  return (a, b) => {
    for (const k of keys) {
      const c = compareValues(a[k.key], b[k.key]);
      if (c !== 0) return k.dir === 'desc' ? -c : c;
    }
    return 0;
  };
}

function hasNext(json: Record<string, unknown>, key: string): boolean {
  if (typeof json.next === 'string' && json.next) return true;
  const links = json[`${key}_links`];
  return Array.isArray(links) && links.some((l) => (l as { rel?: string })?.rel === 'next');
}

interface Page {
  targetId: string;
  items: Record<string, unknown>[];
  more: boolean;
}

/**
 * Merge pages that are each sorted by `cmp`. Items are emitted only up to the smallest last item among pages that
 * have more behind them (beyond it, an unseen item of that target could sort earlier), and at most `limit`.
 * Returns the emitted items (with their target) and the new cursor of every target.
 */
export function mergePages(
  pages: Page[],
  cmp: (a: Record<string, unknown>, b: Record<string, unknown>) => number,
  limit: number | undefined,
  previous: Cursors,
): { items: { targetId: string; item: Record<string, unknown> }[]; cursors: Cursors } {
  const all: { targetId: string; item: Record<string, unknown>; idx: number }[] = [];
  for (const p of pages) {
    for (const [idx, item] of p.items.entries()) all.push({ targetId: p.targetId, item, idx });
  }
  all.sort(
    (x, y) => cmp(x.item, y.item) || (x.targetId < y.targetId ? -1 : x.targetId > y.targetId ? 1 : x.idx - y.idx),
  );
  let bound: Record<string, unknown> | undefined;
  let boundTarget = '';
  for (const p of pages) {
    if (!p.more || p.items.length === 0) continue;
    const last = p.items[p.items.length - 1]!;
    if (!bound || cmp(last, bound) < 0 || (cmp(last, bound) === 0 && p.targetId < boundTarget)) {
      bound = last;
      boundTarget = p.targetId;
    }
  }
  let emitted = bound
    ? all.filter((x) => cmp(x.item, bound) < 0 || (cmp(x.item, bound) === 0 && x.targetId <= boundTarget))
    : all;
  if (limit !== undefined && emitted.length > limit) emitted = emitted.slice(0, limit);
  const cursors: Cursors = { ...previous };
  for (const p of pages) {
    const mine = emitted.filter((x) => x.targetId === p.targetId);
    if (!p.more && mine.length === p.items.length) {
      cursors[p.targetId] = null;
    } else if (p.more && p.items.length === 0) {
      cursors[p.targetId] = null;
    } else if (mine.length > 0) {
      const id = mine[mine.length - 1]!.item.id;
      cursors[p.targetId] = typeof id === 'string' ? id : String(id);
    }
  }
  return { items: emitted.map(({ targetId, item }) => ({ targetId, item })), cursors };
}

export function listAggregation(): Extension {
  // Clients that page with `marker=<last id>` (novaclient, cinderclient) instead of following our next link:
  // remember the composite cursor each page ended with, by its last item, so such a marker continues the merge.
  const pageEnds = new Map<string, Cursors>();
  const remember = (key: string, c: Cursors) => {
    if (pageEnds.size >= 10_000) pageEnds.delete(pageEnds.keys().next().value as string);
    pageEnds.set(key, c);
  };
  return {
    name: 'list-aggregation',
    routes: [{ method: 'GET', service: '*', path: /^\/[^/]+(\/detail)?$/ }],
    async onRequest(ctx: ExtensionContext): Promise<ExtensionResponse | undefined> {
      const collection = collectionOf(ctx.path);
      if (!collection || !AGGREGATED.has(collection)) return undefined;
      if (ctx.explicitTarget || ctx.fromPeer) return undefined; // one target: plain forwarding
      const marker = ctx.query.get('marker');
      let cursors: Cursors = {};
      if (marker) {
        const decoded = decodeMarker(marker) ?? pageEnds.get(`${ctx.user.userId}|${collection}|${marker}`);
        if (!decoded) {
          // A plain marker (an id) belongs to one target: page through that target alone.
          ctx.target = (await ctx.locate(collection, marker)) ?? ctx.homeId;
          return undefined;
        }
        cursors = decoded;
      }
      const limitRaw = ctx.query.get('limit');
      const limit = limitRaw !== null && /^\d+$/.test(limitRaw) ? Number(limitRaw) : undefined;
      const asked = requestedSort(ctx.query);
      // Neutron sorts only on its own attribute list (created_at is refused): its default merge key is id.
      const sort = asked ?? (ctx.service === 'network' ? NETWORK_DEFAULT_SORT : DEFAULT_SORT);
      const key = itemsKey(collection);
      // Without a marker every available target starts at its first page; with one, only targets holding a cursor
      // ('' = not started yet) take part.
      const run = marker
        ? ctx.availableTargets.filter((t) => typeof cursors[t] === 'string')
        : [...ctx.availableTargets];
      const path = `/${ctx.path.segments.join('/')}`;
      const results = await ctx.fanout(run, (t) => {
        const q = new URLSearchParams(ctx.query);
        q.delete('marker');
        const c = cursors[t];
        if (typeof c === 'string' && c !== '') q.set('marker', c);
        if (!asked) pushDownSort(q, ctx.service, sort);
        return { method: 'GET', path, query: q };
      });
      const pages: Page[] = [];
      const missing: string[] = [];
      const errors: { status: number; text: string; targetId: string }[] = [];
      for (const r of results) {
        if (!r.ok) {
          // A cloud that does not offer this service is not missing anything.
          if (r.error.code !== 'ENDPOINT_NOT_FOUND') missing.push(r.targetId);
          continue;
        }
        const json = r.result.json as Record<string, unknown> | undefined;
        const items = json?.[key];
        if (r.result.status !== 200 || !Array.isArray(items)) {
          missing.push(r.targetId);
          errors.push({ status: r.result.status, text: r.result.text, targetId: r.targetId });
          continue;
        }
        pages.push({ targetId: r.targetId, items: items as Record<string, unknown>[], more: hasNext(json!, key) });
      }
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-openstack-request-id': `req-${randomUUID()}`,
      };
      if (missing.length) headers[MISSING_HEADER] = missing.join(',');
      if (pages.length === 0 && run.length > 0) {
        const first = errors[0];
        if (first && first.status >= 400 && first.status < 500 && errors.length === run.length) {
          // Every target refused the request itself (bad filter, policy): that is the answer.
          return {
            status: first.status,
            headers: { ...headers, 'content-type': 'application/json' },
            body: first.text,
          };
        }
        return {
          status: 503,
          headers,
          json: errorJson(
            ctx.service,
            503,
            `no service provider answered the ${collection} list: ${missing.join(', ')}`,
          ),
        };
      }
      // Targets that failed are dropped from this pagination chain so paging always ends.
      const previous: Cursors = { ...cursors };
      for (const t of run) previous[t] = pages.some((p) => p.targetId === t) ? (cursors[t] ?? '') : null;
      const merged = mergePages(pages, comparator(sort), limit, previous);
      await ctx.learn(
        pages.flatMap((p) =>
          p.items
            .filter((it) => typeof it.id === 'string')
            .map((it) => ({ type: collection, id: it.id as string, targetId: p.targetId })),
        ),
      );
      const body: Record<string, unknown> = { [key]: merged.items.map((x) => x.item) };
      const lastId = merged.items[merged.items.length - 1]?.item.id;
      if (typeof lastId === 'string') remember(`${ctx.user.userId}|${collection}|${lastId}`, merged.cursors);
      const more = Object.values(merged.cursors).some((c) => c !== null);
      const firstOk = results.find((r) => r.ok);
      const firstPage = firstOk?.ok ? (firstOk.result.json as Record<string, unknown> | undefined) : undefined;
      if (ctx.service === 'image') {
        if (firstPage?.first !== undefined) body.first = firstPage.first;
        if (firstPage?.schema !== undefined) body.schema = firstPage.schema;
      }
      if (more) {
        const q = new URLSearchParams(ctx.query);
        q.set('marker', encodeMarker(merged.cursors));
        if (ctx.service === 'image') {
          body.next = `/${ctx.path.version}/${ctx.path.segments.join('/')}?${q.toString()}`;
        } else {
          body[`${key}_links`] = [{ rel: 'next', href: `${ctx.publicRoot}${ctx.path.rest}?${q.toString()}` }];
        }
      }
      return { status: 200, headers, json: body };
    },
  };
}

function pushDownSort(q: URLSearchParams, service: string, sort: SortKey[]): void {
  if (service === 'block-storage') {
    q.set('sort', sort.map((s) => `${s.key}:${s.dir}`).join(','));
    return;
  }
  for (const s of sort) {
    q.append('sort_key', s.key);
    q.append('sort_dir', s.dir);
  }
}

function errorJson(service: string, status: number, message: string): unknown {
  if (service === 'network') return { NeutronError: { type: 'HTTPServiceUnavailable', message, detail: '' } };
  if (service === 'compute' || service === 'block-storage') return { serviceUnavailable: { code: status, message } };
  return { error: { code: status, title: 'Service Unavailable', message } };
}
