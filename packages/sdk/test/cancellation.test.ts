/**
 * One cancellation path: a fan-out's 2 s per-cloud deadline reaches every step of a call — identity discovery, the
 * login, K2K, service discovery, the request and the body read. A cloud that hangs at any of them ends as TIMEOUT
 * within the deadline plus a small margin, and the error names the step that hung.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { clearDiscoveryCache, MemoryTokenCache } from '../src/auth/index.ts';
import { type CloudConfig, k2kCloudConfig } from '../src/config/index.ts';
import { ErrorCode } from '../src/errors/index.ts';
import { fanOut } from '../src/multicloud/index.ts';
import { createSession } from '../src/session/index.ts';
import { callScope, deadlineOf } from '../src/transport/index.ts';
import { catalogFor, FakeKeystone } from './auth-fixtures.ts';
import { type RecordedRequest, sendJson, startServer, type TestServer } from './transport-helpers.ts';

type Stall = 'headers' | 'body' | undefined;

let idp: FakeKeystone;
let sp1: FakeKeystone;
let svc: TestServer;
let svcStall: (method: string, path: string) => Stall = () => undefined;

function computeRoute(req: RecordedRequest, res: ServerResponse): void {
  const path = new URL(req.url, 'http://x').pathname;
  const stall = svcStall(req.method, path);
  if (stall === 'headers') return;
  if (stall === 'body') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"servers": [');
    return;
  }
  if (path === '/compute/v2.1/' || path === '/compute/v2.1') {
    sendJson(res, 200, {
      version: {
        id: 'v2.1',
        status: 'CURRENT',
        version: '2.90',
        min_version: '2.1',
        links: [{ rel: 'self', href: `${svc.url}/compute/v2.1/` }],
      },
    });
    return;
  }
  if (path === '/compute/v2.1/servers') {
    sendJson(res, 200, { servers: [] });
    return;
  }
  sendJson(res, 404, { itemNotFound: { code: 404, message: 'no such path' } });
}

before(async () => {
  svc = await startServer(computeRoute);
  sp1 = await FakeKeystone.start({ spIdpId: 'idp', catalog: (self) => catalogFor(self, svc.url) });
  idp = await FakeKeystone.start({
    catalog: (self) => catalogFor(self, svc.url),
    serviceProviders: () => [
      {
        id: 'sp1',
        auth_url: `${sp1.url}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
        sp_url: `${sp1.url}/v3/mellon/paosResponse`,
      },
    ],
  });
  sp1.trustedIdp = idp;
});
after(async () => {
  await Promise.all([idp.close(), sp1.close(), svc.close()]);
});

function home(): CloudConfig {
  return {
    name: 'home',
    regionName: 'RegionOne',
    regions: ['RegionOne'],
    authType: 'password',
    // Unversioned: the SDK asks Keystone for its version document first (identity discovery).
    auth: {
      auth_url: idp.url,
      username: 'demo',
      password: 'demo-secret',
      user_domain_id: 'default',
      project_name: 'demo',
      project_domain_id: 'default',
    },
    interface: 'public',
    identityApiVersion: '3',
    services: {},
    verify: true,
    extra: {},
  };
}

/** List servers on `cloud` under a 2 s fan-out deadline; the settled result and how long it took. */
async function listUnderDeadline(cloud: CloudConfig) {
  clearDiscoveryCache();
  const session = createSession(cloud, { homeCloud: home(), tokenCache: new MemoryTokenCache() });
  const started = Date.now();
  try {
    const [settled] = await fanOut(
      [cloud.name],
      async (_name, ctx) => {
        const res = await session.client('compute').get('/servers', { signal: ctx.signal });
        return res.json();
      },
      { deadlineMs: 2_000, where: (name) => ({ cloud: name }) },
    );
    return { settled: settled!, elapsed: Date.now() - started };
  } finally {
    await session.close();
  }
}

describe('a 2 s per-cloud deadline reaches every step and names the one that hung', { timeout: 60_000 }, () => {
  const cases: Array<{ step: string; via: 'home' | 'k2k'; hang: () => void }> = [
    {
      step: 'identity.discovery',
      via: 'home',
      hang: () => {
        idp.stall = (m, p) => (m === 'GET' && p === '/' ? 'headers' : undefined);
      },
    },
    {
      step: 'auth.password',
      via: 'home',
      hang: () => {
        idp.stall = (m, p) => (m === 'POST' && p === '/v3/auth/tokens' ? 'headers' : undefined);
      },
    },
    {
      step: 'ecp-assertion',
      via: 'k2k',
      hang: () => {
        idp.stall = (m, p) => (m === 'POST' && p === '/v3/auth/OS-FEDERATION/saml2/ecp' ? 'headers' : undefined);
      },
    },
    {
      step: 'sp-assertion',
      via: 'k2k',
      hang: () => {
        sp1.stall = (m, p) => (m === 'POST' && p === '/v3/mellon/paosResponse' ? 'headers' : undefined);
      },
    },
    {
      step: 'discovery',
      via: 'home',
      hang: () => {
        svcStall = (m, p) =>
          m === 'GET' && p.startsWith('/compute/v2.1') && !p.endsWith('/servers') ? 'headers' : undefined;
      },
    },
    {
      step: 'request',
      via: 'home',
      hang: () => {
        svcStall = (m, p) => (m === 'GET' && p.endsWith('/servers') ? 'headers' : undefined);
      },
    },
    {
      step: 'response-body',
      via: 'home',
      hang: () => {
        svcStall = (m, p) => (m === 'GET' && p.endsWith('/servers') ? 'body' : undefined);
      },
    },
  ];

  for (const c of cases) {
    it(`hangs at ${c.step} (${c.via === 'k2k' ? 'a K2K cloud' : 'a password cloud'}) → TIMEOUT naming ${c.step}`, async () => {
      idp.stall = undefined;
      sp1.stall = undefined;
      svcStall = () => undefined;
      c.hang();
      try {
        const cloud =
          c.via === 'k2k'
            ? k2kCloudConfig(home(), {
                serviceProvider: 'sp1',
                remoteProjectName: 'demo',
                remoteProjectDomainName: 'Default',
              })
            : home();
        const { settled, elapsed } = await listUnderDeadline(cloud);
        assert.equal(settled.ok, false, 'the call must fail');
        if (settled.ok) return;
        assert.equal(settled.error.code, ErrorCode.TIMEOUT, settled.error.message);
        assert.equal(settled.error.step, c.step);
        assert.equal(settled.error.cloud, cloud.name);
        assert.ok(elapsed >= 1_900, `ended before the deadline (${elapsed} ms)`);
        assert.ok(elapsed < 3_500, `took ${elapsed} ms for a 2000 ms deadline`);
      } finally {
        idp.stall = undefined;
        sp1.stall = undefined;
        svcStall = () => undefined;
      }
    });
  }

  it('with no hang the same call succeeds under the same deadline (the test cloud works)', async () => {
    for (const cloud of [
      home(),
      k2kCloudConfig(home(), { serviceProvider: 'sp1', remoteProjectName: 'demo', remoteProjectDomainName: 'Default' }),
    ]) {
      const { settled } = await listUnderDeadline(cloud);
      assert.equal(settled.ok, true, settled.ok ? '' : settled.error.summary());
      if (settled.ok) assert.deepEqual(settled.value, { servers: [] });
    }
  });

  it("the caller's cancel wins over the deadline: CANCELLED, not TIMEOUT", async () => {
    svcStall = (m, p) => (m === 'GET' && p.endsWith('/servers') ? 'headers' : undefined);
    const caller = new AbortController();
    const session = createSession(home(), { tokenCache: new MemoryTokenCache() });
    try {
      setTimeout(() => caller.abort(), 300);
      const [settled] = await fanOut(
        ['home'],
        (_n, ctx) => session.client('compute').get('/servers', { signal: ctx.signal }),
        { deadlineMs: 2_000, signal: caller.signal },
      );
      assert.equal(settled!.ok, false);
      if (!settled!.ok) assert.equal(settled!.error.code, ErrorCode.CANCELLED);
    } finally {
      svcStall = () => undefined;
      await session.close();
    }
  });

  it('the deadline travels with the signal: nested scopes keep the earliest', () => {
    const outer = callScope({ deadline: Date.now() + 1_000 });
    const inner = callScope({ signal: outer.signal, deadline: Date.now() + 60_000 });
    try {
      assert.equal(deadlineOf(inner.signal), outer.deadline);
      assert.equal(deadlineOf(new AbortController().signal), undefined);
    } finally {
      inner.dispose();
      outer.dispose();
    }
  });
});
