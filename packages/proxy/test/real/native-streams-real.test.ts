/**
 * Image data on the native lane against real OpenStack (OCX_TEST_TARGET=real; clouds from OS_CLIENT_CONFIG_FILE as
 * test/real/openstack.sh writes them): through a proxy with nginx in front, an image created in sp2 gets its data
 * by a chunked PUT (as python-glanceclient and openstacksdk send it) that nginx carries straight to sp2's Glance
 * once the engine has routed it, and the first download comes back the same way, byte for byte. Needs Debian's nginx
 * and its Lua module (`npm test` installs them): a missing one fails here, it does not skip.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '@ocx/proxy';
import pino from 'pino';
import { realLogin } from '../../../../test/lib/real-login.ts';
import { cloudsFile, skip } from '../../../../test/lib/real-target.ts';
import { laneAnswers } from '../helpers.ts';

const SLOW = 120_000;

let dir: string;
let proxy: RunningProxy | undefined;
const logs: string[] = [];
before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ocx-native-streams-real-'));
  proxy = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile,
    listen: '127.0.0.1:0',
    db: join(dir, 'proxy.sqlite'),
    dataPlane: 'nginx',
    upstreamTimeoutMs: SLOW,
    logger: pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, cb) {
          logs.push(String(chunk));
          cb();
        },
      }),
    ),
  });
});
after(async () => {
  await proxy?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const idpToken = async (): Promise<string> => (await realLogin('idp', cloudsFile, SLOW)).token;

/** Where each `method path` request was answered so far. */
const answered = (method: string, path: string) => laneAnswers(proxy!.url, logs, path, method);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a chunked image upload to real Glance in sp2 and its download go from nginx, the bytes intact', {
  skip,
  timeout: SLOW,
}, async () => {
  const token = await idpToken();
  const h = { 'x-auth-token': token, 'mm-service-provider': 'sp2' };
  const created = await fetch(`${proxy!.url}/image/v2/images`, {
    method: 'POST',
    headers: { ...h, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `ocx-lane-stream-${Date.now()}`, disk_format: 'raw', container_format: 'bare' }),
    signal: AbortSignal.timeout(SLOW),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const id = ((await created.json()) as { id: string }).id;
  const path = `/image/v2/images/${id}/file`;
  try {
    const parts = [randomBytes(1024 * 1024), randomBytes(2 * 1024 * 1024 + 3)];
    const up = await fetch(`${proxy!.url}${path}`, {
      method: 'PUT',
      headers: { ...h, 'content-type': 'application/octet-stream' },
      body: new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of parts) c.enqueue(p);
          c.close();
        },
      }),
      duplex: 'half',
      signal: AbortSignal.timeout(SLOW),
    } as RequestInit);
    assert.equal(up.status, 204, await up.text());
    assert.equal(up.headers.get('x-ocx-service-provider'), 'sp2');
    const down = await fetch(`${proxy!.url}${path}`, { headers: h, signal: AbortSignal.timeout(SLOW) });
    assert.equal(down.status, 200);
    assert.equal(sha(new Uint8Array(await down.arrayBuffer())), sha(Buffer.concat(parts)));
    assert.deepEqual(await answered('PUT', path), ['native']);
    assert.deepEqual(await answered('GET', path), ['native']);
    const img = await fetch(`${proxy!.url}/image/v2/images/${id}`, { headers: h, signal: AbortSignal.timeout(SLOW) });
    const doc = (await img.json()) as { status: string; size: number };
    assert.equal(doc.status, 'active');
    assert.equal(doc.size, 3 * 1024 * 1024 + 3);
    assert.ok(!logs.join('').includes(token), 'the token reached the log');
  } finally {
    const del = await fetch(`${proxy!.url}/image/v2/images/${id}`, { method: 'DELETE', headers: h });
    assert.equal(del.status, 204);
  }
});
