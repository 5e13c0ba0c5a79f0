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
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '../src/index.ts';

const USER = 'user-token-0123456789';
const seen: Record<string, IncomingMessage['headers']> = {};
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
  proxy = await startProxy({
    homeCloud: 'home',
    cloudsFile: clouds,
    listen: '127.0.0.1:0',
    db: join(dir, 'p.sqlite'),
    logLevel: 'silent',
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
