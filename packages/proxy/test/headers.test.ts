/**
 * What goes over the wire, seen from an upstream that echoes what it received: token swap, service token only
 * to the home cloud, hop-by-hop headers stripped both ways, end-to-end headers kept, routing headers consumed.
 * (A minimal Keystone and echo upstreams instead of devcloud: the point is the exact headers.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { type Logger, pino } from 'pino';
import { type RunningProxy, startProxy } from '../src/index.ts';
import { findNginx } from '../src/native/lane.ts';

const USER = 'user-token-0123456789';
const seen: Record<string, IncomingMessage['headers']> = {};
/** What the home upstream saw for each GET /flat/f1, in order. */
const flat: IncomingMessage['headers'][] = [];
let startOn: (plane: 'node' | 'nginx', logger?: Logger) => Promise<RunningProxy>;
const servers: Server[] = [];
let proxy: RunningProxy;
let dir: string;

function listen(fn: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(fn);
  servers.push(s);
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

function echo(name: string): Promise<string> {
  const self = { url: '' };
  return listen((req, res) => {
    seen[name] = req.headers;
    if (req.url?.includes('/flat/')) {
      // An answer the proxy passes through unchanged (nothing to rewrite): one the native lane may repeat.
      // Only the home cloud has this resource, so locating it is deterministic.
      if (name !== 'home') {
        res.writeHead(404).end();
        return;
      }
      const hop = req.url.endsWith('/hop');
      if (!hop) flat.push(req.headers);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        etag: '"f1"',
        'x-openstack-request-id': `req-${name}`,
        'keep-alive': 'timeout=5',
        ...(hop ? { 'x-hop': 'secret', connection: 'keep-alive, x-hop' } : { connection: 'keep-alive' }),
        'set-cookie': 'a=b',
      });
      res.end('flat bytes');
      return;
    }
    if (req.url?.endsWith('/big')) {
      // Chunked JSON larger than the proxy's rewrite cap, with an upstream link inside.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"link": "${self.url}/v2.1/x", "pad": "`);
      for (let i = 0; i < 20; i++) res.write('x'.repeat(1000));
      res.end('"}');
      return;
    }
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        server: { id: 'abc', links: [{ rel: 'self', href: `${self.url}/v2.1/servers/abc` }] },
      });
      res.writeHead(202, {
        'content-type': 'application/json',
        location: `${self.url}/v2.1/servers/abc`,
        etag: '"v1"',
        'x-openstack-request-id': `req-${name}`,
        'openstack-api-version': 'compute 2.37',
        'keep-alive': 'timeout=5',
        'x-hop': 'secret',
        connection: 'keep-alive, x-hop',
      });
      res.end(body);
    });
  }).then((u) => {
    self.url = u;
    return u;
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-proxy-headers-'));
  const home = await echo('home');
  const sp1 = await echo('sp1');
  const token = (project: string) => ({
    token: {
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      user: { id: 'u', name: 'demo' },
      project: { id: project, name: 'demo', domain: { id: 'default', name: 'Default' } },
      roles: [{ name: 'member' }],
      catalog: [{ type: 'compute', endpoints: [{ interface: 'public', region: 'RegionOne', url: `${home}/v2.1` }] }],
      service_providers: [{ id: 'sp1', auth_url: 'http://127.0.0.1:9/x', sp_url: 'http://127.0.0.1:9/y' }],
    },
  });
  const ks = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') {
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'svc-token' });
        res.end(JSON.stringify(token('svc')));
      } else {
        const ok = req.headers['x-subject-token'] === USER;
        res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? token('local-project') : { error: { code: 404 } }));
      }
    });
  });
  const clouds = join(dir, 'clouds.yaml');
  writeFileSync(
    clouds,
    `clouds:\n  home:\n    auth:\n      auth_url: ${ks}/v3\n      username: p\n      password: x\n      project_name: service\n`,
  );
  startOn = (plane, logger) =>
    startProxy({
      dataPlane: plane,
      validationCacheMs: 60_000,
      ...(logger ? { logger } : { logLevel: 'silent' }),
      homeCloud: 'home',
      cloudsFile: clouds,
      listen: '127.0.0.1:0',
      db: join(dir, 'p.sqlite'),
      maxRewriteBytes: 8 * 1024,
      remoteTokenSource: {
        async obtain() {
          return {
            token: 'remote-sp1-token',
            expiresAt: new Date(Date.now() + 3_600_000),
            projectId: 'rp',
            projectName: 'demo',
            endpoints: { compute: sp1 },
          };
        },
      },
    });
  proxy = await startOn('node');
});
after(async () => {
  await proxy?.stop();
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** node:http, because fetch will not send a Connection header. */
function rawPost(headers: Record<string, string>): Promise<IncomingMessage['headers']> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${proxy.url}/compute/v2.1/servers`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ server: { name: 'x' } }));
  });
}

async function post(sp?: string): Promise<Response> {
  const headers: Record<string, string> = {
    'x-auth-token': USER,
    'x-service-token': 'nova-service-token',
    'content-type': 'application/json',
    'openstack-api-version': 'compute 2.37',
    'x-openstack-request-id': 'req-client',
    'user-agent': 'test-client/1',
  };
  if (sp) headers['mm-service-provider'] = sp;
  return fetch(`${proxy.url}/compute/v2.1/servers`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ server: { name: 'x' } }),
  });
}

test('to the home cloud: the user token, the service token, end-to-end headers; no hop-by-hop, no routing headers', async () => {
  await rawPost({
    'x-auth-token': USER,
    'content-type': 'application/json',
    connection: 'keep-alive, x-private',
    'x-private': 'hop-by-hop, named in Connection',
  });
  assert.equal(seen.home!['x-private'], undefined, 'a header named in Connection is hop-by-hop');
  const r = await post();
  assert.equal(r.status, 202);
  const h = seen.home!;
  assert.equal(h['x-auth-token'], USER);
  assert.equal(h['x-service-token'], 'nova-service-token');
  assert.equal(h['openstack-api-version'], 'compute 2.37');
  assert.equal(h['x-openstack-request-id'], 'req-client');
  assert.equal(h['user-agent'], 'test-client/1');
  assert.equal(h['mm-service-provider'], undefined);
  assert.equal(h['mm-proxy-list'], proxy.proxyId, 'loop prevention: this proxy is on the list');
  assert.ok(h['x-forwarded-for']?.includes('127.0.0.1'));
});

test('to a service provider: the remote token and project, never the home service token', async () => {
  const r = await post('sp1');
  assert.equal(r.status, 202);
  const h = seen.sp1!;
  assert.equal(h['x-auth-token'], 'remote-sp1-token');
  assert.equal(h['x-service-token'], undefined);
  assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1');
});

test('back to the client: Location and links rewritten, ETag and request ids kept, hop-by-hop stripped', async () => {
  const r = await post('sp1');
  assert.equal(r.headers.get('location'), `${proxy.url}/compute/v2.1/servers/abc`);
  assert.equal(r.headers.get('etag'), '"v1"');
  assert.equal(r.headers.get('x-openstack-request-id'), 'req-sp1');
  assert.equal(r.headers.get('openstack-api-version'), 'compute 2.37');
  assert.equal(r.headers.get('x-hop'), null);
  assert.notEqual(r.headers.get('keep-alive'), 'timeout=5');
  const body = (await r.json()) as { server: { links: { href: string }[] } };
  assert.equal(body.server.links[0]!.href, `${proxy.url}/compute/v2.1/servers/abc`);
});

test('a chunked JSON answer larger than the rewrite cap streams through whole, unrewritten', async () => {
  const r = await fetch(`${proxy.url}/compute/v2.1/big`, { headers: { 'x-auth-token': USER } });
  assert.equal(r.status, 200);
  const body = (await r.json()) as { link: string; pad: string };
  assert.equal(body.pad.length, 20_000);
  assert.ok(!body.link.startsWith(proxy.url), 'past the cap the body is not rewritten');
});

/** node:http, so that hop-by-hop request headers can be sent. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const skipLane = findNginx() ? false : 'nginx with its Lua module is not installed';

test('the native lane sends the upstream and the client what the engine sends', { skip: skipLane }, async () => {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const lane = await startOn('nginx', pino({ level: 'info' }, sink));
  try {
    const headers = {
      'x-auth-token': USER,
      'user-agent': 'test-client/1',
      'x-openstack-request-id': 'req-client',
      'openstack-api-version': 'compute 2.37',
      'x-forwarded-for': '10.1.1.1',
      'accept-encoding': 'gzip',
      te: 'trailers',
      'keep-alive': 'timeout=1',
      'proxy-authorization': 'Basic eDp5',
      'x-forwarded-host': 'outside.example',
    };
    flat.length = 0;
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await rawGet(`${lane.url}/compute/v2.1/flat/f1`, headers));
      await new Promise((r) => setTimeout(r, 20)); // the route is published after the first answer
    }
    await fetch(`${lane.url}/metrics`); // drains the lane's access lines into the log
    const lanes = logs
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => (l.includes('"lane":"native"') ? 'native' : 'engine'));
    assert.equal(lanes[0], 'engine');
    assert.ok(
      lanes.slice(1).every((l) => l === 'native'),
      `later answers from nginx: ${lanes}`,
    );
    const strip = (h: IncomingMessage['headers']) => {
      const { connection: _c, date: _d, ...rest } = h;
      return rest;
    };
    // Upstream side: the same headers from nginx as from the engine (token swap, loop list, X-Forwarded-For).
    const forwarded = flat.slice(-6); // before them, the engine's lookup of where f1 lives (flooding)
    for (const h of forwarded) assert.deepEqual(strip(h), strip(forwarded[0]!));
    const h0 = forwarded[0]!;
    assert.equal(h0['x-auth-token'], USER);
    assert.equal(h0['mm-proxy-list'], lane.proxyId);
    assert.equal(h0['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
    for (const gone of [
      'te',
      'keep-alive',
      'proxy-authorization',
      'accept-encoding',
      'x-forwarded-host',
      'x-ocx-peer',
    ]) {
      assert.equal(h0[gone], undefined, `${gone} is not forwarded`);
    }
    // Client side: same status, body and end-to-end headers; hop-by-hop and cookies stripped.
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.body, 'flat bytes');
      assert.equal(a.headers.etag, '"f1"');
      assert.equal(a.headers['x-openstack-request-id'], 'req-home');
      assert.equal(a.headers['x-ocx-service-provider'], 'home');
      assert.equal(a.headers['x-hop'], undefined);
      assert.equal(a.headers['set-cookie'], undefined);
      assert.notEqual(a.headers['keep-alive'], 'timeout=5');
    }
    // An answer naming extra hop-by-hop headers in Connection is left to the engine, which strips them.
    for (let i = 0; i < 3; i++) {
      const a = await rawGet(`${lane.url}/compute/v2.1/flat/hop`, headers);
      assert.equal(a.status, 200);
      assert.equal(a.headers['x-hop'], undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    await fetch(`${lane.url}/metrics`);
    assert.ok(!logs.some((l) => l.includes('/flat/hop') && l.includes('"lane":"native"')));
  } finally {
    await lane.stop();
  }
});
