/**
 * Test scaffolding for the multi-cloud layer: small loopback "clouds" (a Keystone-ish token endpoint plus one list
 * endpoint per cloud, each with a configurable behaviour) and a minimal Session over real HTTP to them. The session
 * layer itself is tested elsewhere; here it only has to authenticate, expose a catalog and GET JSON.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessInfo, CatalogEntry, ServiceProviderInfo } from '../src/auth/types.ts';
import type { CloudConfig } from '../src/config/types.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { errorFromStatus } from '../src/errors/from-response.ts';
import { OcxError } from '../src/errors/ocx-error.ts';
import type { SessionFactory } from '../src/multicloud/types.ts';
import type { ServiceClient, Session } from '../src/session/types.ts';

export type Behaviour =
  | { kind: 'ok'; items: Array<Record<string, unknown>>; delayMs?: number }
  | { kind: 'status'; status: number; body: string }
  | { kind: 'hang' };

export interface FakeCloud {
  name: string;
  url: string;
  server: Server;
  behaviour: Behaviour;
  /** Passwords accepted by the token endpoint. */
  password: string;
  serviceProviders: ServiceProviderInfo[];
  /** Requests to the list endpoint that were aborted by the client before an answer. */
  abortedRequests: number;
  inFlight: number;
  maxInFlight: number;
  listCalls: number;
  close(): Promise<void>;
}

export async function startFakeCloud(
  name: string,
  behaviour: Behaviour,
  opts: {
    password?: string;
    serviceProviders?: ServiceProviderInfo[];
    sharedCounter?: { now: number; max: number };
  } = {},
): Promise<FakeCloud> {
  const cloud = {
    name,
    behaviour,
    password: opts.password ?? 'pw',
    serviceProviders: opts.serviceProviders ?? [],
    abortedRequests: 0,
    inFlight: 0,
    maxInFlight: 0,
    listCalls: 0,
  } as FakeCloud;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v3/auth/tokens' && req.method === 'POST') {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
        const pw = body?.auth?.identity?.password?.user?.password;
        if (pw !== cloud.password) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                code: 401,
                title: 'Unauthorized',
                message: 'The request you have made requires authentication.',
              },
            }),
          );
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': `tok-${name}` });
        res.end(
          JSON.stringify({
            token: { project: { id: `proj-${name}`, name: 'demo', domain: { id: 'default', name: 'Default' } } },
          }),
        );
        return;
      }
      if (req.url?.startsWith('/compute/servers')) {
        cloud.listCalls++;
        cloud.inFlight++;
        cloud.maxInFlight = Math.max(cloud.maxInFlight, cloud.inFlight);
        if (opts.sharedCounter) {
          opts.sharedCounter.now++;
          opts.sharedCounter.max = Math.max(opts.sharedCounter.max, opts.sharedCounter.now);
        }
        let answered = false;
        const done = () => {
          if (answered) return;
          answered = true;
          cloud.inFlight--;
          if (opts.sharedCounter) opts.sharedCounter.now--;
        };
        res.on('close', () => {
          if (!res.writableFinished) cloud.abortedRequests++;
          done();
        });
        const b = cloud.behaviour;
        if (b.kind === 'hang') return;
        if (b.kind === 'status') {
          setTimeout(() => {
            res.writeHead(b.status, { 'content-type': 'application/json', 'x-openstack-request-id': `req-${name}` });
            res.end(b.body);
          }, 5);
          return;
        }
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ servers: b.items }));
        }, b.delayMs ?? 5);
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cloud.server = server;
  cloud.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cloud.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return cloud;
}

export function cloudConfigFor(url: string, name: string, password = 'pw', region = 'RegionOne'): CloudConfig {
  return {
    name,
    regionName: region,
    regions: [region],
    authType: 'password',
    auth: {
      auth_url: `${url}/v3`,
      username: 'demo',
      password,
      project_name: 'demo',
      user_domain_id: 'default',
      project_domain_id: 'default',
    },
    interface: 'public',
    identityApiVersion: '3',
    services: {},
    verify: true,
    extra: {},
  };
}

/** A Session over real HTTP to a FakeCloud (password auth; K2K clouds borrow the home session's token). */
export class TestSession {
  readonly cloud: CloudConfig;
  readonly cloudName: string;
  readonly regionName: string;
  readonly home: Session | undefined;
  access: AccessInfo | undefined;
  closed = false;
  authCount = 0;

  constructor(cloud: CloudConfig, home?: Session) {
    this.cloud = cloud;
    this.cloudName = cloud.name;
    this.regionName = cloud.regionName;
    this.home = home;
  }

  #base(): string {
    const authUrl = this.cloud.federation
      ? String(this.cloud.federation.home?.auth.auth_url)
      : String(this.cloud.auth.auth_url);
    return authUrl.replace(/\/v3$/, '');
  }

  async getAccess(opts: { signal?: AbortSignal } = {}): Promise<AccessInfo> {
    if (this.access) return this.access;
    this.authCount++;
    if (this.cloud.federation) {
      if (!this.home) throw new OcxError(ErrorCode.FEDERATION_FAILED, 'no home session');
      const homeAccess = await this.home.getAccess(opts);
      const sp = homeAccess.serviceProviders.find((s) => s.id === this.cloud.federation?.serviceProvider);
      if (!sp) throw new OcxError(ErrorCode.FEDERATION_FAILED, 'unknown sp');
      this.access = {
        ...homeAccess,
        token: `${homeAccess.token}@${sp.id}`,
        identityUrl: sp.auth_url,
        serviceProviders: [],
      };
      return this.access;
    }
    let res: Response;
    try {
      res = await fetch(`${this.#base()}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: this.cloud.auth.username, password: this.cloud.auth.password } },
            },
          },
        }),
        signal: opts.signal ?? null,
      });
    } catch (err) {
      throw new OcxError(
        ErrorCode.UNREACHABLE,
        `cannot reach ${this.#base()}`,
        { cloud: this.cloudName },
        { cause: err },
      );
    }
    const text = await res.text();
    if (res.status === 401)
      throw new OcxError(ErrorCode.AUTH_FAILED, 'credentials rejected', { cloud: this.cloudName, status: 401 });
    if (res.status !== 201) throw errorFromStatus(res.status, text, { cloud: this.cloudName, service: 'identity' });
    const body = JSON.parse(text) as {
      token: { project: { id: string; name: string; domain: { id: string; name: string } } };
    };
    const base = this.#base();
    const catalog: CatalogEntry[] = [
      {
        type: 'compute',
        name: 'nova',
        endpoints: [{ interface: 'public', region: this.regionName, url: `${base}/compute` }],
      },
      {
        type: 'volumev2',
        name: 'cinderv2',
        endpoints: [{ interface: 'public', region: this.regionName, url: `${base}/volume/v2` }],
      },
      {
        type: 'volumev3',
        name: 'cinderv3',
        endpoints: [{ interface: 'public', region: this.regionName, url: `${base}/volume/v3` }],
      },
      {
        type: 'image',
        name: 'glance',
        endpoints: [{ interface: 'public', region: 'ElsewhereRegion', url: `${base}/image` }],
      },
    ];
    const fake = (this as unknown as { fakeCloud?: FakeCloud }).fakeCloud;
    this.access = {
      token: res.headers.get('x-subject-token') ?? '',
      expiresAt: new Date(Date.now() + 3600_000),
      methods: ['password'],
      user: { id: 'u1', name: 'demo' },
      project: body.token.project,
      roles: [],
      catalog,
      serviceProviders: fake?.serviceProviders ?? [],
      identityUrl: `${base}/v3`,
      unscoped: false,
    };
    return this.access;
  }

  async getToken(opts: { signal?: AbortSignal } = {}): Promise<string> {
    return (await this.getAccess(opts)).token;
  }

  invalidate(): void {
    this.access = undefined;
  }

  client(serviceType: string): ServiceClient {
    const getJson = async <T>(path: string, opts: { signal?: AbortSignal } = {}): Promise<T> => {
      const access = await this.getAccess(opts);
      const entry = access.catalog.find((c) => c.type === serviceType);
      if (!entry?.endpoints[0]) throw new OcxError(ErrorCode.ENDPOINT_NOT_FOUND, `no ${serviceType}`);
      const url = entry.endpoints[0].url + path;
      let res: Response;
      try {
        res = await fetch(url, { headers: { 'x-auth-token': access.token }, signal: opts.signal ?? null });
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        throw new OcxError(ErrorCode.UNREACHABLE, `cannot reach ${url}`, { cloud: this.cloudName }, { cause: err });
      }
      const text = await res.text();
      if (!res.ok)
        throw errorFromStatus(res.status, text, {
          cloud: this.cloudName,
          service: serviceType,
          method: 'GET',
          url,
          requestId: res.headers.get('x-openstack-request-id') ?? undefined,
        });
      return JSON.parse(text) as T;
    };
    return { serviceType, getJson } as unknown as ServiceClient;
  }

  async projectId(): Promise<string | undefined> {
    return this.access?.project?.id;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A SessionFactory making TestSessions; remembers them (and which FakeCloud lists which SPs). */
export function testSessionFactory(fakes: Record<string, FakeCloud> = {}) {
  const made: TestSession[] = [];
  const factory: SessionFactory = (cloud, ctx) => {
    const s = new TestSession(cloud, ctx.home);
    (s as unknown as { fakeCloud?: FakeCloud }).fakeCloud = fakes[cloud.name];
    made.push(s);
    return s as unknown as Session;
  };
  return { factory, made };
}

/** The list call the tests fan out: GET {compute}/servers through the connection's session. */
export async function listServers(
  conn: { session: Session },
  _name: string,
  ctx: { signal: AbortSignal },
): Promise<Array<Record<string, unknown>>> {
  const body = await conn.session.client('compute').getJson<{ servers: Array<Record<string, unknown>> }>('/servers', {
    signal: ctx.signal,
  });
  return body.servers;
}
