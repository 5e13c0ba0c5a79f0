// A fake Keystone v3 (IdP and/or K2K SP with a mellon-like ECP front) on loopback, for auth/session/k2k tests.
// It implements the wire behaviour the SDK relies on: POST /v3/auth/tokens (password, token, application_credential;
// project/domain/system scope), version documents, /v3/auth/projects, /v3/auth/OS-FEDERATION/saml2/ecp, the SP's
// PAOS endpoint (303 + session cookie) and federated auth endpoint (cookie → unscoped token).
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type RecordedRequest, sendJson, startServer, type TestServer } from './transport-helpers.ts';

export interface FakeUser {
  id: string;
  name: string;
  domainId: string;
  password: string;
}
export interface FakeProject {
  id: string;
  name: string;
  domainId: string;
}
export interface FakeToken {
  userId: string;
  projectId?: string | undefined;
  domainId?: string | undefined;
  system?: boolean;
  methods: string[];
  expiresAt: Date;
  federated?: boolean;
}

export interface FakeKeystoneOptions {
  /** Token lifetime (ms) for new tokens. */
  tokenTtlMs?: number;
  /** Report issued_at this far in the past (a long-lived token near its end). */
  tokenIssuedAgoMs?: number;
  /** Catalog to put into scoped tokens; receives the server's own URL. */
  catalog?: (self: string) => unknown[];
  /** Service providers (IdP role). */
  serviceProviders?: (self: string) => Array<{ id: string; auth_url: string; sp_url: string }>;
  /** Serve version discovery at GET / (default true). */
  versionDoc?: boolean;
  /** Path prefix of the identity API, e.g. '/identity' (devstack). */
  prefix?: string;
  /** SP role: the IdP id as registered at the SP. */
  spIdpId?: string;
  /** SP role: projects the federated group may use. */
  spFederatedProjects?: string[];
  /** Pre-Liberty Keystone: no /v3/auth/projects, only /v3/OS-FEDERATION/projects. */
  legacyProjectsOnly?: boolean;
  /** SP role: how the PAOS endpoint answers (default 303 + cookie). */
  paosStatus?: number;
}

export class FakeKeystone {
  server!: TestServer;
  readonly users: FakeUser[] = [
    { id: 'u-demo', name: 'demo', domainId: 'default', password: 'demo-secret' },
    { id: 'u-admin', name: 'admin', domainId: 'default', password: 'admin-secret' },
  ];
  readonly domains = [
    { id: 'default', name: 'Default' },
    { id: 'd-other', name: 'other' },
  ];
  readonly projects: FakeProject[] = [
    { id: 'p-demo', name: 'demo', domainId: 'default' },
    { id: 'p-admin', name: 'admin', domainId: 'default' },
    { id: 'p-demo-other', name: 'demo', domainId: 'd-other' },
  ];
  /** userId → project ids with a role. */
  readonly assignments = new Map<string, string[]>([
    ['u-demo', ['p-demo']],
    ['u-admin', ['p-admin', 'p-demo', 'p-demo-other']],
  ]);
  readonly appCreds = [{ id: 'ac-1', name: 'ci', userId: 'u-demo', secret: 'ac-secret-1', projectId: 'p-demo' }];
  readonly tokens = new Map<string, FakeToken>();
  /** Issued ECP assertions (IdP role): assertion id → user name/project. */
  readonly assertions = new Map<string, { user: string; project: string }>();
  /** SP role: session cookies → assertion info. */
  readonly sessions = new Map<string, { user: string }>();
  /** SP role: the IdP whose assertions it trusts. */
  trustedIdp: FakeKeystone | undefined;
  /** Hang on matching requests: 'headers' never answers, 'body' sends headers and part of a body, then stops. */
  stall: ((method: string, path: string) => 'headers' | 'body' | undefined) | undefined;
  readonly opts: FakeKeystoneOptions;

  constructor(opts: FakeKeystoneOptions = {}) {
    this.opts = opts;
  }

  get url(): string {
    return this.server.url + (this.opts.prefix ?? '');
  }
  get v3(): string {
    return `${this.url}/v3`;
  }
  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  static async start(opts: FakeKeystoneOptions = {}): Promise<FakeKeystone> {
    const ks = new FakeKeystone(opts);
    ks.server = await startServer((req, res) => ks.#route(req, res));
    return ks;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Make a token invalid (as if it expired or was revoked). */
  revokeAll(): void {
    this.tokens.clear();
  }

  issue(t: FakeToken): string {
    const id = `gAAAAA${randomBytes(24).toString('base64url')}`;
    this.tokens.set(id, t);
    return id;
  }

  #err(res: ServerResponse, code: number, title: string, message: string): void {
    sendJson(res, code, { error: { code, title, message } });
  }

  #tokenBody(t: FakeToken): unknown {
    const user = this.users.find((u) => u.id === t.userId) ?? { id: t.userId, name: t.userId, domainId: 'Federated' };
    const body: Record<string, unknown> = {
      methods: t.methods,
      user: {
        id: user.id,
        name: user.name,
        domain: { id: user.domainId, name: this.domains.find((d) => d.id === user.domainId)?.name ?? user.domainId },
        ...(t.federated
          ? {
              'OS-FEDERATION': {
                identity_provider: { id: this.opts.spIdpId ?? 'idp' },
                protocol: { id: 'saml2' },
                groups: [{ id: 'g-fed' }],
              },
            }
          : {}),
      },
      expires_at: t.expiresAt.toISOString(),
      issued_at: new Date(Date.now() - (this.opts.tokenIssuedAgoMs ?? 0)).toISOString(),
      audit_ids: [randomUUID()],
    };
    const scoped = t.projectId || t.domainId || t.system;
    if (t.projectId) {
      const p = this.projects.find((x) => x.id === t.projectId)!;
      body.project = {
        id: p.id,
        name: p.name,
        domain: { id: p.domainId, name: this.domains.find((d) => d.id === p.domainId)?.name },
      };
    }
    if (t.domainId) body.domain = { id: t.domainId, name: this.domains.find((d) => d.id === t.domainId)?.name };
    if (t.system) body.system = { all: true };
    if (scoped) {
      body.roles = [{ id: 'r-member', name: 'member' }];
      body.catalog = this.opts.catalog?.(this.server.url) ?? [
        {
          type: 'identity',
          name: 'keystone',
          id: 's-id',
          endpoints: [{ id: 'e1', interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: this.v3 }],
        },
      ];
    }
    if (this.opts.serviceProviders) body.service_providers = this.opts.serviceProviders(this.server.url);
    return { token: body };
  }

  #newToken(res: ServerResponse, t: FakeToken): void {
    const id = this.issue(t);
    res.writeHead(201, {
      'content-type': 'application/json',
      'x-subject-token': id,
      'x-openstack-request-id': `req-${randomUUID()}`,
    });
    res.end(JSON.stringify(this.#tokenBody(t)));
  }

  #resolveScope(
    // biome-ignore lint/suspicious/noExplicitAny: JSON request body from the wire
    scope: Record<string, any> | undefined,
    userId: string,
    res: ServerResponse,
  ): Partial<FakeToken> | undefined {
    if (!scope) return {};
    if (scope.project) {
      const p = scope.project;
      let proj: FakeProject | undefined;
      if (p.id) proj = this.projects.find((x) => x.id === p.id);
      else {
        const domId = p.domain?.id ?? this.domains.find((d) => d.name === p.domain?.name)?.id;
        if (!domId) {
          this.#err(res, 400, 'Bad Request', 'Expecting to find domain in project');
          return undefined;
        }
        proj = this.projects.find((x) => x.name === p.name && x.domainId === domId);
      }
      const allowed = this.#projectsFor(userId);
      if (!proj || !allowed.includes(proj.id)) {
        this.#err(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
        return undefined;
      }
      return { projectId: proj.id };
    }
    if (scope.domain) {
      const d = this.domains.find((x) => x.id === scope.domain.id || x.name === scope.domain.name);
      if (!d) {
        this.#err(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
        return undefined;
      }
      return { domainId: d.id };
    }
    if (scope.system) return { system: true };
    return {};
  }

  #projectsFor(userId: string): string[] {
    if (userId.startsWith('fed-')) return this.opts.spFederatedProjects ?? ['p-demo'];
    return this.assignments.get(userId) ?? [];
  }

  #valid(token: string | undefined): FakeToken | undefined {
    if (!token) return undefined;
    const t = this.tokens.get(token);
    if (!t || t.expiresAt.getTime() <= Date.now()) return undefined;
    return t;
  }

  async #route(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const prefix = this.opts.prefix ?? '';
    const full = new URL(req.url, 'http://x');
    if (!full.pathname.startsWith(prefix)) return this.#err(res, 404, 'Not Found', 'no such path');
    const path = full.pathname.slice(prefix.length) || '/';
    const stall = this.stall?.(req.method, path);
    if (stall === 'headers') return;
    if (stall === 'body') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"stalled": ');
      return;
    }
    const ttl = this.opts.tokenTtlMs ?? 3_600_000;

    if (req.method === 'GET' && (path === '/' || path === '')) {
      if (this.opts.versionDoc === false) return this.#err(res, 404, 'Not Found', 'no version document');
      return sendJson(res, 300, {
        versions: {
          values: [
            {
              id: 'v3.14',
              status: 'stable',
              updated: '2020-04-07T00:00:00Z',
              links: [{ rel: 'self', href: `${this.v3}/` }],
              'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
            },
          ],
        },
      });
    }
    if (req.method === 'POST' && path === '/v3/auth/tokens') {
      const body = JSON.parse(req.body || '{}');
      const identity = body?.auth?.identity ?? {};
      const methods: string[] = identity.methods ?? [];
      let userId: string | undefined;
      let fixedScope: Partial<FakeToken> | undefined;
      let federated = false;
      if (methods[0] === 'password') {
        const u = identity.password?.user ?? {};
        const user = u.id
          ? this.users.find((x) => x.id === u.id)
          : this.users.find(
              (x) =>
                x.name === u.name &&
                (x.domainId === u.domain?.id || this.domains.find((d) => d.id === x.domainId)?.name === u.domain?.name),
            );
        if (!u.id && !u.domain) return this.#err(res, 400, 'Bad Request', 'Expecting to find domain in user');
        if (!user || user.password !== u.password)
          return this.#err(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
        userId = user.id;
      } else if (methods[0] === 'token') {
        const t = this.#valid(identity.token?.id);
        if (!t) return this.#err(res, 404, 'Not Found', `Could not find token: ${identity.token?.id}`);
        userId = t.userId;
        federated = t.federated === true;
      } else if (methods[0] === 'application_credential') {
        const c = identity.application_credential ?? {};
        const cred = c.id
          ? this.appCreds.find((x) => x.id === c.id)
          : this.appCreds.find(
              (x) =>
                x.name === c.name &&
                (x.userId === c.user?.id || this.users.find((u) => u.id === x.userId)?.name === c.user?.name),
            );
        if (!cred || cred.secret !== c.secret)
          return this.#err(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
        if (body.auth.scope)
          return this.#err(res, 401, 'Unauthorized', 'Application credentials cannot request a scope.');
        userId = cred.userId;
        fixedScope = { projectId: cred.projectId };
      } else return this.#err(res, 401, 'Unauthorized', 'unsupported method');
      const scope = fixedScope ?? this.#resolveScope(body.auth.scope, userId, res);
      if (!scope) return;
      return this.#newToken(res, { userId, methods, expiresAt: new Date(Date.now() + ttl), federated, ...scope });
    }
    const projectsPath = this.opts.legacyProjectsOnly ? '/v3/OS-FEDERATION/projects' : '/v3/auth/projects';
    if (req.method === 'GET' && (path === projectsPath || path === '/v3/auth/domains')) {
      const t = this.#valid(req.headers['x-auth-token'] as string | undefined);
      if (!t) return this.#err(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
      const ids = this.#projectsFor(t.userId);
      if (path.endsWith('domains'))
        return sendJson(res, 200, { domains: [], links: { self: `${this.v3}/auth/domains`, next: null } });
      return sendJson(res, 200, {
        projects: this.projects
          .filter((p) => ids.includes(p.id))
          .map((p) => ({ id: p.id, name: p.name, domain_id: p.domainId, enabled: true })),
        links: { self: `${this.v3}/auth/projects`, previous: null, next: null },
      });
    }
    if (req.method === 'GET' && path === '/v3/projects') {
      const t = this.#valid(req.headers['x-auth-token'] as string | undefined);
      if (!t) return this.#err(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
      return sendJson(res, 200, {
        projects: this.projects.map((p) => ({ id: p.id, name: p.name })),
        links: { next: null },
      });
    }
    if (req.method === 'POST' && path === '/v3/auth/OS-FEDERATION/saml2/ecp') {
      const body = JSON.parse(req.body || '{}');
      const t = this.#valid(body?.auth?.identity?.token?.id);
      if (!t) return this.#err(res, 404, 'Not Found', 'Could not find token');
      if (!t.projectId)
        return this.#err(
          res,
          403,
          'Forbidden',
          'Use a project scoped token when attempting to create a SAML assertion',
        );
      const spId = body?.auth?.scope?.service_provider?.id;
      const sp = this.opts.serviceProviders?.(this.server.url).find((s) => s.id === spId);
      if (!sp) return this.#err(res, 404, 'Not Found', `Could not find service provider: ${spId}`);
      const assertionId = `_${randomBytes(16).toString('hex')}`;
      const user = this.users.find((u) => u.id === t.userId)!;
      this.assertions.set(assertionId, { user: user.name, project: t.projectId });
      res.writeHead(200, { 'content-type': 'text/xml', 'x-sp-url': sp.sp_url, 'x-auth-url': sp.auth_url });
      res.end(
        `<?xml version='1.0' encoding='UTF-8'?>\n<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header><ecp:RelayState xmlns:ecp="urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp" S:actor="http://schemas.xmlsoap.org/soap/actor/next" S:mustUnderstand="1">/v3/OS-FEDERATION/k2k-relay/${randomBytes(8).toString('hex')}</ecp:RelayState></S:Header><S:Body><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Destination="${sp.sp_url}" ID="_r${assertionId}"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}"><saml:NameID>${user.name}</saml:NameID></saml:Assertion></samlp:Response></S:Body></S:Envelope>`,
      );
      return;
    }
    // --- SP role: mellon-like front + federated auth ---
    if (req.method === 'POST' && path === '/v3/mellon/paosResponse') {
      if (req.headers['content-type'] !== 'application/vnd.paos+xml')
        return this.#err(res, 400, 'Bad Request', 'expected PAOS');
      const m = /ID="(_[0-9a-f]+)"><saml:NameID>([^<]+)</.exec(req.body);
      const known = m && this.trustedIdp?.assertions.get(m[1]!);
      if (!m || !known) {
        res.writeHead(400, { 'content-type': 'text/html' });
        res.end('<html><body>Invalid assertion</body></html>');
        return;
      }
      const status = this.opts.paosStatus ?? 303;
      const sid = randomBytes(16).toString('hex');
      this.sessions.set(sid, { user: known.user });
      res.writeHead(status, {
        'set-cookie': [`mellon-cookie=${sid}; Version=1; Path=/; HttpOnly`, 'unrelated=1; Path=/elsewhere'],
        location: '/v3/OS-FEDERATION/k2k-relay/abc',
        'content-type': 'text/html',
      });
      res.end('<html>See other</html>');
      return;
    }
    if (path === `/v3/OS-FEDERATION/identity_providers/${this.opts.spIdpId ?? 'idp'}/protocols/saml2/auth`) {
      const cookie = String(req.headers.cookie ?? '');
      const sid = /mellon-cookie=([0-9a-f]+)/.exec(cookie)?.[1];
      const sess = sid ? this.sessions.get(sid) : undefined;
      if (!sess) {
        res.writeHead(303, { location: '/v3/mellon/login' });
        res.end();
        return;
      }
      const fedUserId = `fed-${sess.user}`;
      if (!this.users.some((u) => u.id === fedUserId))
        this.users.push({ id: fedUserId, name: sess.user, domainId: 'Federated', password: randomUUID() });
      return this.#newToken(res, {
        userId: fedUserId,
        methods: ['saml2'],
        expiresAt: new Date(Date.now() + ttl),
        federated: true,
      });
    }
    return this.#err(res, 404, 'Not Found', `The resource could not be found: ${req.method} ${path}`);
  }
}

/** A standard catalog pointing at services on `svc` plus identity on `ks`. */
export function catalogFor(ks: string, svc: string, region = 'RegionOne'): unknown[] {
  const ep = (type: string, name: string, url: string, extra: Array<Record<string, string>> = []) => ({
    type,
    name,
    id: `s-${type}`,
    endpoints: [
      { id: `e-${type}-pub`, interface: 'public', region, region_id: region, url },
      {
        id: `e-${type}-int`,
        interface: 'internal',
        region,
        region_id: region,
        url: `${url.replace('127.0.0.1', 'localhost')}`,
      },
      ...extra,
    ],
  });
  return [
    ep('identity', 'keystone', `${ks}/v3`),
    ep('compute', 'nova', `${svc}/compute/v2.1`),
    ep('volumev3', 'cinderv3', `${svc}/volume/v3/%(project_id)s`),
    ep('image', 'glance', `${svc}/image`),
    ep('network', 'neutron', `${svc}/networking`),
    ep('object-store', 'swift', `${svc}/swift/v1/AUTH_%(project_id)s`),
  ];
}
