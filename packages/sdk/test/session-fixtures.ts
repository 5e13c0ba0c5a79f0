// A fake multi-service endpoint (devstack-style paths) that validates tokens against a FakeKeystone in-process.
import type { ServerResponse } from 'node:http';
import type { CloudConfig } from '../src/config/types.ts';
import { catalogFor, FakeKeystone } from './auth-fixtures.ts';
import { type RecordedRequest, sendJson, startServer, type TestServer } from './transport-helpers.ts';

export interface Cloud {
  ks: FakeKeystone;
  svc: TestServer;
  config: CloudConfig;
  close(): Promise<void>;
}

function fault(res: ServerResponse, status: number, kind: string, message: string, reqId = 'req-fault-1'): void {
  sendJson(res, status, { [kind]: { code: status, message } }, { 'x-openstack-request-id': reqId });
}

const NOVA_FAULTS: Record<string, [number, string, string]> = {
  '404': [404, 'itemNotFound', 'Instance nope could not be found.'],
  '409': [409, 'conflictingRequest', "Cannot 'delete' instance while it is in task_state deleting"],
  '403': [403, 'forbidden', "Policy doesn't allow os_compute_api:servers:create to be performed."],
  '403q': [403, 'forbidden', 'Quota exceeded for cores: Requested 8, but already used 20 of 20 cores'],
  '413': [413, 'overLimit', 'Maximum number of ports exceeded'],
  '429': [429, 'overLimit', 'Rate limit exceeded'],
  '400': [400, 'badRequest', "Invalid input for field/attribute name. Value: None. None is not of type 'string'"],
  '500': [500, 'computeFault', 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/'],
  '503': [503, 'computeFault', 'Service Unavailable'],
};

export async function startCloud(opts: { region?: string; configPatch?: Partial<CloudConfig> } = {}): Promise<Cloud> {
  let svcUrl = '';
  const ks = await FakeKeystone.start({ catalog: (self) => catalogFor(self, svcUrl, opts.region ?? 'RegionOne') });
  const valid = (req: RecordedRequest) => {
    const t = ks.tokens.get(String(req.headers['x-auth-token'] ?? ''));
    return t !== undefined && t.expiresAt.getTime() > Date.now();
  };
  const svc = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const p = u.pathname;
    const self = svcUrl;
    // --- version documents (unauthenticated) ---
    if (p === '/compute/v2.1/' || p === '/compute/v2.1')
      return sendJson(res, 200, {
        version: {
          id: 'v2.1',
          status: 'CURRENT',
          version: '2.90',
          min_version: '2.1',
          links: [{ rel: 'self', href: `${self}/compute/v2.1/` }],
        },
      });
    if (p === '/volume/v3/')
      return sendJson(res, 200, {
        versions: [
          {
            id: 'v3.0',
            status: 'CURRENT',
            version: '3.70',
            min_version: '3.0',
            links: [{ rel: 'self', href: `${self}/volume/v3/` }],
          },
        ],
      });
    if (p === '/image/')
      return sendJson(res, 300, {
        versions: [
          { id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: 'http://glance.internal:9292/v2/' }] },
          { id: 'v2.15', status: 'SUPPORTED', links: [{ rel: 'self', href: 'http://glance.internal:9292/v2/' }] },
        ],
      });
    if (p === '/networking/')
      return sendJson(res, 200, {
        versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${self}/networking/v2.0/` }] }],
      });
    // --- everything else needs a valid token ---
    if (!valid(req)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Keystone uri="${ks.url}"` });
      res.end(
        JSON.stringify({
          error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
        }),
      );
      return;
    }
    if (p.startsWith('/compute/v2.1/faults/')) {
      const f = NOVA_FAULTS[p.split('/').pop()!];
      if (f) return fault(res, f[0], f[1], f[2]);
    }
    if (p === '/compute/v2.1/echo')
      return sendJson(
        res,
        200,
        { headers: req.headers, method: req.method, query: u.search, body: req.body },
        { 'x-compute-request-id': 'req-echo' },
      );
    if (p === '/compute/v2.1/always-401') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 401, message: 'token rejected by policy' } }));
      return;
    }
    if (p === '/compute/v2.1/servers/detail') {
      const marker = u.searchParams.get('marker');
      const all = ['s1', 's2', 's3', 's4', 's5'];
      const start = marker ? all.indexOf(marker) + 1 : 0;
      const page = all.slice(start, start + 2);
      const links =
        start + 2 < all.length
          ? [{ rel: 'next', href: `${self}/compute/v2.1/servers/detail?limit=2&marker=${page.at(-1)}` }]
          : undefined;
      return sendJson(res, 200, { servers: page.map((id) => ({ id })), ...(links ? { servers_links: links } : {}) });
    }
    if (p === '/image/v2/images') {
      const marker = u.searchParams.get('marker');
      const all = ['i1', 'i2', 'i3'];
      const start = marker ? all.indexOf(marker) + 1 : 0;
      const page = all.slice(start, start + 2);
      return sendJson(res, 200, {
        images: page.map((id) => ({ id })),
        first: '/v2/images',
        schema: '/v2/schemas/images',
        ...(start + 2 < all.length ? { next: `/v2/images?marker=${page.at(-1)}&limit=2` } : {}),
      });
    }
    if (p === '/networking/v2.0/networks') {
      const marker = u.searchParams.get('marker');
      return marker
        ? sendJson(res, 200, {
            networks: [{ id: 'n3' }],
            networks_links: [{ rel: 'previous', href: `${self}/networking/v2.0/networks?marker=n3&page_reverse=True` }],
          })
        : sendJson(res, 200, {
            networks: [{ id: 'n1' }, { id: 'n2' }],
            networks_links: [{ rel: 'next', href: `${self}/networking/v2.0/networks?limit=2&marker=n2` }],
          });
    }
    if (p === '/swift/v1/AUTH_p-demo') {
      const marker = u.searchParams.get('marker') ?? '';
      const all = ['a', 'b', 'c', 'd', 'e'];
      const limit = Number(u.searchParams.get('limit') ?? 10000);
      const page = all.filter((n) => n > marker).slice(0, limit);
      return sendJson(
        res,
        200,
        page.map((name) => ({ name, count: 0, bytes: 0 })),
        { 'x-trans-id': 'tx123' },
      );
    }
    if (p.startsWith('/volume/v3/p-demo/')) return sendJson(res, 200, { path: p, headers: req.headers });
    if (p === '/image/v2/images/upload') return sendJson(res, 200, { received: req.body.length });
    return sendJson(res, 404, { itemNotFound: { code: 404, message: `no route ${p}` } });
  });
  svcUrl = svc.url;
  const config: CloudConfig = {
    name: 'fake',
    regionName: opts.region ?? 'RegionOne',
    regions: [opts.region ?? 'RegionOne'],
    authType: 'password',
    auth: {
      auth_url: ks.url,
      username: 'demo',
      password: 'demo-secret',
      user_domain_name: 'Default',
      project_name: 'demo',
      project_domain_name: 'Default',
    },
    interface: 'public',
    identityApiVersion: '3',
    services: {},
    verify: true,
    extra: {},
    ...opts.configPatch,
  };
  return {
    ks,
    svc,
    config,
    close: async () => {
      await Promise.all([ks.close(), svc.close()]);
    },
  };
}
