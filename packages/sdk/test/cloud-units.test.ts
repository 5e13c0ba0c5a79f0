import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  filterList,
  globToRegExp,
  isPrivateV4,
  ListCache,
  networkFacts,
  resolveAddresses,
} from '../src/cloud/index.ts';
import { rollUp } from '../src/cloud/objects.ts';
import type { StoredObject } from '../src/cloud/types.ts';

describe('ListCache (stepped clock)', () => {
  test('fresh within the age, single refresh after, stale served during the refresh', async () => {
    let now = 1000;
    const cache = new ListCache<number>({ maxAgeMs: 100, now: () => now });
    let calls = 0;
    let release: (() => void) | undefined;
    const fetch = () =>
      new Promise<number>((resolve) => {
        calls++;
        const v = calls;
        release = () => resolve(v);
      });
    const first = cache.get(fetch);
    const joined = cache.get(fetch); // no value yet: waits for the same fetch
    release!();
    assert.deepEqual(await Promise.all([first, joined]), [1, 1]);
    now += 99;
    assert.equal(await cache.get(fetch), 1);
    assert.equal(calls, 1);
    now += 1; // now stale
    const refresher = cache.get(fetch);
    assert.equal(await cache.get(fetch), 1); // stale while refreshing
    release!();
    assert.equal(await refresher, 2);
    assert.equal(calls, 2);
    assert.equal(await cache.get(fetch), 2);
  });

  test('invalidate during a refresh keeps the result stale; a failed refresh keeps the old value', async () => {
    let now = 0;
    const cache = new ListCache<string>({ maxAgeMs: 1000, now: () => now });
    assert.equal(await cache.get(async () => 'a'), 'a');
    cache.invalidate();
    let release: (() => void) | undefined;
    const p = cache.get(() => new Promise<string>((r) => (release = () => r('b'))));
    cache.invalidate();
    release!();
    assert.equal(await p, 'b');
    assert.equal(cache.isFresh(), false);
    await assert.rejects(
      cache.get(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(cache.peek(), 'b');
    now += 1;
    assert.equal(await cache.get(async () => 'c'), 'c');
  });

  test('a caller after invalidate() neither joins a refresh started before it nor gets the value from before it', async () => {
    // The gateway's soak saw this: a keypair list in flight, a create (invalidate), then a delete by name that
    // looked in the list from before the create and answered "not deleted".
    let now = 0;
    const cache = new ListCache<string[]>({ maxAgeMs: 1000, now: () => now });
    assert.deepEqual(await cache.get(async () => ['a']), ['a']);
    now = 2000; // old by age: the next get refreshes, others get the stale list meanwhile
    let releaseOld: (() => void) | undefined;
    const old = cache.get(() => new Promise<string[]>((r) => (releaseOld = () => r(['a']))));
    assert.deepEqual(await cache.get(async () => ['never']), ['a'], 'stale by age is served during a refresh');
    cache.invalidate(); // a write: 'b' created
    const after = cache.get(async () => ['a', 'b']);
    releaseOld!();
    assert.deepEqual(await old, ['a']);
    assert.deepEqual(await after, ['a', 'b']);
    assert.deepEqual(cache.peek(), ['a', 'b'], 'the older refresh ending later does not overwrite the newer list');
    assert.equal(cache.isFresh(), true);
  });
});

describe('filterList (shade _filter_list)', () => {
  const items = [
    { id: 'id-1', name: 'web-1', status: 'ACTIVE', location: { zone: 'az1' } },
    { id: 'id-2', name: 'web-2', status: 'BUILD', location: { zone: 'az2' } },
    { id: 'id-3', name: 'db', status: 'ACTIVE', location: { zone: 'az1' }, properties: { flavor_hint: 'big' } },
  ];
  test('exact id or name, globs, nested and properties filters', () => {
    assert.deepEqual(
      filterList(items, 'id-3').map((i) => i.name),
      ['db'],
    );
    assert.deepEqual(
      filterList(items, 'web-?').map((i) => i.id),
      ['id-1', 'id-2'],
    );
    assert.deepEqual(
      filterList(items, 'web-[!1]').map((i) => i.id),
      ['id-2'],
    );
    assert.deepEqual(
      filterList(items, undefined, { status: 'ACTIVE', location: { zone: 'az1' } }).map((i) => i.id),
      ['id-1', 'id-3'],
    );
    assert.deepEqual(
      filterList(items, undefined, { flavor_hint: 'big' }).map((i) => i.id),
      ['id-3'],
    );
    assert.deepEqual(filterList(items, 'web'), []);
    assert.equal(globToRegExp('a.b*').test('a.bcd'), true);
    assert.equal(globToRegExp('a.b*').test('axbcd'), false);
  });
});

describe('address rules', () => {
  test('isPrivateV4 follows Python ipaddress.is_private', () => {
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.1.1',
      '203.0.113.9',
    ]) {
      assert.equal(isPrivateV4(a), true, a);
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '93.184.216.34', '100.64.0.1']) assert.equal(isPrivateV4(a), false, a);
    assert.equal(isPrivateV4('fe80::1'), undefined);
  });

  test('clouds.yaml networks override Neutron flags; default_interface picks interface_ip', () => {
    const networks = [
      { id: 'n1', name: 'tenant' },
      { id: 'n2', name: 'provider', 'provider:physical_network': 'physnet1' },
    ];
    const auto = networkFacts(networks, []);
    assert.deepEqual(auto.externalIpv4, ['provider']);
    assert.deepEqual(auto.internalIpv4, ['tenant']);
    const configured = networkFacts(networks, [
      { name: 'tenant', routes_externally: true, default_interface: true },
      { name: 'provider', routes_externally: false },
    ]);
    assert.deepEqual(configured.externalIpv4, ['tenant']);
    assert.deepEqual(configured.internalIpv4, ['provider']);
    const server = {
      id: 's',
      status: 'ACTIVE',
      addresses: {
        tenant: [{ addr: '10.9.0.5', version: 4 as const, 'OS-EXT-IPS:type': 'fixed' }],
        provider: [{ addr: '192.168.50.5', version: 4 as const, 'OS-EXT-IPS:type': 'fixed' }],
      },
    };
    const r = resolveAddresses(server, configured, { private: false, forceIpv4: false, hasIpv6: false });
    assert.equal(r.public_v4, '10.9.0.5');
    assert.equal(r.private_v4, '192.168.50.5');
    assert.equal(r.interface_ip, '10.9.0.5');
    const plain = resolveAddresses(server, auto, { private: false, forceIpv4: false, hasIpv6: false });
    assert.equal(plain.public_v4, '192.168.50.5'); // on the provider (external) network
    assert.equal(plain.private_v4, '10.9.0.5');
  });
});

describe('rollUp (a delimiter listing made from a full one)', () => {
  const obj = (name: string) => ({ id: name, name }) as StoredObject;
  const shown = (es: ReturnType<typeof rollUp>) => es.map((e) => ('subdir' in e ? `${e.subdir} (folder)` : e.name));

  test('one folder per shared start after the prefix, in place; a delimiter of several characters', () => {
    const names = ['a.txt', 'a/x', 'a/y/z', 'b', 'c/d'].map(obj);
    assert.deepEqual(shown(rollUp(names, '', '/')), ['a.txt', 'a/ (folder)', 'b', 'c/ (folder)']);
    assert.deepEqual(shown(rollUp(names.slice(1, 3), 'a/', '/')), ['a/x', 'a/y/ (folder)']);
    const logs = ['logs-2024::a', 'logs-2024::b', 'logs-2025', 'logs-::c'].map(obj);
    assert.deepEqual(shown(rollUp(logs, 'logs-', '::')), ['logs-2024:: (folder)', 'logs-2025', 'logs-:: (folder)']);
    assert.deepEqual(rollUp([], 'p', '/'), []);
  });
});
