import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparator, DEFAULT_SORT, decodeMarker, encodeMarker, mergePages } from '../src/extensions/aggregate.ts';

type Item = { id: string; created_at: string };

/** A fake upstream page: items after `marker` in its own sorted order, `limit` of them, `more` when some remain. */
function upstreamPage(all: Item[], marker: string, limit: number | undefined) {
  const start = marker ? all.findIndex((x) => x.id === marker) + 1 : 0;
  const items = limit === undefined ? all.slice(start, start + 7) : all.slice(start, start + limit);
  return { items, more: start + items.length < all.length };
}

function makeCloud(name: string, n: number, seed: number): Item[] {
  const out: Item[] = [];
  for (let i = 0; i < n; i++) {
    const t = (seed * 7919 + i * 104729) % 1000;
    out.push({
      id: `${name}-${String(i).padStart(3, '0')}`,
      created_at: `2026-01-01T00:${String(Math.floor(t / 60) % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}Z`,
    });
  }
  return out;
}

test('paging with composite markers yields every item exactly once, in global sort order', () => {
  const cmp = comparator(DEFAULT_SORT);
  const clouds: Record<string, Item[]> = {
    idp: makeCloud('idp', 13, 1).sort(cmp),
    sp1: makeCloud('sp1', 0, 2).sort(cmp),
    sp2: makeCloud('sp2', 29, 3).sort(cmp),
  };
  const expected = Object.values(clouds)
    .flat()
    .sort(cmp)
    .map((x) => x.id);
  for (const limit of [1, 2, 5, 10, 100, undefined]) {
    const seen: string[] = [];
    let cursors: Record<string, string | null> = { idp: '', sp1: '', sp2: '' };
    for (let page = 0; page < 200; page++) {
      const pages = Object.entries(cursors)
        .filter(([, c]) => c !== null)
        .map(([t, c]) => ({ targetId: t, ...upstreamPage(clouds[t]!, c as string, limit) }));
      const r = mergePages(pages, cmp, limit, cursors);
      seen.push(...r.items.map((x) => x.item.id as string));
      // The marker survives the trip through the client unchanged.
      cursors = decodeMarker(encodeMarker(r.cursors))!;
      if (Object.values(cursors).every((c) => c === null)) break;
      assert.ok(r.items.length > 0, `page ${page} with limit ${limit} made no progress`);
    }
    assert.deepEqual(seen, expected, `limit ${limit}`);
  }
});

test('a page never emits past the last item of a cloud that has more', () => {
  const cmp = comparator([{ key: 'created_at', dir: 'asc' }]);
  const a = [
    { id: 'a1', created_at: '1' },
    { id: 'a2', created_at: '5' },
  ];
  const b = [
    { id: 'b1', created_at: '2' },
    { id: 'b2', created_at: '3' },
    { id: 'b3', created_at: '9' },
  ];
  const r = mergePages(
    [
      { targetId: 'a', items: a, more: true },
      { targetId: 'b', items: b, more: false },
    ],
    cmp,
    undefined,
    { a: '', b: '' },
  );
  // a has more after created_at 5, so b3 (9) must wait for the next page.
  assert.deepEqual(
    r.items.map((x) => x.item.id),
    ['a1', 'b1', 'b2', 'a2'],
  );
  assert.deepEqual(r.cursors, { a: 'a2', b: 'b2' });
});

test('plain ids are not taken for composite markers', () => {
  assert.equal(decodeMarker('5b1f0c2e-0000-4000-8000-000000000000'), undefined);
  assert.equal(decodeMarker('ocx1.not-base64-json'), undefined);
});
