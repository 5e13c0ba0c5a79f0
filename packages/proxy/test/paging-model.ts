/**
 * Models of the four list conventions the aggregation pages over, written from the services' documented
 * behaviour (and devcloud's), for the paging property test:
 * - Glance: `sort=k:dir,…` or sort_key/sort_dir, default created_at desc, then created_at and id appended with the
 *   last direction; default page 25; a full page carries `next` (relative to the service root).
 * - Nova: sort_key/sort_dir (dir default desc), default created_at desc, ties broken by id desc; full page →
 *   `servers_links` next.
 * - Cinder: `sort=k:dir` or sort_key/sort_dir, created_at and id appended like Glance; full page → `*_links` next.
 * - Neutron: sort_key/sort_dir in pairs, id asc appended; sorted only when sorting or paging is asked (else the
 *   table's own order); `*_links` next and previous (page_reverse) only when `limit` is given.
 * Every model sorts created_at on the stored, precise time (`seq`) while rendering it to the second, as the real
 * databases do: two items created within one second render equal created_at and are still ordered by the service.
 */

export type Convention = 'glance' | 'nova' | 'cinder' | 'neutron';

export interface ModelItem {
  id: string;
  /** Stored creation time (precise); rendered as created_at at second resolution. */
  seq: number;
  name: string;
  status: string;
  size: number;
}

export interface Collection {
  name: string;
  service: string;
  convention: Convention;
  /** Client-facing path (what the proxy receives). */
  path: string;
  /** Sort keys the service accepts (and the model can compare). */
  sortKeys: string[];
}

const CINDER_KEYS = ['id', 'name', 'status', 'size', 'created_at'];
const NEUTRON_KEYS = ['id', 'name', 'status', 'created_at'];
const neutron = (name: string): Collection => ({
  name,
  service: 'network',
  convention: 'neutron',
  path: `/network/v2.0/${name}`,
  sortKeys: NEUTRON_KEYS,
});
const cinder = (name: string): Collection => ({
  name,
  service: 'block-storage',
  convention: 'cinder',
  path: `/volume/v3/0123456789abcdef0123456789abcdef/${name}/detail`,
  sortKeys: CINDER_KEYS,
});

/** One entry per collection the proxy aggregates (paths.ts AGGREGATED). */
export const COLLECTIONS: Collection[] = [
  {
    name: 'servers',
    service: 'compute',
    convention: 'nova',
    path: '/compute/v2.1/servers/detail',
    sortKeys: ['id', 'name', 'created_at'],
  },
  {
    name: 'images',
    service: 'image',
    convention: 'glance',
    path: '/image/v2/images',
    sortKeys: ['id', 'name', 'status', 'size', 'created_at'],
  },
  cinder('volumes'),
  cinder('snapshots'),
  cinder('backups'),
  cinder('attachments'),
  cinder('groups'),
  neutron('networks'),
  neutron('subnets'),
  neutron('ports'),
  neutron('floatingips'),
  neutron('routers'),
  neutron('security-groups'),
  neutron('security-group-rules'),
];

export function render(it: ModelItem): Record<string, unknown> {
  // 3 stored ticks per rendered second: items close in time tie on created_at.
  const s = Math.floor(it.seq / 3);
  const created = `2026-01-01T00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}Z`;
  return { id: it.id, name: it.name, status: it.status, size: it.size, created_at: created };
}

function stored(it: ModelItem, key: string): string | number {
  if (key === 'created_at') return it.seq;
  return it[key as 'id' | 'name' | 'status' | 'size'];
}

type Sort = { key: string; dir: 'asc' | 'desc' }[];

function parseSort(c: Convention, q: URLSearchParams): Sort | undefined {
  const out: Sort = [];
  const dir = (d: string | undefined, dflt: 'asc' | 'desc') => (d === 'asc' || d === 'desc' ? d : dflt);
  const sort = q.get('sort');
  if (sort && (c === 'glance' || c === 'cinder')) {
    for (const part of sort.split(',')) {
      const [k, d] = part.split(':');
      out.push({ key: k!, dir: dir(d, 'desc') });
    }
  } else {
    const keys = q.getAll('sort_key').flatMap((k) => (c === 'cinder' ? k.split(',') : [k]));
    const dirs = q.getAll('sort_dir').flatMap((d) => (c === 'cinder' ? d.split(',') : [d]));
    keys.forEach((k, i) => {
      out.push({ key: k, dir: dir(dirs[i] ?? dirs[dirs.length - 1], c === 'neutron' ? 'asc' : 'desc') });
    });
  }
  if (c === 'neutron') {
    if (out.length === 0 && !q.has('limit') && !q.has('marker')) return undefined; // table order
    return [...out, { key: 'id', dir: 'asc' }];
  }
  if (c === 'nova') {
    if (out.length === 0) out.push({ key: 'created_at', dir: 'desc' });
    return [...out, { key: 'id', dir: 'desc' }];
  }
  if (out.length === 0) out.push({ key: 'created_at', dir: 'desc' });
  const last = out[out.length - 1]!.dir;
  if (!out.some((s) => s.key === 'created_at')) out.push({ key: 'created_at', dir: last });
  if (!out.some((s) => s.key === 'id')) out.push({ key: 'id', dir: last });
  return out;
}

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The whole collection in the service's order for this query (what one unpaged walk would see). */
export function serviceOrder(c: Convention, rows: ModelItem[], q: URLSearchParams): ModelItem[] {
  const sort = parseSort(c, q);
  if (!sort) return [...rows];
  return [...rows].sort((a, b) => {
    for (const s of sort) {
      const r = cmp(stored(a, s.key), stored(b, s.key));
      if (r !== 0) return s.dir === 'asc' ? r : -r;
    }
    return 0;
  });
}

export interface ModelAnswer {
  status: number;
  json: Record<string, unknown>;
}

/** One list call against a cloud holding `rows`, as the service would answer it. `root` is its endpoint. */
export function listCall(coll: Collection, rows: ModelItem[], q: URLSearchParams, root: string): ModelAnswer {
  const c = coll.convention;
  const key = coll.name.replaceAll('-', '_');
  let order = serviceOrder(c, rows, q);
  const reverse = c === 'neutron' && (q.get('page_reverse') ?? '').toLowerCase() === 'true';
  const limitRaw = q.get('limit');
  let limit = limitRaw === null ? undefined : Number(limitRaw);
  if (c === 'neutron' && limit === 0) limit = undefined;
  if (limit === undefined) limit = c === 'glance' ? 25 : c === 'neutron' ? undefined : 1000;
  if (reverse) order = order.reverse();
  const marker = q.get('marker');
  if (marker) {
    const i = order.findIndex((r) => r.id === marker);
    if (i < 0) return { status: c === 'neutron' || c === 'glance' ? 404 : 400, json: { error: 'marker not found' } };
    order = order.slice(i + 1);
  }
  let page = limit === undefined ? order : order.slice(0, limit);
  if (reverse) page = page.reverse();
  const json: Record<string, unknown> = { [key]: page.map(render) };
  const full = limit !== undefined && page.length === limit && page.length > 0;
  const again = (m: string, rev: boolean) => {
    const p = new URLSearchParams(q);
    p.set('marker', m);
    p.delete('page_reverse');
    if (rev) p.set('page_reverse', 'True');
    return p.toString();
  };
  if (c === 'glance') {
    if (full) json.next = `/v2/images?${again(page[page.length - 1]!.id, false)}`;
  } else if (c === 'neutron') {
    if (limit !== undefined) {
      const links: { rel: string; href: string }[] = [];
      const first = page[0]?.id;
      const last = page[page.length - 1]?.id;
      if ((full || reverse) && last) links.push({ rel: 'next', href: `${root}?${again(last, false)}` });
      if ((full || !reverse) && first) links.push({ rel: 'previous', href: `${root}?${again(first, true)}` });
      json[`${key}_links`] = links;
    }
  } else if (full) {
    json[`${key}_links`] = [{ rel: 'next', href: `${root}?${again(page[page.length - 1]!.id, false)}` }];
  }
  return { status: 200, json };
}
