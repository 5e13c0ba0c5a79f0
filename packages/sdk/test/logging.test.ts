import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keystone2Keystone, MemoryTokenCache, PasswordAuth } from '../src/auth/index.ts';
import { OcxError } from '../src/errors/index.ts';
import { createSession } from '../src/session/index.ts';
import { createLogger, createTransport, redactBody, redactHeaders, redactJson } from '../src/transport/index.ts';
import { catalogFor, FakeKeystone } from './auth-fixtures.ts';
import { startCloud } from './session-fixtures.ts';
import { captureStream } from './transport-helpers.ts';

describe('logging: redaction helpers', () => {
  it('masks token headers and cookies, keeps the rest', () => {
    assert.deepEqual(
      redactHeaders({
        'X-Auth-Token': 'abc',
        'x-subject-token': 'def',
        'X-Service-Token': 'g',
        Cookie: 'c=1',
        'content-type': 'application/json',
      }),
      {
        'x-auth-token': '***',
        'x-subject-token': '***',
        'x-service-token': '***',
        cookie: '***',
        'content-type': 'application/json',
      },
    );
  });

  it('masks password, secret and token.id in JSON bodies', () => {
    const body = {
      auth: {
        identity: {
          methods: ['password', 'token', 'application_credential'],
          password: { user: { name: 'demo', password: 'pw' } },
          token: { id: 'tok' },
          application_credential: { id: 'ac', secret: 'sec' },
        },
      },
      server: { adminPass: 'ap' },
    };
    assert.deepEqual(redactJson(body), {
      auth: {
        identity: {
          methods: ['password', 'token', 'application_credential'],
          password: { user: { name: 'demo', password: '***' } },
          token: { id: '***' },
          application_credential: { id: 'ac', secret: '***' },
        },
      },
      server: { adminPass: '***' },
    });
  });

  it('replaces SAML documents with a summary', () => {
    const out = redactBody(
      '<S:Envelope xmlns:S="x"><S:Body><samlp:Response><saml:Assertion>secret</saml:Assertion></samlp:Response></S:Body></S:Envelope>',
    );
    assert.match(out!, /^\[SAML document redacted, \d+ chars\]$/);
  });
});

describe('logging: a full auth + K2K + request flow at trace level never writes a token', () => {
  it('captures everything and finds no token, password, secret, cookie or assertion', async () => {
    const out = captureStream();
    const logger = createLogger({ level: 'trace', destination: out });
    const transport = createTransport({ logger, retry: false });

    // home cloud + service cloud (password), and an IdP/SP pair for K2K
    const cloud = await startCloud();
    const sp = await FakeKeystone.start({ spIdpId: 'idp', catalog: (self) => catalogFor(self, cloud.svc.url) });
    const idp = await FakeKeystone.start({
      serviceProviders: () => [
        {
          id: 'sp1',
          auth_url: `${sp.url}/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth`,
          sp_url: `${sp.url}/v3/mellon/paosResponse`,
        },
      ],
    });
    sp.trustedIdp = idp;
    try {
      const s = createSession(cloud.config, { transport, tokenCache: new MemoryTokenCache() });
      const nova = s.client('compute');
      await (await nova.get('/echo', { microversion: 'latest' })).json();
      await (await nova.post('/echo', { json: { server: { name: 'x', adminPass: 'admin-pass-777' } } })).json();
      cloud.ks.revokeAll();
      await (await nova.get('/echo')).json(); // 401 → re-auth → retry
      for await (const _ of s.client('image').paginate('/images', { itemsKey: 'images' })) {
        // drain
      }
      await s
        .client('compute')
        .get('/faults/404')
        .catch((e: unknown) => assert.ok(e instanceof OcxError));

      const k2k = new Keystone2Keystone({
        idp: new PasswordAuth({
          authUrl: idp.url,
          username: 'demo',
          userDomain: { name: 'Default' },
          password: 'demo-secret',
          scope: { kind: 'project', name: 'demo', domainName: 'Default' },
        }),
        serviceProvider: 'sp1',
        target: { projectName: 'demo', projectDomainId: 'default' },
        idpTokenCache: new MemoryTokenCache(),
      });
      const fed = createSession(
        { ...cloud.config, name: 'sp1' },
        { auth: k2k, transport, tokenCache: new MemoryTokenCache() },
      );
      // the service validates against the other Keystone: a 401 → re-auth (a second K2K) → AUTH_EXPIRED, all logged
      await fed
        .client('compute')
        .get('/echo')
        .catch(() => undefined);
      await fed.getAccess();
      await new PasswordAuth({ authUrl: idp.url, userId: 'u-demo', password: 'wrong-password-99' })
        .authenticate({ transport })
        .catch(() => undefined);

      await new Promise((r) => setTimeout(r, 50)); // let pino flush
      const text = out.text();
      const lines = out.lines();
      assert.ok(lines.length > 20, 'the flow was actually logged');
      assert.ok(lines.some((l) => l.msg === 'http request' && String(l.url).includes('/saml2/ecp')));
      assert.ok(lines.some((l) => l.msg === 'http request' && String(l.url).includes('/v3/mellon/paosResponse')));
      assert.ok(
        lines.some((l) => l.msg === 'http response body'),
        'bodies are logged at trace',
      );

      const secrets = [
        ...cloud.ks.tokens.keys(),
        ...idp.tokens.keys(),
        ...sp.tokens.keys(),
        ...sp.sessions.keys(),
        ...idp.assertions.keys(),
        'demo-secret',
        'admin-pass-777',
        'wrong-password-99',
      ];
      assert.ok(secrets.length > 10);
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `a secret leaked into the log: ${secret.slice(0, 8)}…`);
      assert.ok(text.includes('***'), 'masking happened');
      await s.close();
      await fed.close();
    } finally {
      await Promise.all([cloud.close(), idp.close(), sp.close(), transport.close()]);
    }
  });
});
