/**
 * A small programmable OpenStack on 127.0.0.1:0 for the services/ and cloud/ tests: a Keystone that issues a token
 * whose catalog points back at this server (compute, image, network, block-storage, object-store), plus routes
 * the test registers. Every request is recorded so tests can count calls.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudConfig } from '../src/config/types.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';

export interface FakeRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  json(): unknown;
}

export interface FakeReply {
  status?: number;
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Wait this long before answering (ms): lets concurrent callers pile up. */
  delayMs?: number;
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export const PROJECT = {
  id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  name: 'demo',
  domain: { id: 'default', name: 'Default' },
};

export interface FakeCloud {
  url: string;
  requests: FakeRequest[];
  /** Register a handler for METHOD + exact path (e.g. 'GET', '/compute/v2.1/servers/detail'). */
  route(method: string, path: string, handler: FakeHandler): void;
  /** Register a handler for METHOD + a path pattern (first registered match wins, after exact routes). */
  routeMatch(
    method: string,
    pattern: RegExp,
    handler: (req: FakeRequest, m: RegExpExecArray) => FakeReply | Promise<FakeReply>,
  ): void;
  /** Requests matching method and path (exact, without query). */
  count(method: string, path: string): number;
  config(extra?: Record<string, unknown>): CloudConfig;
  session(extra?: Record<string, unknown>): Session;
  close(): Promise<void>;
}

const SERVICES: [type: string, name: string, path: string][] = [
  ['compute', 'nova', '/compute/v2.1'],
  ['image', 'glance', '/image/v2'],
  ['network', 'neutron', '/network/v2.0'],
  ['volumev3', 'cinderv3', `/volume/v3/${PROJECT.id}`],
  ['object-store', 'swift', `/swift/v1/AUTH_${PROJECT.id}`],
];

export async function startFakeCloud(opts: { services?: string[] } = {}): Promise<FakeCloud> {
  const routes = new Map<string, FakeHandler>();
  const patterns: {
    method: string;
    pattern: RegExp;
    handler: (req: FakeRequest, m: RegExpExecArray) => FakeReply | Promise<FakeReply>;
  }[] = [];
  const requests: FakeRequest[] = [];
  const sessions: Session[] = [];
  let base = '';
  const enabled = opts.services;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the client went away mid-body (an aborted upload): nothing to answer
    }
    const u = new URL(req.url ?? '/', base);
    const body = Buffer.concat(chunks);
    const fr: FakeRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body,
      json: () => JSON.parse(body.toString('utf8')) as unknown,
    };
    requests.push(fr);
    let reply: FakeReply;
    try {
      reply = await dispatch(fr);
    } catch (err) {
      reply = { status: 500, json: { computeFault: { code: 500, message: String(err) } } };
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    let payload: string | Buffer = '';
    if (reply.json !== undefined) {
      payload = JSON.stringify(reply.json);
      headers['content-type'] ??= 'application/json';
    } else if (reply.body !== undefined) payload = reply.body;
    headers['x-openstack-request-id'] ??= `req-${requests.length}`;
    res.writeHead(reply.status ?? 200, headers);
    res.end(payload);
  });

  async function dispatch(r: FakeRequest): Promise<FakeReply> {
    const h = routes.get(`${r.method} ${r.path}`);
    if (h) return h(r);
    for (const p of patterns) {
      const m = p.method === r.method ? p.pattern.exec(r.path) : null;
      if (m) return p.handler(r, m);
    }
    if (r.method === 'POST' && r.path === '/identity/v3/auth/tokens') return token();
    if (r.method === 'GET' && (r.path === '/identity' || r.path === '/identity/' || r.path === '/identity/v3')) {
      return {
        status: r.path === '/identity/v3' ? 200 : 300,
        json: {
          version: { id: 'v3.14', status: 'stable', links: [{ rel: 'self', href: `${base}/identity/v3/` }] },
        },
      };
    }
    return { status: 404, json: { itemNotFound: { code: 404, message: `no route for ${r.method} ${r.path}` } } };
  }

  function token(): FakeReply {
    const now = Date.now();
    const catalog = SERVICES.filter(([type]) => !enabled || enabled.includes(type)).map(([type, name, path]) => ({
      type,
      name,
      id: name,
      endpoints: [
        {
          id: `${name}-public`,
          interface: 'public',
          region: 'RegionOne',
          region_id: 'RegionOne',
          url: `${base}${path}`,
        },
      ],
    }));
    catalog.push({
      type: 'identity',
      name: 'keystone',
      id: 'keystone',
      endpoints: [
        { id: 'ks', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: `${base}/identity` },
      ],
    });
    return {
      status: 201,
      headers: { 'x-subject-token': 'fake-token-0123456789' },
      json: {
        token: {
          methods: ['password'],
          expires_at: new Date(now + 3_600_000).toISOString(),
          issued_at: new Date(now).toISOString(),
          user: { id: 'u1', name: 'demo', domain: { id: 'default', name: 'Default' } },
          project: PROJECT,
          roles: [{ id: 'r1', name: 'member' }],
          catalog,
        },
      },
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const config = (extra: Record<string, unknown> = {}): CloudConfig => ({
    name: 'fake',
    regionName: 'RegionOne',
    regions: ['RegionOne'],
    authType: 'password',
    auth: {
      auth_url: `${base}/identity/v3`,
      username: 'demo',
      password: 'secret',
      project_name: 'demo',
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    },
    interface: 'public',
    identityApiVersion: '3',
    services: {},
    verify: true,
    extra,
  });

  return {
    url: base,
    requests,
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    routeMatch(method, pattern, handler) {
      patterns.push({ method, pattern, handler });
    },
    count(method, path) {
      return requests.filter((r) => r.method === method && r.path === path).length;
    },
    config,
    session(extra) {
      const s = createSession(config(extra), { transportOptions: { retry: false } });
      sessions.push(s);
      return s;
    },
    async close() {
      for (const s of sessions) await s.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A Nova server record as /servers/detail returns it. */
export function novaServer(
  id: string,
  name: string,
  o: {
    status?: string;
    addresses?: Record<string, { addr: string; version: number; type?: string; mac?: string }[]>;
    accessIPv4?: string;
    fault?: { message: string; code: number };
    az?: string;
    metadata?: Record<string, string>;
  } = {},
): Record<string, unknown> {
  const addresses: Record<string, unknown[]> = {};
  for (const [net, list] of Object.entries(o.addresses ?? {})) {
    addresses[net] = list.map((a) => ({
      addr: a.addr,
      version: a.version,
      'OS-EXT-IPS:type': a.type ?? 'fixed',
      'OS-EXT-IPS-MAC:mac_addr': a.mac ?? 'fa:16:3e:00:00:01',
    }));
  }
  return {
    id,
    name,
    status: o.status ?? 'ACTIVE',
    tenant_id: PROJECT.id,
    user_id: 'u1',
    addresses,
    accessIPv4: o.accessIPv4 ?? '',
    accessIPv6: '',
    image: { id: 'img-1', links: [] },
    flavor: { id: 'flv-1', links: [] },
    key_name: null,
    metadata: o.metadata ?? {},
    hostId: 'host-abc',
    created: '2026-11-23T09:00:00Z',
    updated: '2026-11-23T09:00:00Z',
    'OS-EXT-AZ:availability_zone': o.az ?? 'nova',
    'OS-EXT-STS:power_state': 1,
    'OS-EXT-STS:vm_state': 'active',
    'OS-EXT-STS:task_state': null,
    'os-extended-volumes:volumes_attached': [],
    security_groups: [{ name: 'default' }],
    config_drive: '',
    progress: 0,
    ...(o.fault ? { fault: o.fault } : {}),
  };
}
