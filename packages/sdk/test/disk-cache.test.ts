import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type AccessInfo,
  type AuthPlugin,
  cachedAccess,
  DiskTokenCache,
  defaultTokenCacheDir,
  hashKey,
  tokenFileName,
} from '../src/index.ts';
import { createTransport } from '../src/transport/index.ts';

const root = mkdtempSync(join(tmpdir(), 'ocx-disk-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`, 'ocx');

function access(token: string, expiresInMs: number, lifetimeMs = 3_600_000): AccessInfo {
  const expiresAt = new Date(Date.now() + expiresInMs);
  return {
    token,
    expiresAt,
    issuedAt: new Date(expiresAt.getTime() - lifetimeMs),
    methods: ['password'],
    user: { id: 'u1', name: 'alice' },
    project: { id: 'p1', name: 'demo' },
    roles: [],
    catalog: [{ type: 'compute', endpoints: [{ interface: 'public', region: 'R', url: 'http://c/v2.1' }] }],
    serviceProviders: [],
    identityUrl: 'http://ks/v3',
    unscoped: false,
  };
}

/** A plugin that hands out token-1, token-2, ... and counts its logins. */
function plugin(expiresInMs: number): AuthPlugin & { logins: number } {
  const p = {
    kind: 'password',
    logins: 0,
    cacheKey: () => hashKey(['password', 'http://ks/v3', 'alice', hashKey('hunter2')]),
    authenticate: async () => {
      p.logins++;
      return access(`token-${p.logins}`, expiresInMs);
    },
  };
  return p;
}

describe('DiskTokenCache', () => {
  const transport = createTransport({});
  after(() => transport.close());

  it('serves a token to a later process (a new cache over the same directory) with dates and catalog intact', async () => {
    const dir = freshDir();
    const p = plugin(3_600_000);
    const first = await cachedAccess(p, { transport }, { cache: new DiskTokenCache({ dir }) });
    const again = await cachedAccess(p, { transport }, { cache: new DiskTokenCache({ dir }) });
    assert.equal(p.logins, 1);
    assert.equal(again.token, first.token);
    assert.equal(again.expiresAt.getTime(), first.expiresAt.getTime());
    assert.deepEqual(again.catalog, first.catalog);
    const [name] = readdirSync(dir);
    assert.equal(name, tokenFileName(p.cacheKey()));
    assert.ok(!name?.includes('alice') && !name?.includes('hunter2') && !name?.includes(p.cacheKey()));
  });

  it('honours the early-refresh margin and expiry: a token about to expire is replaced on disk', async () => {
    const dir = freshDir();
    const p = plugin(60_000); // expires in a minute: inside the 5-minute margin
    await cachedAccess(p, { transport }, { cache: new DiskTokenCache({ dir }) });
    const second = await cachedAccess(p, { transport }, { cache: new DiskTokenCache({ dir }) });
    assert.equal(p.logins, 2);
    assert.equal(second.token, 'token-2');
    const onDisk = new DiskTokenCache({ dir }).get(p.cacheKey());
    assert.equal(onDisk?.token, 'token-2');
    const later = new DiskTokenCache({ dir, now: () => Date.now() + 120_000 });
    assert.equal(later.get(p.cacheKey()), undefined, 'an expired token is a miss');
    assert.deepEqual(readdirSync(dir), [], 'and its file is removed');
  });

  it('treats unreadable, foreign-format or group-readable files as misses and never throws on a bad directory', () => {
    const dir = freshDir();
    const cache = new DiskTokenCache({ dir });
    cache.set('k', access('tok', 3_600_000));
    const path = cache.pathOf('k');
    writeFileSync(path, '{not json', { mode: 0o600 });
    assert.equal(new DiskTokenCache({ dir }).get('k'), undefined);
    writeFileSync(path, JSON.stringify({ format: 99, access: {} }), { mode: 0o600 });
    assert.equal(new DiskTokenCache({ dir }).get('k'), undefined);
    cache.set('k', access('tok', 3_600_000));
    chmodSync(path, 0o640);
    assert.equal(new DiskTokenCache({ dir }).get('k'), undefined);
    const blocked = join(root, 'a-file');
    writeFileSync(blocked, 'x');
    const bad = new DiskTokenCache({ dir: join(blocked, 'ocx') });
    assert.doesNotThrow(() => bad.set('k', access('tok', 3_600_000)));
    assert.equal(bad.get('k')?.token, 'tok', 'the memory layer still works');
    bad.delete('k');
    assert.equal(bad.get('k'), undefined);
  });

  it('delete removes the file (what a 401 on a cached token does)', () => {
    const dir = freshDir();
    const cache = new DiskTokenCache({ dir });
    cache.set('k', access('tok', 3_600_000));
    assert.equal(readFileSync(cache.pathOf('k'), 'utf8').includes('"tok"'), true);
    cache.delete('k');
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(new DiskTokenCache({ dir }).get('k'), undefined);
  });

  it('lives under XDG_CACHE_HOME, else ~/.cache, else nowhere', () => {
    assert.equal(defaultTokenCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/ocx');
    assert.equal(defaultTokenCacheDir({ HOME: '/h' }), '/h/.cache/ocx');
    assert.equal(defaultTokenCacheDir({}), undefined);
  });
});
