/**
 * List aggregation: a collection GET (servers, volumes, images, networks, ports, floating IPs, …) is asked of
 * every available target in parallel under one deadline, with `limit` and the sort pushed down to each; the
 * pages are k-way merged on the sort keys (default created_at desc, id desc) and cut where the merge stops
 * being certain; the next page is addressed by an opaque composite marker holding one cursor per target.
 * A target that fails or misses the deadline is left out and named in X-OCX-Missing-Service-Providers.
 */
import { randomUUID } from 'node:crypto';
import { errorResponse } from '../errors.ts';
import { AGGREGATED, collectionOf, itemsKey } from '../paths.ts';
import type { Extension, ExtensionContext, ExtensionResponse } from './types.ts';

export const MISSING_HEADER = 'x-ocx-missing-service-providers';
const MARKER_PREFIX = 'ocx1.';
/** Neutron's page_reverse walks backwards: its cursors mean "before this id" at each target. */
const REVERSE_PREFIX = 'ocx1r.';

type Cursor = string | null; // string = marker at that target; null = exhausted
type Cursors = Record<string, Cursor>;

export interface SortKey {
  key: string;
  dir: 'asc' | 'desc';
}

export function encodeMarker(c: Cursors, reverse = false): string {
  return (reverse ? REVERSE_PREFIX : MARKER_PREFIX) + Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The cursors of a composite marker (forward, or with `reverse` a page_reverse one); undefined for a plain id. */
export function decodeMarker(m: string, reverse = false): Cursors | undefined {
  const prefix = reverse ? REVERSE_PREFIX : MARKER_PREFIX;
  if (!m.startsWith(prefix)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(m.slice(prefix.length), 'base64url').toString('utf8')) as unknown;
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

function hasNext(json: Record<string, unknown>, key: string, rel: 'next' | 'previous'): boolean {
  if (rel === 'next' && typeof json.next === 'string' && json.next) return true;
  const links = json[`${key}_links`];
  return Array.isArray(links) && links.some((l) => (l as { rel?: string })?.rel === rel);
}

interface Page {
  targetId: string;
  /** In the order the target gave them: its order is the truth, whatever `cmp` thinks of it. */
  items: Record<string, unknown>[];
  more: boolean;
}

/**
 * k-way merge of pages, each in its target's own order. The next item is always the head of one target's page
 * (the head that sorts first by `cmp`, ties to the lower target id), so every target's items come out as a prefix
 * of its page in its own order, and its cursor (the last item taken) continues exactly where the page stopped.
 * `cmp` only interleaves targets: it never reorders one target's items, so a service that orders on something the
 * client cannot see (created_at stored to the microsecond, rendered to the second; its own tie-break) loses nothing.
 * The merge stops at `limit`, or when a target that has more behind its page has run out of items here (its
 * next item, unseen, could sort before any head left).
 */
export function mergePages(
  pages: Page[],
  cmp: (a: Record<string, unknown>, b: Record<string, unknown>) => number,
  limit: number | undefined,
  previous: Cursors,
): { items: { targetId: string; item: Record<string, unknown> }[]; cursors: Cursors } {
  const taken = pages.map(() => 0);
  const out: { targetId: string; item: Record<string, unknown> }[] = [];
  while (limit === undefined || out.length < limit) {
    let best = -1;
    let blocked = false;
    for (const [i, p] of pages.entries()) {
      if (taken[i]! >= p.items.length) {
        // A target that says "more" but sent nothing is treated as done (else paging could never end).
        if (p.more && p.items.length > 0) blocked = true;
        continue;
      }
      if (best < 0) {
        best = i;
        continue;
      }
      const b = pages[best]!;
      const c = cmp(p.items[taken[i]!]!, b.items[taken[best]!]!);
      if (c < 0 || (c === 0 && p.targetId < b.targetId)) best = i;
    }
    if (blocked || best < 0) break;
    const p = pages[best]!;
    out.push({ targetId: p.targetId, item: p.items[taken[best]!]! });
    taken[best]!++;
  }
  const cursors: Cursors = { ...previous };
  for (const [i, p] of pages.entries()) {
    const n = taken[i]!;
    if ((n === p.items.length && !p.more) || p.items.length === 0) cursors[p.targetId] = null;
    else if (n > 0) cursors[p.targetId] = String(p.items[n - 1]!.id);
  }
  return { items: out, cursors };
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
    // Declines (and changes nothing) only for one target named in the request or a peer's request.
    pure: true,
    routes: [{ method: 'GET', service: '*', path: /^\/[^/]+(\/detail)?$/ }],
    async onRequest(ctx: ExtensionContext): Promise<ExtensionResponse | undefined> {
      const collection = collectionOf(ctx.path);
      if (!collection || !AGGREGATED.has(collection)) return undefined;
      if (ctx.explicitTarget || ctx.fromPeer) return undefined; // one target: plain forwarding
      const marker = ctx.query.get('marker');
      // Neutron's page_reverse: the page before the marker (or the last page), still in forward order.
      const reverse = ctx.service === 'network' && (ctx.query.get('page_reverse') ?? '').toLowerCase() === 'true';
      let cursors: Cursors = {};
      if (marker) {
        if (decodeMarker(marker, !reverse)) {
          // A composite marker of the other direction: its cursors do not mean what this walk needs.
          return errorResponse(ctx.service, 400, 'page_reverse must be used with the marker of a previous link');
        }
        const decoded =
          decodeMarker(marker, reverse) ??
          (reverse ? undefined : pageEnds.get(`${ctx.user.userId}|${collection}|${marker}`));
        if (!decoded) {
          // A plain marker (an id) belongs to one target: page through that target alone.
          ctx.target = (await ctx.locate(collection, marker)) ?? ctx.homeId;
          return undefined;
        }
        cursors = decoded;
      }
      const limitRaw = ctx.query.get('limit');
      let limit = limitRaw !== null && /^\d+$/.test(limitRaw) ? Number(limitRaw) : undefined;
      if (limit === 0 && ctx.service === 'network') limit = undefined; // Neutron: limit=0 means no limit
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
        const page = items as Record<string, unknown>[];
        pages.push({
          targetId: r.targetId,
          // Backwards, each target's page is merged from its end.
          items: reverse ? [...page].reverse() : page,
          more: hasNext(json!, key, reverse ? 'previous' : 'next'),
        });
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
        const fault = errorResponse(
          ctx.service,
          503,
          `no service provider answered the ${collection} list: ${missing.join(', ')}`,
        );
        return { ...fault, headers: { ...headers, ...fault.headers } };
      }
      // Targets that failed are dropped from this pagination chain so paging always ends.
      const previous: Cursors = { ...cursors };
      for (const t of run) previous[t] = pages.some((p) => p.targetId === t) ? (cursors[t] ?? '') : null;
      const forward = comparator(sort);
      const merged = mergePages(pages, reverse ? (a, b) => forward(b, a) : forward, limit, previous);
      if (reverse) merged.items.reverse();
      await ctx.learn(
        pages.flatMap((p) =>
          p.items
            .filter((it) => typeof it.id === 'string')
            .map((it) => ({ type: collection, id: it.id as string, targetId: p.targetId })),
        ),
      );
      const body: Record<string, unknown> = { [key]: merged.items.map((x) => x.item) };
      const lastId = merged.items[merged.items.length - 1]?.item.id;
      if (typeof lastId === 'string' && !reverse)
        remember(`${ctx.user.userId}|${collection}|${lastId}`, merged.cursors);
      const more = Object.values(merged.cursors).some((c) => c !== null);
      const firstOk = results.find((r) => r.ok);
      const firstPage = firstOk?.ok ? (firstOk.result.json as Record<string, unknown> | undefined) : undefined;
      if (ctx.service === 'image') {
        if (firstPage?.first !== undefined) body.first = firstPage.first;
        if (firstPage?.schema !== undefined) body.schema = firstPage.schema;
      }
      if (more) {
        const q = new URLSearchParams(ctx.query);
        q.set('marker', encodeMarker(merged.cursors, reverse));
        if (reverse) {
          // Only the way back is offered: a forward marker from here would need every target's position.
          body[`${key}_links`] = [{ rel: 'previous', href: `${ctx.publicRoot}${ctx.path.rest}?${q.toString()}` }];
        } else if (ctx.service === 'image') {
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
