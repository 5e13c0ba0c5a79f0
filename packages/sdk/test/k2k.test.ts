import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthContext } from '../src/auth/index.ts';
import { Keystone2Keystone, MemoryTokenCache, PasswordAuth, remoteIdentityUrl } from '../src/auth/index.ts';
import { k2kCloudConfig } from '../src/config/index.ts';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import { createSession } from '../src/session/index.ts';
import { createTransport } from '../src/transport/index.ts';
import { rejectsWith } from './assert-errors.ts';
import { catalogFor, FakeKeystone } from './auth-fixtures.ts';
import { closedPort } from './transport-helpers.ts';

let idp: FakeKeystone;
let sp1: FakeKeystone;
let sp2: FakeKeystone;
let deadPort: number;
const transport = createTransport({ retry: false });
const ctx: AuthContext = { transport, timeoutMs: 5000 };

before(async () => {
  deadPort = await closedPort();
  sp1 = await FakeKeystone.start({ spIdpId: 'idp', catalog: (self) => catalogFor(`${self}`, `${self}/svc`) });
  sp2 = await FakeKeystone.start({ spIdpId: 'idp', spFederatedProjects: ['p-demo', 'p-demo-other', 'p-admin'] });
  const sps = () => [
    {
      id: 'sp1',
      auth_url: `${sp1.url}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
      sp_url: `${sp1.url}/v3/mellon/paosResponse`,
    },
    {
      id: 'sp2',
      auth_url: `${sp2.url}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
      sp_url: `${sp2.url}/v3/mellon/paosResponse`,
    },
    {
      id: 'spdead',
      auth_url: `http://127.0.0.1:${deadPort}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
      sp_url: `http://127.0.0.1:${deadPort}/v3/mellon/paosResponse`,
    },
  ];
  idp = await FakeKeystone.start({ serviceProviders: sps });
  sp1.trustedIdp = idp;
  sp2.trustedIdp = idp;
});
after(async () => {
  await Promise.all([idp.close(), sp1.close(), sp2.close(), transport.close()]);
});

const idpPlugin = () =>
  new PasswordAuth({
    authUrl: `${idp.url}/v3`,
    username: 'demo',
    userDomain: { id: 'default' },
    password: 'demo-secret',
    scope: { kind: 'project', name: 'demo', domainId: 'default' },
  });

describe('K2K: the exchange on the wire', () => {
  it('IdP token → ECP assertion → SP (no redirect) → cookie → auth_url → projects → rescope', async () => {
    const idpBefore = idp.requests.length;
    const spBefore = sp1.requests.length;
    const k2k = new Keystone2Keystone({
      idp: idpPlugin(),
      serviceProvider: 'sp1',
      target: { projectName: 'demo', projectDomainId: 'default' },
      idpTokenCache: new MemoryTokenCache(),
    });
    const access = await k2k.authenticate(ctx);

    const idpSeq = idp.requests.slice(idpBefore);
    assert.deepEqual(
      idpSeq.map((r) => `${r.method} ${r.url}`),
      ['POST /v3/auth/tokens', 'POST /v3/auth/OS-FEDERATION/saml2/ecp'],
    );
    const idpToken = [...idp.tokens.keys()].at(-1)!;
    const ecp = idpSeq[1]!;
    assert.equal(ecp.headers['content-type'], 'application/json');
    assert.equal(ecp.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(ecp.body), {
      auth: {
        identity: { methods: ['token'], token: { id: idpToken } },
        scope: { service_provider: { id: 'sp1' } },
      },
    });

    const spSeq = sp1.requests.slice(spBefore);
    assert.deepEqual(
      spSeq.map((r) => `${r.method} ${r.url}`),
      [
        'POST /v3/mellon/paosResponse',
        'GET /v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth',
        'POST /v3/auth/tokens',
      ],
      'the 303 Location (/v3/OS-FEDERATION/k2k-relay/abc) is never requested; a project named with its domain is rescoped without listing projects',
    );
    const [paos, fedAuth, rescope] = spSeq;
    assert.equal(paos!.headers['content-type'], 'application/vnd.paos+xml');
    assert.ok(
      paos!.body.startsWith("<?xml version='1.0' encoding='UTF-8'?>\n<S:Envelope"),
      'the envelope is sent verbatim',
    );
    assert.equal(paos!.headers['x-auth-token'], undefined, 'the SP POST is unauthenticated');
    assert.equal(paos!.headers.cookie, undefined);
    assert.match(
      String(fedAuth!.headers.cookie),
      /^mellon-cookie=[0-9a-f]+$/,
      'only the cookie whose path matches is sent',
    );
    assert.equal(fedAuth!.headers['content-type'], 'application/vnd.paos+xml');
    const unscopedToken = [...sp1.tokens.entries()].find(([, t]) => t.methods[0] === 'saml2')?.[0];
    assert.deepEqual(JSON.parse(rescope!.body), {
      auth: {
        identity: { methods: ['token'], token: { id: unscopedToken } },
        scope: { project: { name: 'demo', domain: { id: 'default' } } },
      },
    });

    assert.equal(access.project?.id, 'p-demo');
    assert.equal(access.identityUrl, `${sp1.url}/v3`);
    assert.ok(sp1.tokens.has(access.token));
    assert.equal(access.federation?.identityProvider, 'idp');
    assert.ok(
      access.catalog.some((c) => c.type === 'compute'),
      'the scoped token carries the SP catalog',
    );
  });

  it('a Session on the SP works through K2K: catalog of the SP, token of the SP', async () => {
    const k2k = new Keystone2Keystone({ idp: idpPlugin(), serviceProvider: 'sp1', target: { projectId: 'p-demo' } });
    const session = createSession(
      {
        name: 'sp1-via-idp',
        regionName: 'RegionOne',
        regions: ['RegionOne'],
        authType: 'password',
        auth: {},
        interface: 'public',
        identityApiVersion: '3',
        services: {},
        verify: true,
        extra: {},
      },
      { auth: k2k, transport, tokenCache: new MemoryTokenCache() },
    );
    assert.equal(await session.endpointFor('compute'), `${sp1.url}/svc/compute/v2.1`);
    assert.equal(await session.endpointFor('volumev3'), `${sp1.url}/svc/volume/v3/p-demo`);
    assert.ok(sp1.tokens.has(await session.getToken()));
  });

  it('a cloud config with `federation` (clouds.yaml K2K entry) gets the K2K plugin from its home cloud', async () => {
    const home = {
      name: 'home',
      regionName: 'RegionOne',
      regions: ['RegionOne'],
      authType: 'password' as const,
      auth: {
        auth_url: idp.url,
        username: 'demo',
        password: 'demo-secret',
        user_domain_name: 'Default',
        project_name: 'demo',
        project_domain_name: 'Default',
      },
      interface: 'public' as const,
      identityApiVersion: '3',
      services: {},
      verify: true,
      extra: {},
    };
    const remote = k2kCloudConfig(home, {
      serviceProvider: 'sp1',
      remoteProjectName: 'demo',
      remoteProjectDomainName: 'Default',
    });
    const session = createSession(remote, { transport, tokenCache: new MemoryTokenCache() });
    assert.equal(session.authPlugin.kind, 'k2k');
    const access = await session.getAccess();
    assert.ok(sp1.tokens.has(access.token));
    assert.equal(access.project?.id, 'p-demo');
    assert.throws(
      () => createSession({ ...remote, federation: { homeCloud: 'home', serviceProvider: 'sp1' } }),
      (e: unknown) => e instanceof OcxError && e.code === ErrorCode.CONFIG_INVALID,
    );
  });

  it('remoteIdentityUrl cuts the federated auth_url at /OS-FEDERATION/', () => {
    assert.equal(
      remoteIdentityUrl('https://sp:5000/v3/OS-FEDERATION/identity_providers/i/protocols/saml2/auth'),
      'https://sp:5000/v3',
    );
    assert.equal(remoteIdentityUrl('https://sp/identity/v3'), 'https://sp/identity/v3');
  });
});

describe('K2K: project selection is deterministic', () => {
  const k2k = (target: ConstructorParameters<typeof Keystone2Keystone>[0]['target']) =>
    new Keystone2Keystone({ idp: idpPlugin(), serviceProvider: 'sp2', target, idpTokenCache: new MemoryTokenCache() });

  it('a name present in two domains is AMBIGUOUS without a domain, resolved with one', async () => {
    const err = await rejectsWith(k2k({ projectName: 'demo' }).authenticate(ctx), ErrorCode.AMBIGUOUS);
    assert.equal(err.step, 'project-selection');
    const a = await k2k({ projectName: 'demo', projectDomainId: 'd-other' }).authenticate(ctx);
    assert.equal(a.project?.id, 'p-demo-other');
  });

  it('domain by name when the federated user cannot list domains: Keystone checks name + domain at rescope', async () => {
    const before = sp2.requests.length;
    const a = await k2k({ projectName: 'admin', projectDomainName: 'Default' }).authenticate(ctx);
    assert.equal(a.project?.id, 'p-admin');
    const rescope = sp2.requests.slice(before).find((r) => r.method === 'POST' && r.url === '/v3/auth/tokens');
    assert.deepEqual(JSON.parse(rescope!.body).auth.scope, { project: { name: 'admin', domain: { name: 'Default' } } });
  });

  it('an unknown project name or id is FEDERATION_FAILED at project-selection, listing what is available', async () => {
    const err = await rejectsWith(k2k({ projectName: 'nope' }).authenticate(ctx), ErrorCode.FEDERATION_FAILED);
    assert.equal(err.step, 'project-selection');
    assert.match(err.message, /no project named nope/);
    assert.match(err.message, /p-demo-other/);
    const e2 = await rejectsWith(k2k({ projectId: 'p-missing' }).authenticate(ctx), ErrorCode.FEDERATION_FAILED);
    assert.equal(e2.step, 'project-selection');
    // Named with its domain, the rescope goes first; its refusal is explained from the listing.
    const e3 = await rejectsWith(
      k2k({ projectName: 'nope', projectDomainName: 'Default' }).authenticate(ctx),
      ErrorCode.FEDERATION_FAILED,
    );
    assert.equal(e3.step, 'project-selection');
    assert.match(e3.message, /no project named nope in domain Default/);
  });

  it('no target with several projects is an error, never "the first one"', async () => {
    const err = await rejectsWith(k2k({}).authenticate(ctx), ErrorCode.FEDERATION_FAILED);
    assert.match(err.message, /no target project given/);
  });
});

describe('K2K: older service providers', () => {
  it('falls back to /v3/OS-FEDERATION/projects when /v3/auth/projects is missing', async () => {
    const legacy = await FakeKeystone.start({ spIdpId: 'idp', legacyProjectsOnly: true });
    const legacyIdp = await FakeKeystone.start({
      serviceProviders: () => [
        {
          id: 'old',
          auth_url: `${legacy.url}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
          sp_url: `${legacy.url}/v3/mellon/paosResponse`,
        },
      ],
    });
    legacy.trustedIdp = legacyIdp;
    try {
      const a = await new Keystone2Keystone({
        idp: new PasswordAuth({
          authUrl: legacyIdp.v3,
          userId: 'u-demo',
          password: 'demo-secret',
          scope: { kind: 'project', id: 'p-demo' },
        }),
        serviceProvider: 'old',
        // No target: the listing chooses the only project (a known id would rescope without listing).
        target: {},
        idpTokenCache: new MemoryTokenCache(),
      }).authenticate(ctx);
      assert.equal(a.project?.id, 'p-demo');
      assert.deepEqual(
        legacy.requests.filter((r) => r.method === 'GET' && r.url.includes('projects')).map((r) => r.url),
        ['/v3/auth/projects', '/v3/OS-FEDERATION/projects'],
      );
    } finally {
      await Promise.all([legacy.close(), legacyIdp.close()]);
    }
  });
});

describe('K2K: failures name the step', () => {
  it('a known project id is rescoped at once: no project listing on the way', async () => {
    const spBefore = sp1.requests.length;
    const access = await new Keystone2Keystone({
      idp: idpPlugin(),
      serviceProvider: 'sp1',
      target: { projectId: 'p-demo' },
      idpTokenCache: new MemoryTokenCache(),
    }).authenticate(ctx);
    assert.equal(access.project?.id, 'p-demo');
    assert.deepEqual(
      sp1.requests.slice(spBefore).map((r) => `${r.method} ${r.url}`),
      [
        'POST /v3/mellon/paosResponse',
        'GET /v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth',
        'POST /v3/auth/tokens',
      ],
    );
  });

  it('an SP the IdP does not know → service-provider', async () => {
    const err = await rejectsWith(
      new Keystone2Keystone({ idp: idpPlugin(), serviceProvider: 'sp9', target: { projectId: 'p-demo' } }).authenticate(
        ctx,
      ),
      ErrorCode.FEDERATION_FAILED,
    );
    assert.equal(err.step, 'service-provider');
    assert.match(err.message, /sp1, sp2, spdead/);
  });

  it('wrong IdP credentials → AUTH_FAILED at idp-login', async () => {
    const bad = new PasswordAuth({
      authUrl: `${idp.url}/v3`,
      userId: 'u-demo',
      password: 'nope-nope',
      scope: { kind: 'project', id: 'p-demo' },
    });
    const err = await rejectsWith(
      new Keystone2Keystone({ idp: bad, serviceProvider: 'sp1', idpTokenCache: new MemoryTokenCache() }).authenticate(
        ctx,
      ),
      ErrorCode.AUTH_FAILED,
    );
    assert.equal(err.step, 'idp-login');
  });

  it('an unscoped IdP token → idp-login (Keystone signs assertions only for project-scoped tokens)', async () => {
    const unscoped = new PasswordAuth({ authUrl: `${idp.url}/v3`, userId: 'u-demo', password: 'demo-secret' });
    const err = await rejectsWith(
      new Keystone2Keystone({
        idp: unscoped,
        serviceProvider: 'sp1',
        idpTokenCache: new MemoryTokenCache(),
      }).authenticate(ctx),
      ErrorCode.FEDERATION_FAILED,
    );
    assert.equal(err.step, 'idp-login');
  });

  it('an SP that rejects the assertion (HTTP 400, as mellon does for a bad relay state) → sp-assertion', async () => {
    const trusted = sp1.trustedIdp;
    sp1.trustedIdp = undefined;
    try {
      const err = await rejectsWith(
        new Keystone2Keystone({
          idp: idpPlugin(),
          serviceProvider: 'sp1',
          target: { projectId: 'p-demo' },
        }).authenticate(ctx),
        ErrorCode.FEDERATION_FAILED,
      );
      assert.equal(err.step, 'sp-assertion');
      assert.equal(err.status, 400);
      assert.match(err.message, /Invalid assertion/);
      assert.match(err.message, /relay_state_prefix/);
    } finally {
      sp1.trustedIdp = trusted;
    }
  });

  it('a session cookie the SP does not accept → federated-auth', async () => {
    const sessions = sp1.sessions;
    const orig = sessions.set.bind(sessions);
    sessions.set = (k, v) => orig(`${k}x`, v); // the SP forgets the session it just created
    try {
      const err = await rejectsWith(
        new Keystone2Keystone({
          idp: idpPlugin(),
          serviceProvider: 'sp1',
          target: { projectId: 'p-demo' },
        }).authenticate(ctx),
        ErrorCode.FEDERATION_FAILED,
      );
      assert.equal(err.step, 'federated-auth');
    } finally {
      sessions.set = orig;
    }
  });

  it('an unreachable SP keeps its UNREACHABLE code and names the step', async () => {
    const err = await rejectsWith(
      new Keystone2Keystone({
        idp: idpPlugin(),
        serviceProvider: 'spdead',
        target: { projectId: 'p-demo' },
      }).authenticate(ctx),
      ErrorCode.UNREACHABLE,
    );
    assert.equal(err.step, 'sp-assertion');
  });

  it('a revoked IdP token gets one fresh IdP login before the assertion', async () => {
    const cache = new MemoryTokenCache();
    const plugin = idpPlugin();
    const k2k = new Keystone2Keystone({
      idp: plugin,
      serviceProvider: 'sp1',
      target: { projectId: 'p-demo' },
      idpTokenCache: cache,
    });
    await k2k.authenticate(ctx);
    idp.revokeAll();
    const a = await k2k.authenticate(ctx);
    assert.equal(a.project?.id, 'p-demo');
    assert.ok(idp.tokens.has(cache.get(plugin.cacheKey())!.token));
  });
});
