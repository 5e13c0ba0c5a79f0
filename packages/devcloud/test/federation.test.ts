import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';
import { applyMapping, validateRules } from '../src/keystone/mapping.ts';
import { buildResponse, certificatesFromMetadata, ecpEnvelope, signAssertion } from '../src/keystone/saml.ts';
import { newSigningIdentity } from '../src/keystone/x509.ts';
import type { Json } from './helpers.ts';

let dc: Devcloud;
before(async () => {
  dc = await startDevcloud({ services: [], logLevel: 'silent' });
});
after(() => dc.stop());

const url = (cloud: string) => dc.cloud(cloud).authUrl;
const json = (o: unknown) => JSON.stringify(o);
const deadline = () => AbortSignal.timeout(5000);

async function login(cloud: string, user = 'demo', project = 'demo'): Promise<{ token: string; body: Json }> {
  const res = await fetch(`${url(cloud)}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: json({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { id: 'default' }, password: `${user}-secret` } },
        },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    }),
    signal: deadline(),
  });
  assert.equal(res.status, 201);
  return { token: res.headers.get('x-subject-token') as string, body: await res.json() };
}

async function ecp(token: string, sp: string): Promise<Response> {
  return fetch(`${url('idp')}/auth/OS-FEDERATION/saml2/ecp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': token },
    body: json({
      auth: { identity: { methods: ['token'], token: { id: token } }, scope: { service_provider: { id: sp } } },
    }),
    signal: deadline(),
  });
}

function present(spUrl: string, envelope: string): Promise<Response> {
  return fetch(spUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.paos+xml' },
    body: envelope,
    redirect: 'manual',
    signal: deadline(),
  });
}

async function errorMessage(res: Response): Promise<string> {
  return ((await res.json()) as { error: { message: string } }).error.message;
}

describe('K2K identity provider side', () => {
  test('tokens list the enabled service providers', async () => {
    const { body } = await login('idp');
    const sps = body.token.service_providers as { id: string; sp_url: string; auth_url: string }[];
    assert.deepEqual(
      sps.map((s) => s.id),
      ['sp1', 'sp2'],
    );
    assert.equal(sps[0]?.sp_url, `${dc.cloud('sp1').baseUrl}/identity/v3/mellon/paosResponse`);
    assert.equal(
      sps[0]?.auth_url,
      `${dc.cloud('sp1').baseUrl}/identity/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
    );
  });

  test('ECP assertion: 200 text/xml SOAP envelope with RelayState, X-sp-url and X-auth-url', async () => {
    const { token } = await login('idp');
    const res = await ecp(token, 'sp1');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/xml/);
    assert.equal(res.headers.get('x-sp-url'), `${dc.cloud('sp1').baseUrl}/identity/v3/mellon/paosResponse`);
    assert.match(
      res.headers.get('x-auth-url') ?? '',
      /\/OS-FEDERATION\/identity_providers\/idp\/protocols\/saml2\/auth$/,
    );
    const xml = await res.text();
    assert.match(xml, /<ecp:RelayState [^>]*>\/identity\/v3\/OS-FEDERATION\/k2k-relay\/[0-9a-f]+<\/ecp:RelayState>/);
    assert.match(xml, /<saml:Attribute Name="openstack_user"[^>]*><saml:AttributeValue[^>]*>demo</);
    assert.match(xml, /<saml:Attribute Name="openstack_project"[^>]*><saml:AttributeValue[^>]*>demo</);
    assert.match(xml, /rsa-sha256/);
  });

  test('an unscoped token cannot get an assertion (403); an unknown SP is 404', async () => {
    const unscoped = await fetch(`${url('idp')}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: 'admin-secret' } },
          },
          scope: 'unscoped',
        },
      }),
      signal: deadline(),
    });
    assert.equal(unscoped.status, 201);
    const res = await ecp(unscoped.headers.get('x-subject-token') as string, 'sp1');
    assert.equal(res.status, 403);
    assert.match(await errorMessage(res), /project scoped token/);
    const { token } = await login('idp');
    const missing = await ecp(token, 'nope');
    assert.equal(missing.status, 404);
    assert.equal(await errorMessage(missing), 'Could not find Service Provider: nope.');
  });

  test('POST /v3/auth/OS-FEDERATION/saml2 returns the bare, signed samlp:Response', async () => {
    const { token } = await login('idp');
    const res = await fetch(`${url('idp')}/auth/OS-FEDERATION/saml2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      body: json({
        auth: { identity: { methods: ['token'], token: { id: token } }, scope: { service_provider: { id: 'sp2' } } },
      }),
      signal: deadline(),
    });
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, /^<samlp:Response /);
    assert.doesNotMatch(xml, /Envelope/);
    assert.match(xml, /<ds:SignatureValue>/);
    // The bare Response is accepted by the SP it was made for.
    const posted = await present(dc.cloud('sp2').federation.spUrl(), xml);
    assert.equal(posted.status, 303);
  });

  test('metadata publishes the signing certificate', async () => {
    const res = await fetch(`${url('idp')}/OS-FEDERATION/saml2/metadata`, { signal: deadline() });
    assert.equal(res.status, 200);
    const md = certificatesFromMetadata(await res.text());
    assert.equal(md.entityId, `${url('idp')}/OS-FEDERATION/saml2/idp`);
    const cert = new X509Certificate(Buffer.from(md.certs[0] as string, 'base64'));
    assert.ok(cert.verify(cert.publicKey), 'self-signed certificate verifies');
  });

  test('service provider CRUD (admin) and the token list follows enabled', async () => {
    const { token } = await login('idp', 'admin', 'admin');
    const base = `${url('idp')}/OS-FEDERATION/service_providers`;
    const headers = { 'content-type': 'application/json', 'x-auth-token': token };
    const put = await fetch(`${base}/extra`, {
      method: 'PUT',
      headers,
      body: json({
        service_provider: { auth_url: 'http://127.0.0.1:9/auth', sp_url: 'http://127.0.0.1:9/sp', enabled: false },
      }),
      signal: deadline(),
    });
    assert.equal(put.status, 201);
    let sps = (await login('idp')).body.token.service_providers as { id: string }[];
    assert.ok(!sps.some((s) => s.id === 'extra'), 'disabled SP not listed in tokens');
    const patch = await fetch(`${base}/extra`, {
      method: 'PATCH',
      headers,
      body: json({ service_provider: { enabled: true } }),
      signal: deadline(),
    });
    assert.equal(patch.status, 200);
    sps = (await login('idp')).body.token.service_providers as { id: string }[];
    assert.ok(sps.some((s) => s.id === 'extra'));
    const del = await fetch(`${base}/extra`, { method: 'DELETE', headers, signal: deadline() });
    assert.equal(del.status, 204);
    const demo = await login('idp');
    const forbidden = await fetch(base, { headers: { 'x-auth-token': demo.token }, signal: deadline() });
    assert.equal(forbidden.status, 403);
  });
});

describe('K2K service provider side', () => {
  test('full flow: assertion → 303 + cookie → unscoped federated token → projects → rescope', async () => {
    const { token, body } = await login('idp');
    const sp = (body.token.service_providers as { id: string; sp_url: string; auth_url: string }[]).find(
      (s) => s.id === 'sp1',
    );
    assert.ok(sp);
    const envelope = await (await ecp(token, 'sp1')).text();
    const posted = await present(sp.sp_url, envelope);
    assert.equal(posted.status, 303);
    assert.match(posted.headers.get('location') ?? '', /k2k-relay/);
    const cookie = (posted.headers.get('set-cookie') ?? '').split(';')[0] as string;
    assert.match(cookie, /^mellon-cookie=[0-9a-f]+$/);

    const noCookie = await fetch(sp.auth_url, { signal: deadline() });
    assert.equal(noCookie.status, 401);

    const fed = await fetch(sp.auth_url, { headers: { cookie }, signal: deadline() });
    assert.equal(fed.status, 201);
    const unscoped = fed.headers.get('x-subject-token') as string;
    const t = ((await fed.json()) as { token: Record<string, Json> }).token;
    assert.deepEqual(t.methods, ['saml2']);
    assert.equal(t.user.name, 'demo');
    assert.equal(t.user['OS-FEDERATION'].identity_provider.id, 'idp');
    assert.equal(t.user['OS-FEDERATION'].protocol.id, 'saml2');
    assert.equal(t.user['OS-FEDERATION'].groups.length, 1);
    assert.equal(t.catalog, undefined);

    const projects = await fetch(`${url('sp1')}/auth/projects`, {
      headers: { 'x-auth-token': unscoped },
      signal: deadline(),
    });
    const list = ((await projects.json()) as { projects: { id: string; name: string }[] }).projects;
    assert.deepEqual(
      list.map((p) => p.name),
      ['demo'],
    );
    const scoped = await fetch(`${url('sp1')}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json({
        auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: list[0]?.id } } },
      }),
      signal: deadline(),
    });
    assert.equal(scoped.status, 201);
    const scopedToken = scoped.headers.get('x-subject-token') as string;
    const st = ((await scoped.json()) as { token: Record<string, Json> }).token;
    assert.deepEqual(st.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    assert.ok(Array.isArray(st.catalog) && st.catalog.length > 0);
    const info = dc.cloud('sp1').ctx.validateToken(scopedToken);
    assert.equal(info?.federated?.identityProvider, 'idp');
    assert.deepEqual(info?.federated?.groups, ['federated_users']);
    assert.equal(info?.isAdmin, false);
    // The IdP's token means nothing at the SP.
    assert.equal(dc.cloud('sp1').ctx.validateToken(token), undefined);
  });

  test('a replayed assertion is rejected', async () => {
    const { token } = await login('idp');
    const envelope = await (await ecp(token, 'sp1')).text();
    const spUrl = dc.cloud('sp1').federation.spUrl();
    assert.equal((await present(spUrl, envelope)).status, 303);
    const again = await present(spUrl, envelope);
    assert.equal(again.status, 400);
    assert.match(await errorMessage(again), /replayed/);
  });

  test('a tampered assertion is rejected', async () => {
    const { token } = await login('idp');
    const envelope = await (await ecp(token, 'sp1')).text();
    const tampered = envelope.replace(
      /(<saml:Attribute Name="openstack_user"[^>]*><saml:AttributeValue[^>]*>)demo</,
      '$1admin<',
    );
    assert.notEqual(tampered, envelope);
    const res = await present(dc.cloud('sp1').federation.spUrl(), tampered);
    assert.equal(res.status, 400);
    assert.match(await errorMessage(res), /signature verification failed/);
  });

  test('an assertion for sp2 is refused by sp1 (Destination/Recipient)', async () => {
    const { token } = await login('idp');
    const envelope = await (await ecp(token, 'sp2')).text();
    const res = await present(dc.cloud('sp1').federation.spUrl(), envelope);
    assert.equal(res.status, 400);
    assert.match(await errorMessage(res), /Destination|Recipient/);
  });

  test('an expired assertion is refused', async () => {
    const idp = dc.cloud('idp').federation;
    const sp1 = dc.cloud('sp1').federation;
    const signing = await idp.signingIdentity();
    const old = buildResponse({
      issuer: idp.entityId(),
      recipient: sp1.spUrl(),
      nameId: 'demo',
      attributes: [
        ['openstack_user', ['demo']],
        ['openstack_user_domain', ['Default']],
      ],
      ttlSeconds: 60,
      now: new Date(Date.now() - 3 * 3600_000),
    });
    const envelope = ecpEnvelope(signAssertion(old.xml, old.assertionId, signing.keyPem, signing.certB64), '/relay');
    const res = await present(sp1.spUrl(), envelope);
    assert.equal(res.status, 400);
    assert.match(await errorMessage(res), /expired/);
  });

  test('an assertion signed by another key, claiming to be the IdP, is refused', async () => {
    const idp = dc.cloud('idp').federation;
    const sp1 = dc.cloud('sp1').federation;
    const forger = await newSigningIdentity('forger');
    const forged = buildResponse({
      issuer: idp.entityId(),
      recipient: sp1.spUrl(),
      nameId: 'admin',
      attributes: [
        ['openstack_user', ['admin']],
        ['openstack_user_domain', ['Default']],
      ],
      ttlSeconds: 60,
    });
    const envelope = ecpEnvelope(
      signAssertion(forged.xml, forged.assertionId, forger.keyPem, forger.certB64),
      '/relay',
    );
    const res = await present(sp1.spUrl(), envelope);
    assert.equal(res.status, 400);
    assert.match(await errorMessage(res), /signature verification failed/);
  });

  test('an assertion from an unknown issuer is refused', async () => {
    const sp1 = dc.cloud('sp1').federation;
    const other = await newSigningIdentity('other');
    const r = buildResponse({
      issuer: 'http://127.0.0.1:9/v3/OS-FEDERATION/saml2/idp',
      recipient: sp1.spUrl(),
      nameId: 'x',
      attributes: [],
      ttlSeconds: 60,
    });
    const res = await present(
      sp1.spUrl(),
      ecpEnvelope(signAssertion(r.xml, r.assertionId, other.keyPem, other.certB64), '/relay'),
    );
    assert.equal(res.status, 400);
    assert.match(await errorMessage(res), /unknown identity provider/);
  });

  test('signature wrapping: a second, unsigned assertion next to the signed one is refused', async () => {
    const { token } = await login('idp');
    const envelope = await (await ecp(token, 'sp1')).text();
    const evil =
      '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_evil" Version="2.0"><saml:Issuer>x</saml:Issuer></saml:Assertion>';
    const wrapped = envelope.replace('</samlp:Response>', `${evil}</samlp:Response>`);
    const res = await present(dc.cloud('sp1').federation.spUrl(), wrapped);
    assert.equal(res.status, 400);
    assert.match(await errorMessage(res), /exactly one saml:Assertion/);
  });
});

describe('mapping rules', () => {
  const attrs = {
    openstack_user: ['alice'],
    openstack_user_domain: ['Default'],
    openstack_roles: ['member', 'reader'],
    email: ['alice@example.org'],
  };
  test('direct mapping fills {0}; any_one_of must match', () => {
    const rules = validateRules([
      {
        local: [{ user: { name: '{0}', email: '{1}' } }, { group: { name: 'g1', domain: { id: 'default' } } }],
        remote: [{ type: 'openstack_user' }, { type: 'email' }, { type: 'openstack_roles', any_one_of: ['member'] }],
      },
    ]);
    const m = applyMapping(rules, attrs);
    assert.equal(m.user?.name, 'alice');
    assert.equal(m.user?.email, 'alice@example.org');
    assert.deepEqual(m.groupNames, [{ name: 'g1', domain: { id: 'default' } }]);
    const none = applyMapping(rules, { ...attrs, openstack_roles: ['reader'] });
    assert.equal(none.user, undefined);
  });
  test('not_any_of and regex', () => {
    const rules = validateRules([
      {
        local: [{ user: { name: '{0}' } }],
        remote: [{ type: 'openstack_user' }, { type: 'openstack_user_domain', not_any_of: ['^Other'], regex: true }],
      },
    ]);
    assert.equal(applyMapping(rules, attrs).user?.name, 'alice');
    assert.equal(applyMapping(rules, { ...attrs, openstack_user_domain: ['OtherDomain'] }).user, undefined);
  });
  test('groups from a multi-valued attribute', () => {
    const rules = validateRules([
      {
        local: [{ user: { name: '{0}' } }, { groups: '{1}', domain: { name: 'Default' } }],
        remote: [{ type: 'openstack_user' }, { type: 'openstack_roles' }],
      },
    ]);
    assert.deepEqual(
      applyMapping(rules, attrs).groupNames.map((g) => g.name),
      ['member', 'reader'],
    );
  });
  test('invalid rules are a 400', () => {
    assert.throws(() => validateRules([{ local: [] }]), /remote/);
  });
});
