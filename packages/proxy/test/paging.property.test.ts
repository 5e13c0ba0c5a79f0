/**
 * Property: paging an aggregated list through the proxy, following the links it hands out in the service's own
 * convention (Glance `next`, Nova and Cinder `*_links`, Neutron `*_links` forwards and `previous` with
 * page_reverse backwards), returns every item of every cloud exactly once, each cloud's items in the order that
 * cloud gives them, the whole list in the requested sort order, and never more than `limit` on a page.
 * The clouds are models of each service's list behaviour (paging-model.ts); the proxy side is the real
 * list-aggregation extension. Run for every aggregated collection, over 1–4 clouds (some empty), random
 * limits, sorts (every syntax the service takes), equal sort keys and created_at ties within one second.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { listAggregation } from '../src/extensions/aggregate.ts';
import type { CallSpec, ExtensionContext, FanoutResult } from '../src/extensions/types.ts';
import type { ValidatedToken } from '../src/keystone.ts';
import { AGGREGATED, parsePath } from '../src/paths.ts';
import { COLLECTIONS, type Collection, listCall, type ModelItem, render, serviceOrder } from './paging-model.ts';

const CLOUDS = ['idp', 'sp1', 'sp2', 'sp3'];
const USER: ValidatedToken = {
  userId: 'u1',
  userName: 'demo',
  projectId: 'p1',
  projectName: 'demo',
  projectDomainId: 'default',
  projectDomainName: 'Default',
  roles: ['member'],
  expiresAt: new Date(Date.now() + 3_600_000),
  serviceProviders: [],
};

interface Case {
  clouds: number;
  items: (ModelItem & { cloud: number })[];
  limit: number | undefined;
  sort: { key: string; dir: 'asc' | 'desc' | undefined }[];
  syntax: 'sort' | 'sort_key';
  reverse: boolean;
}

function caseArb(coll: Collection): fc.Arbitrary<Case> {
  const item = fc.record({
    id: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 3, maxLength: 3 }),
    seq: fc.integer({ min: 0, max: 20 }),
    name: fc.constantFrom('a', 'b', 'c'),
    status: fc.constantFrom('active', 'error'),
    size: fc.integer({ min: 1, max: 3 }),
    cloud: fc.integer({ min: 0, max: 3 }),
  });
  const neutron = coll.convention === 'neutron';
  const sortEntry = fc.record({
    key: fc.constantFrom(...coll.sortKeys),
    // Neutron takes sort_key and sort_dir only in pairs; the others default the direction to desc.
    dir: neutron ? fc.constantFrom<'asc' | 'desc'>('asc', 'desc') : fc.constantFrom('asc', 'desc', undefined),
  });
  return fc.record({
    clouds: fc.integer({ min: 1, max: 4 }),
    items: fc.uniqueArray(item, { maxLength: 14, selector: (i) => i.id }),
    limit: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    sort: fc.uniqueArray(sortEntry, { maxLength: 2, selector: (s) => s.key }),
    syntax: fc.constantFrom<'sort' | 'sort_key'>('sort', 'sort_key'),
    reverse: neutron ? fc.boolean() : fc.constant(false),
  });
}

function firstQuery(coll: Collection, c: Case): URLSearchParams {
  const q = new URLSearchParams();
  if (c.limit !== undefined) q.set('limit', String(c.limit));
  const useSortParam = c.syntax === 'sort' && (coll.convention === 'glance' || coll.convention === 'cinder');
  if (useSortParam && c.sort.length) {
    q.set('sort', c.sort.map((s) => (s.dir ? `${s.key}:${s.dir}` : s.key)).join(','));
  } else if (coll.convention === 'cinder') {
    // Cinder's sort_key/sort_dir take one key each (a comma list is its own syntax).
    const s = c.sort[0];
    if (s) {
      q.set('sort_key', s.key);
      if (s.dir) q.set('sort_dir', s.dir);
    }
  } else {
    for (const s of c.sort) q.append('sort_key', s.key);
    if (c.sort.every((s) => s.dir)) for (const s of c.sort) q.append('sort_dir', s.dir!);
  }
  if (c.reverse && c.limit !== undefined) q.set('page_reverse', 'True');
  return q;
}

/** The sort the services apply to `firstQuery`'s parameters (directions left out default to desc). */
function effectiveSort(coll: Collection, c: Case): { key: string; dir: 'asc' | 'desc' }[] {
  const useSortParam = c.syntax === 'sort' && (coll.convention === 'glance' || coll.convention === 'cinder');
  if (useSortParam) return c.sort.map((s) => ({ key: s.key, dir: s.dir ?? 'desc' }));
  if (coll.convention === 'cinder') return c.sort.slice(0, 1).map((s) => ({ key: s.key, dir: s.dir ?? 'desc' }));
  const all = c.sort.every((s) => s.dir);
  return c.sort.map((s) => ({ key: s.key, dir: all ? s.dir! : 'desc' }));
}

/** A context like the engine's, whose targets are the models (one per cloud). */
function context(coll: Collection, rows: Record<string, ModelItem[]>, query: URLSearchParams): ExtensionContext {
  const [pathname] = coll.path.split('?');
  const path = parsePath(pathname!, '0123456789abcdef0123456789abcdef')!;
  const targets = Object.keys(rows);
  const call = (t: string, spec: CallSpec) => {
    const root = `http://${t}.example${path.prefix}`;
    const a = listCall(coll, rows[t]!, spec.query ?? new URLSearchParams(), `${root}${spec.path}`);
    return { targetId: t, status: a.status, headers: {}, json: a.json, text: JSON.stringify(a.json) };
  };
  return {
    service: coll.service,
    method: 'GET',
    path,
    user: USER,
    homeId: targets[0]!,
    availableTargets: targets,
    explicitTarget: undefined,
    fromPeer: false,
    publicRoot: `http://proxy.example${path.prefix}`,
    query,
    json: undefined,
    headers: {},
    target: undefined,
    locate: async () => undefined,
    call: async (t, spec) => call(t, spec),
    fanout: async (ts, spec): Promise<FanoutResult[]> =>
      ts.map((t) => ({ targetId: t, ok: true, result: call(t, spec(t)) })),
    learn: async () => undefined,
    inject: async () => undefined,
  };
}

function nextQuery(coll: Collection, body: Record<string, unknown>, reverse: boolean): URLSearchParams | undefined {
  if (coll.convention === 'glance') {
    return typeof body.next === 'string' ? new URL(body.next, 'http://x').searchParams : undefined;
  }
  const links = body[`${coll.name.replaceAll('-', '_')}_links`] as { rel: string; href: string }[] | undefined;
  const link = links?.find((l) => l.rel === (reverse ? 'previous' : 'next'));
  return link ? new URL(link.href).searchParams : undefined;
}

function compareRendered(a: unknown, b: unknown): number {
  return a === b ? 0 : (a as string | number) < (b as string | number) ? -1 : 1;
}

async function walk(coll: Collection, c: Case): Promise<void> {
  const names = CLOUDS.slice(0, c.clouds);
  const rows: Record<string, ModelItem[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const it of c.items) rows[names[it.cloud % c.clouds]!]!.push(it);
  const ext = listAggregation();
  const q0 = firstQuery(coll, c);
  const reverse = q0.has('page_reverse');
  const pages: Record<string, unknown>[][] = [];
  let q: URLSearchParams | undefined = q0;
  const key = coll.name.replaceAll('-', '_');
  for (let n = 0; q; n++) {
    assert.ok(n < 100, 'paging does not end');
    const res = await ext.onRequest!(context(coll, rows, q));
    assert.ok(res, 'the aggregation answers a list by itself');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const body = res.json as Record<string, unknown>;
    const page = body[key] as Record<string, unknown>[];
    if (c.limit !== undefined) assert.ok(page.length <= c.limit, `page of ${page.length} over limit ${c.limit}`);
    pages.push(page);
    q = nextQuery(coll, body, reverse);
    if (q && page.length === 0) assert.fail('an empty page that is not the last');
  }
  const got = (reverse ? pages.reverse() : pages).flat();
  const ids = got.map((x) => x.id as string);
  // Every item exactly once.
  assert.deepEqual([...ids].sort(), c.items.map((i) => i.id).sort(), 'items lost or repeated');
  // Each cloud's items in that cloud's own order (a sorted, paged walk of it alone).
  const sortedQ = new URLSearchParams(q0);
  sortedQ.delete('page_reverse');
  if (!sortedQ.has('limit')) sortedQ.set('limit', '1000');
  for (const n of names) {
    const mine = new Set(rows[n]!.map((i) => i.id));
    assert.deepEqual(
      ids.filter((id) => mine.has(id)),
      serviceOrder(coll.convention, rows[n]!, sortedQ).map((i) => i.id),
      `order of ${n}'s items`,
    );
  }
  // The whole list in the requested order (on the values clients see).
  const sort = c.sort.length
    ? effectiveSort(coll, c)
    : coll.convention === 'neutron'
      ? [{ key: 'id', dir: 'asc' }]
      : [{ key: 'created_at', dir: 'desc' }];
  const byId = new Map(c.items.map((i) => [i.id, render(i)]));
  for (let i = 1; i < ids.length; i++) {
    const a = byId.get(ids[i - 1]!)!;
    const b = byId.get(ids[i]!)!;
    for (const s of sort) {
      const r = compareRendered(a[s.key], b[s.key]) * (s.dir === 'asc' ? 1 : -1);
      assert.ok(r <= 0, `${ids[i - 1]} before ${ids[i]} breaks ${s.key} ${s.dir}`);
      // Equal rendered created_at may still differ in the stored time the service sorted on: later keys are moot.
      if (r < 0 || s.key === 'created_at') break;
    }
  }
}

test('the property covers every aggregated collection', () => {
  assert.deepEqual(COLLECTIONS.map((c) => c.name).sort(), [...AGGREGATED].sort());
});

for (const coll of COLLECTIONS) {
  test(`paging ${coll.name} (${coll.convention}) returns every item once, in order, pages within limit`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb(coll), (c) => walk(coll, c)),
      { numRuns: 150 },
    );
  });
}
