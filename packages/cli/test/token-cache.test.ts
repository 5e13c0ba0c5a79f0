/**
 * ocx's token cache on disk: a second command (a new process, or this one with its memory cache emptied) makes no
 * identity call; files are private and named by a hash; an expired or revoked cached token is replaced; off switches.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { defaultTokenCache } from '@ocx/sdk';
import { cloudsYaml, type MiniCloud, runOcx, spawnOcx, startMiniCloud, writeClouds } from './minicloud.ts';

const SERVER = { id: 'srv-1', name: 'cached-1', status: 'ACTIVE', addresses: {}, image: '', flavor: { id: 'f' } };
const PASSWORD = 'pa55-very-secret';

let cloud: MiniCloud;
let files: ReturnType<typeof writeClouds>;

before(async () => {
  cloud = await startMiniCloud('tc', { servers: [SERVER] }, { password: PASSWORD });
});
after(async () => {
  await cloud.close();
});

/** A fresh HOME with clouds.yaml (extra YAML appended to the cloud's entry) and the cache under it. */
function setup(extra = ''): { env: Record<string, string>; cacheDir: string } {
  files?.cleanup();
  files = writeClouds(cloudsYaml([{ name: 'tc', url: cloud.url, password: PASSWORD }]) + extra);
  const cacheDir = join(files.dir, 'cache', 'ocx');
  return { env: { ...files.env, XDG_CACHE_HOME: join(files.dir, 'cache') }, cacheDir };
}

const logins = () => cloud.requests.filter((r) => r === 'POST /identity/v3/auth/tokens').length;

/** `ocx server list` as a new process would see it: nothing in memory, only what is on disk. */
async function freshList(env: Record<string, string>, ...more: string[]) {
  defaultTokenCache.clear();
  const r = await runOcx(['server', 'list', '--os-cloud', 'tc', '-f', 'value', '-c', 'Name', ...more], env);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'cached-1\n');
  return r;
}

function cacheFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

beforeEach(() => {
  cloud.requests.length = 0;
  cloud.token = `token-tc-${Math.random().toString(36).slice(2)}`;
});
after(() => {
  files?.cleanup();
  defaultTokenCache.clear();
});

describe('ocx token cache on disk', () => {
  it('logs in once for two commands, in a private file named by a hash', async () => {
    const { env, cacheDir } = setup();
    const runs = [await freshList(env), await freshList(env)];
    assert.equal(logins(), 1, 'the second command used the cached token');
    const names = cacheFiles(cacheDir);
    assert.equal(names.length, 1);
    const name = names[0] as string;
    assert.match(name, /^token-[0-9a-f]{64}\.json$/);
    for (const secret of [PASSWORD, 'demo', cloud.token, cloud.url, '127.0.0.1'])
      assert.ok(!name.includes(secret), `the file name does not contain ${secret}`);
    assert.equal(statSync(cacheDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(cacheDir, name)).mode & 0o777, 0o600);
    const body = readFileSync(join(cacheDir, name), 'utf8');
    assert.ok(body.includes(cloud.token), 'the file holds the token');
    assert.ok(body.includes('/compute/v2.1'), 'and the catalog, so no other identity call is needed');
    assert.ok(!body.includes(PASSWORD), 'but never the password');
    for (const r of runs) assert.ok(!r.stderr.includes(cloud.token) && !r.stdout.includes(cloud.token));
  });

  it('a new process uses the cached token too', async () => {
    const { env } = setup();
    await freshList(env);
    const r = await spawnOcx(['server', 'list', '--os-cloud', 'tc', '-f', 'value', '-c', 'Name'], env);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'cached-1\n');
    assert.equal(logins(), 1);
  });

  it('an expired cached token is not used: the command logs in and rewrites the file', async () => {
    const { env, cacheDir } = setup();
    await freshList(env);
    const path = join(cacheDir, cacheFiles(cacheDir)[0] as string);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.access.expiresAt = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
    const oldToken = cloud.token;
    cloud.token = `token-tc-new-${Math.random().toString(36).slice(2)}`;
    await freshList(env);
    assert.equal(logins(), 2);
    const now = readFileSync(path, 'utf8');
    assert.ok(now.includes(cloud.token) && !now.includes(oldToken));
  });

  it('a revoked cached token (401) logs in once again and rewrites the file', async () => {
    const { env, cacheDir } = setup();
    await freshList(env);
    cloud.token = `token-tc-rotated-${Math.random().toString(36).slice(2)}`;
    await freshList(env);
    assert.equal(logins(), 2);
    assert.equal(cloud.requests.filter((r) => r === 'GET /compute/v2.1/servers/detail').length, 3, 'one retry');
    const body = readFileSync(join(cacheDir, cacheFiles(cacheDir)[0] as string), 'utf8');
    assert.ok(body.includes(cloud.token));
    await freshList(env);
    assert.equal(logins(), 2, 'the rewritten token is used by the next command');
  });

  it('a cache file others can read is not trusted', async () => {
    const { env, cacheDir } = setup();
    await freshList(env);
    const path = join(cacheDir, cacheFiles(cacheDir)[0] as string);
    writeFileSync(path, readFileSync(path), { mode: 0o644 });
    const { chmodSync } = await import('node:fs');
    chmodSync(path, 0o644);
    await freshList(env);
    assert.equal(logins(), 2);
  });

  it('is off with --no-token-cache, OCX_TOKEN_CACHE=0 and clouds.yaml cache: {auth: false}', async () => {
    const flag = setup();
    await freshList(flag.env, '--no-token-cache');
    await freshList(flag.env, '--no-token-cache');
    assert.equal(logins(), 2);
    assert.deepEqual(cacheFiles(flag.cacheDir), []);

    const byEnv = setup();
    await freshList({ ...byEnv.env, OCX_TOKEN_CACHE: '0' });
    await freshList({ ...byEnv.env, OCX_TOKEN_CACHE: '0' });
    assert.equal(logins(), 4);
    assert.deepEqual(cacheFiles(byEnv.cacheDir), []);

    const byYaml = setup('    cache:\n      auth: false\n');
    await freshList(byYaml.env);
    await freshList(byYaml.env);
    assert.equal(logins(), 6);
    assert.deepEqual(cacheFiles(byYaml.cacheDir), []);
  });
});
