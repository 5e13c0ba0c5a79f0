/**
 * The SDK's K2K (SAML2 ECP) client against a hostile or broken identity provider: a front in front of devcloud's
 * IdP rewrites the ECP envelope it hands out (XML bombs, forged, expired, wrongly addressed or wrapped
 * assertions, replays of an earlier envelope, bytes changed at random, an endless body), and devcloud's SP does
 * the real verification. Every case must end in FEDERATION_FAILED naming the step, never a token, never a hang,
 * and never with a token in the error. Property-based (fast-check), bounded; each test reports its cases.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import fc from 'fast-check';
import type { AuthContext } from '../src/auth/index.ts';
import { Keystone2Keystone, PasswordAuth } from '../src/auth/index.ts';
import { isOcxError, type OcxError } from '../src/errors/index.ts';
import { createTransport } from '../src/transport/index.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const TIME_LIMIT_MS = 60_000;

let dc: Devcloud;
let front: Server;
let frontUrl: string;
/** How the front changes the IdP's ECP answer; undefined = pass it through. */
let rewrite: ((envelope: string) => string) | undefined;
/** When set, the front answers the ECP call with an endless body instead. */
let endless = false;
/** When set, the front sends half the envelope and then nothing more. */
let stall = false;
const envelopes: string[] = [];
const transport = createTransport({ retry: false });
const ctx: AuthContext = { transport, timeoutMs: 10_000 };

before(async () => {
  dc = await startDevcloud({ clouds: ['idp', 'sp1'], services: [], logLevel: 'silent', cloudsYamlPath: null });
  const idpBase = dc.cloud('idp').baseUrl;
  // A plain forwarding front for the IdP: only the ECP assertion call is tampered with.
  front = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const ecpCall = req.url?.endsWith('/auth/OS-FEDERATION/saml2/ecp');
    if (ecpCall && stall) {
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': '10000' });
      res.write('<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>');
      res.on('error', () => undefined);
      return;
    }
    if (ecpCall && endless) {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const chunk = Buffer.alloc(64 * 1024, 'A');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
    const up = await fetch(`${idpBase}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    let body = Buffer.from(await up.arrayBuffer());
    if (ecpCall && up.status === 200) {
      envelopes.push(body.toString('utf8'));
      if (rewrite) body = Buffer.from(rewrite(body.toString('utf8')));
    }
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'content-encoding' && k !== 'transfer-encoding') out[k] = v;
    });
    res.writeHead(up.status, out).end(body);
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
after(async () => {
  front?.closeAllConnections();
  await new Promise((r) => front?.close(r));
  await transport.close();
  await dc?.stop();
});

const k2k = () =>
  new Keystone2Keystone({
    idp: new PasswordAuth({
      authUrl: `${frontUrl}/identity/v3`,
      username: 'demo',
      userDomain: { id: 'default' },
      password: 'demo-secret',
      scope: { kind: 'project', name: 'demo', domainId: 'default' },
    }),
    serviceProvider: 'sp1',
    target: { projectName: 'demo', projectDomainName: 'Default' },
  });

/** Run K2K; expect FEDERATION_FAILED at `step`, in bounded time, with no token in the message. */
async function refused(step: string, message?: RegExp): Promise<OcxError> {
  const t0 = performance.now();
  let caught: unknown;
  try {
    await k2k().authenticate(ctx);
  } catch (err) {
    caught = err;
  }
  const ms = performance.now() - t0;
  assert.ok(caught, 'K2K succeeded with a hostile assertion');
  assert.ok(isOcxError(caught, 'FEDERATION_FAILED'), `expected FEDERATION_FAILED, got ${String(caught)}`);
  const e = caught as OcxError;
  assert.equal(e.step, step, e.message);
  if (message) assert.match(e.message, message);
  assert.ok(ms < 8_000, `took ${ms} ms`);
  assert.doesNotMatch(e.message, /[0-9a-f]{32}/, 'no token-like string in the error');
  return e;
}

/** The IdP's own signed assertion, re-signed after an edit (the front holds the IdP's key, as a hostile IdP would). */
async function resign(envelope: string, edit: (assertionXml: string) => string): Promise<string> {
  // devcloud's SAML kit loads xml-crypto: a subpath of its own, so importing @ocx/devcloud does not
  const { buildResponse, signAssertion, ecpEnvelope } = await import('@ocx/devcloud/saml');
  const fed = dc.cloud('idp').federation;
  const signing = await fed.signingIdentity();
  const sp = dc.cloud('sp1').federation;
  const r = buildResponse({
    issuer: fed.entityId(),
    recipient: sp.spUrl(),
    nameId: 'demo',
    attributes: [
      ['openstack_user', ['demo']],
      ['openstack_user_domain', ['Default']],
    ],
    ttlSeconds: 300,
  });
  const relay = /<ecp:RelayState[^>]*>([^<]*)</.exec(envelope)?.[1] ?? '/relay';
  return ecpEnvelope(signAssertion(edit(r.xml), r.assertionId, signing.keyPem, signing.certB64), relay);
}

async function check<T>(t: TestContext, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, runs = RUNS) {
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        n++;
        await predicate(v);
      }),
      { numRuns: runs, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    throw new Error(`${String(cause?.message).slice(0, 1500)}\n…\n${String((err as Error).message).slice(0, 1500)}`);
  }
  t.diagnostic(`${n} cases`);
  assert.ok(n >= Math.min(runs, 5), `only ${n} cases ran`);
}

describe('K2K client against a hostile identity provider', () => {
  it('the untouched exchange works through the front (so every refusal below is the tampering’s doing)', async () => {
    rewrite = undefined;
    const access = await k2k().authenticate(ctx);
    assert.equal(access.project?.name, 'demo');
  });

  it('an XML bomb in place of the envelope is refused by the SP, quickly, as sp-assertion', async () => {
    rewrite = (env) =>
      `<?xml version="1.0"?><!DOCTYPE S:Envelope [<!ENTITY a "${'lol'.repeat(10)}">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('')}]>${env.replace('<S:Body>', '<S:Body>&j;')}`;
    await refused('sp-assertion', /DOCTYPE is not allowed/);
  });

  it('an endless ECP answer is cut off at the size limit, as ecp-assertion, long before the deadline', async () => {
    endless = true;
    try {
      await refused('ecp-assertion', /more than 1048576 bytes/);
    } finally {
      endless = false;
    }
  });

  it('an IdP that stops half-way through the envelope: the caller’s deadline holds', async () => {
    stall = true;
    const t0 = performance.now();
    try {
      const err = await k2k()
        .authenticate({ transport, timeoutMs: 1_500 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const ms = performance.now() - t0;
      assert.ok(isOcxError(err, 'TIMEOUT'), `expected TIMEOUT, got ${String(err)}`);
      assert.equal((err as OcxError).step, 'ecp-assertion');
      assert.ok(ms < 6_000, `the 1.5 s deadline held for ${ms} ms`);
    } finally {
      stall = false;
      front.closeAllConnections();
    }
  });

  it('an earlier envelope handed out again (replay) is refused', async () => {
    rewrite = undefined;
    await k2k().authenticate(ctx);
    const used = envelopes.at(-1)!;
    rewrite = () => used;
    await refused('sp-assertion', /replayed/);
  });

  it('forged, expired, misaddressed, wrapped or altered assertions all end in FEDERATION_FAILED', async (t) => {
    const kinds = fc.oneof(
      fc.constant({ kind: 'expired' as const }),
      fc.constant({ kind: 'not yet valid' as const }),
      fc.constant({ kind: 'foreign audience' as const }),
      fc.constant({ kind: 'other recipient' as const }),
      fc.constant({ kind: 'wrapped' as const }),
      fc.constant({ kind: 'unsigned' as const }),
      fc.record({ kind: fc.constant('byte' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
    );
    const seen = new Map<string, number>();
    await check(t, kinds, async (k) => {
      seen.set(k.kind, (seen.get(k.kind) ?? 0) + 1);
      const past = (xml: string) => xml.replace(/NotOnOrAfter="[^"]+"/g, 'NotOnOrAfter="2001-01-01T00:00:00Z"');
      const future = (xml: string) => xml.replace(/NotBefore="[^"]+"/g, 'NotBefore="2999-01-01T00:00:00Z"');
      const audience = (xml: string) =>
        xml.replace(
          /(<saml:Conditions [^>]*?)\/>/,
          '$1><saml:AudienceRestriction><saml:Audience>https://elsewhere.example/sp</saml:Audience></saml:AudienceRestriction></saml:Conditions>',
        );
      const recipient = (xml: string) =>
        xml.replaceAll(dc.cloud('sp1').federation.spUrl(), 'https://elsewhere.example/sp');
      const envelope = envelopes.at(-1) ?? '';
      switch (k.kind) {
        case 'expired':
          rewrite = await resign(envelope, past).then((e) => () => e);
          await refused('sp-assertion', /expired/);
          break;
        case 'not yet valid':
          rewrite = await resign(envelope, future).then((e) => () => e);
          await refused('sp-assertion', /not yet valid/);
          break;
        case 'foreign audience':
          rewrite = await resign(envelope, audience).then((e) => () => e);
          await refused('sp-assertion', /Audience/);
          break;
        case 'other recipient':
          rewrite = await resign(envelope, recipient).then((e) => () => e);
          await refused('sp-assertion', /Destination|Recipient/);
          break;
        case 'wrapped':
          rewrite = (env) => {
            const a = env.slice(env.indexOf('<saml:Assertion '), env.indexOf('</saml:Assertion>') + 17);
            const evil = a
              .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
              .replace(/>demo</g, '>admin<')
              .replace(/ID="[^"]+"/, 'ID="_evil"');
            return env.replace(a, `${evil}<samlp:Extensions>${a}</samlp:Extensions>`);
          };
          await refused('sp-assertion');
          break;
        case 'unsigned':
          rewrite = (env) => env.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
          await refused('sp-assertion', /not signed/);
          break;
        case 'byte':
          rewrite = (env) => {
            // one letter or digit of the signed assertion (outside its Signature) changed
            const start = env.indexOf('<saml:Assertion ');
            const sig = env.indexOf('<ds:Signature');
            const sigEnd = env.indexOf('</ds:Signature>') + 15;
            const end = env.indexOf('</saml:Assertion>');
            const spots: number[] = [];
            for (let i = start; i < end; i++)
              if ((i < sig || i >= sigEnd) && /[A-Za-z0-9]/.test(env[i]!)) spots.push(i);
            const i = spots[Math.min(spots.length - 1, Math.floor(k.at * spots.length))]!;
            return env.slice(0, i) + (env[i] === 'x' ? 'y' : 'x') + env.slice(i + 1);
          };
          await refused('sp-assertion');
          break;
      }
    });
    rewrite = undefined;
    t.diagnostic(`kinds ${JSON.stringify(Object.fromEntries(seen))}`);
  });
});
