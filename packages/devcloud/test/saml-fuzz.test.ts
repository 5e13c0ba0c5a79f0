/**
 * devcloud's SAML service provider (the ECP endpoint K2K presents assertions to) against hostile input,
 * property-based (fast-check): XML bombs (entity expansion, external entities), deep nesting, oversized bodies,
 * any one-character change to a signed assertion, signature wrapping, comment injection, wrong audience, validity
 * windows, replay. Everything but the untouched, fresh, in-window assertion is refused with a 4xx in Keystone's
 * shape (never a 5xx), within a bounded time. Each test reports how many cases it ran.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';
import { buildResponse, ecpEnvelope, signAssertion } from '../src/keystone/saml.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const TIME_LIMIT_MS = 60_000;

let dc: Devcloud;
let spUrl: string;
before(async () => {
  dc = await startDevcloud({ clouds: ['idp', 'sp1', 'sp2'], services: [], logLevel: 'silent', cloudsYamlPath: null });
  spUrl = dc.cloud('sp1').federation.spUrl();
});
after(() => dc?.stop());

/** A fresh envelope for sp1, signed by the IdP's real key, with what the test wants changed before signing. */
async function signed(
  opts: { now?: Date; ttlSeconds?: number; user?: string; edit?: (xml: string) => string } = {},
): Promise<{ envelope: string; assertionId: string }> {
  const idp = dc.cloud('idp').federation;
  const signing = await idp.signingIdentity();
  const r = buildResponse({
    issuer: idp.entityId(),
    recipient: spUrl,
    nameId: opts.user ?? 'demo',
    attributes: [
      ['openstack_user', [opts.user ?? 'demo']],
      ['openstack_user_domain', ['Default']],
    ],
    ttlSeconds: opts.ttlSeconds ?? 300,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const xml = opts.edit ? opts.edit(r.xml) : r.xml;
  return {
    envelope: ecpEnvelope(signAssertion(xml, r.assertionId, signing.keyPem, signing.certB64), '/k2k-relay'),
    assertionId: r.assertionId,
  };
}

let presented = 0;
/** POST to the SP's ECP endpoint; returns status, Keystone error message (if any) and the session cookie. */
async function present(body: string, type = 'application/vnd.paos+xml') {
  presented++;
  const t0 = performance.now();
  const res = await fetch(spUrl, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  assert.ok(res.status < 500, `HTTP ${res.status}: ${text.slice(0, 300)}`);
  assert.doesNotMatch(text, /\n\s+at |node:internal|\.ts:\d+/, 'a stack trace in the answer');
  let message = '';
  if (res.status >= 400) {
    const e = (JSON.parse(text) as { error?: { code?: number; message?: string } }).error;
    assert.equal(e?.code, res.status, `Keystone's error shape: ${text.slice(0, 300)}`);
    message = e?.message ?? '';
  }
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { status: res.status, message, cookie, ms };
}

async function checkAsync<T>(t: TestContext, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, runs = RUNS) {
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
  assert.ok(n >= Math.min(runs, 10), `only ${n} cases ran in ${TIME_LIMIT_MS} ms`);
}

/** The unmodified assertion is accepted: proves the refusals below are about the change, not the setup. */
async function assertAccepted(envelope: string): Promise<string> {
  const r = await present(envelope);
  assert.equal(r.status, 303, r.message);
  assert.match(r.cookie, /^mellon-cookie=[0-9a-f]+$/);
  return r.cookie;
}

describe('fuzz: devcloud’s SAML SP refuses hostile assertions', () => {
  it('XML bombs and external entities are refused at once, whatever hides the DOCTYPE', async (t) => {
    let slowest = 0;
    const bomb = fc.record({
      width: fc.integer({ min: 2, max: 20 }),
      depth: fc.integer({ min: 1, max: 12 }),
      prolog: fc.constantFrom(
        '',
        '<?xml version="1.0"?>',
        '\ufeff',
        '<!-- x -->',
        '<?xml version="1.0"?>\n<!--\n-->\n',
      ),
      keyword: fc.constantFrom('DOCTYPE', 'doctype', 'DocType'),
      external: fc.constantFrom(
        '',
        'SYSTEM "file:///etc/passwd"',
        'SYSTEM "http://127.0.0.1:9/x"',
        'PUBLIC "x" "http://127.0.0.1:9/x"',
      ),
      inAttribute: fc.boolean(),
    });
    await checkAsync(t, bomb, async (b) => {
      const ents = [`<!ENTITY e0 "${'lol'.repeat(b.width)}">`];
      for (let i = 1; i <= b.depth; i++) ents.push(`<!ENTITY e${i} "${`&e${i - 1};`.repeat(b.width)}">`);
      if (b.external) ents.push(`<!ENTITY ext ${b.external}>`);
      const use = b.external ? '&ext;' : `&e${b.depth};`;
      const { envelope } = await signed();
      const hostile = envelope.replace(
        '<S:Envelope',
        `${b.prolog}<!${b.keyword} S:Envelope [${ents.join('')}]><S:Envelope${b.inAttribute ? ` data-x="${use}"` : ''}`,
      );
      const withUse = b.inAttribute ? hostile : hostile.replace('<S:Body>', `<S:Body>${use}`);
      const r = await present(withUse);
      slowest = Math.max(slowest, r.ms);
      assert.equal(r.status, 400, r.message);
      assert.match(r.message, /DOCTYPE is not allowed|not well-formed/);
      assert.ok(r.ms < 5_000, `took ${r.ms} ms`);
    });
    t.diagnostic(`slowest refusal ${slowest.toFixed(0)} ms`);
  });

  it('deep nesting (over 256 levels) is a 400 and an envelope over 1 MiB a 413, both at once', async (t) => {
    const outcomes = new Map<string, number>();
    const shape = fc.oneof(
      fc.record({ kind: fc.constant('deep' as const), n: fc.integer({ min: 260, max: 60_000 }) }),
      fc.record({ kind: fc.constant('big' as const), n: fc.integer({ min: 1_100_000, max: 4_000_000 }) }),
    );
    await checkAsync(
      t,
      shape,
      async (s) => {
        const { envelope } = await signed();
        const body =
          s.kind === 'deep'
            ? envelope.replace('<S:Body>', `<S:Body>${'<a>'.repeat(s.n)}${'</a>'.repeat(s.n)}`)
            : envelope.replace('<S:Body>', `<S:Body><!--${'x'.repeat(s.n)}-->`);
        const r = await present(body);
        outcomes.set(`${s.kind} ${r.status}`, (outcomes.get(`${s.kind} ${r.status}`) ?? 0) + 1);
        // as libxml2 (mod_auth_mellon's parser) does: more than 256 levels is refused before any parsing
        assert.equal(r.status, s.kind === 'big' ? 413 : 400, `HTTP ${r.status} for ${s.kind} ${s.n}`);
        if (s.kind === 'deep') assert.match(r.message, /nested more than 256 levels/);
        assert.ok(r.ms < 5_000, `${s.kind} ${s.n} took ${r.ms} ms`);
      },
      Math.min(RUNS, 30),
    );
    t.diagnostic(`outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });

  it('any one-character change inside the signed assertion is refused; the untouched one is accepted', async (t) => {
    const { envelope, assertionId } = await signed();
    const start = envelope.indexOf(`<saml:Assertion ID="${assertionId}"`);
    const end = envelope.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length;
    const sigStart = envelope.indexOf('<ds:Signature', start);
    const sigEnd = envelope.indexOf('</ds:Signature>', start) + '</ds:Signature>'.length;
    assert.ok(start > 0 && sigStart > start && sigEnd < end, 'the envelope has the expected layout');
    // Letters and digits of the assertion outside its Signature: every one is covered by the signature (whitespace
    // and quoting are left alone, as canonicalisation may legitimately normalise them).
    const positions: number[] = [];
    for (let i = start; i < end; i++) {
      if (i >= sigStart && i < sigEnd) continue;
      if (/[A-Za-z0-9]/.test(envelope[i]!)) positions.push(i);
    }
    const change = fc.tuple(
      fc.constantFrom(...positions),
      fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    );
    await checkAsync(t, change, async ([i, c]) => {
      fc.pre(envelope[i] !== c);
      const r = await present(envelope.slice(0, i) + c + envelope.slice(i + 1));
      assert.equal(r.status, 400, `changing offset ${i} (${envelope.slice(i - 20, i + 20)}) to ${c} was accepted`);
    });
    t.diagnostic(`${positions.length} signed positions to choose from`);
    await assertAccepted(envelope);
  });

  it('signature wrapping: the signed assertion moved, copied or hidden next to a forged one is refused', async (t) => {
    const forged = (id: string) =>
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>${dc.cloud('idp').federation.entityId()}</saml:Issuer><saml:Subject><saml:NameID>admin</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="2999-01-01T00:00:00Z" Recipient="${spUrl}"/></saml:SubjectConfirmation></saml:Subject><saml:AttributeStatement><saml:Attribute Name="openstack_user"><saml:AttributeValue>admin</saml:AttributeValue></saml:Attribute><saml:Attribute Name="openstack_user_domain"><saml:AttributeValue>Default</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`;
    const attacks: [string, (env: string, id: string, assertion: string) => string][] = [
      ['forged assertion first, signed one after it', (env, _id, a) => env.replace(a, forged('_evil') + a)],
      ['forged assertion with the signed one’s ID', (env, id, a) => env.replace(a, forged(id) + a)],
      [
        'signed assertion moved into samlp:Extensions',
        (env, _id, a) => env.replace(a, `<samlp:Extensions>${a}</samlp:Extensions>${forged('_evil')}`),
      ],
      [
        'signed assertion moved into the SOAP header',
        (env, _id, a) => env.replace(a, forged('_evil')).replace('</S:Header>', `${a}</S:Header>`),
      ],
      [
        'signed assertion nested in the forged one',
        (env, id, a) =>
          env.replace(a, forged(id).replace('</saml:Assertion>', `<saml:Advice>${a}</saml:Advice></saml:Assertion>`)),
      ],
      [
        'signed assertion inside its own signature’s ds:Object',
        (env, _id, a) => {
          const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(a)![0];
          return env.replace(
            a,
            forged('_evil').replace(
              '</saml:Issuer>',
              `</saml:Issuer>${sig.replace('</ds:Signature>', `<ds:Object>${a}</ds:Object></ds:Signature>`)}`,
            ),
          );
        },
      ],
      [
        'second Response in the body',
        (env) =>
          env.replace(
            '</S:Body>',
            `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${forged('_evil')}</samlp:Response></S:Body>`,
          ),
      ],
      ['signature stripped', (env, _id, a) => env.replace(a, a.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''))],
    ];
    for (const [name, attack] of attacks) {
      const { envelope, assertionId } = await signed();
      const a = envelope.slice(
        envelope.indexOf('<saml:Assertion '),
        envelope.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length,
      );
      const hostile = attack(envelope, assertionId, a);
      assert.notEqual(hostile, envelope, name);
      const r = await present(hostile);
      assert.equal(r.status, 400, `${name}: accepted`);
      await assertAccepted(envelope); // the untouched one still works: the refusal was about the wrapping
    }
    t.diagnostic(`${attacks.length} wrapping attacks`);
  });

  it('a comment inside the signed user name neither breaks the signature check nor truncates the user', async () => {
    const { envelope } = await signed({
      user: 'demo',
      edit: (xml) => xml,
    });
    // exclusive c14n drops comments, so the signature still holds: what counts is which user the SP then sees
    const hostile = envelope.replace(/(Name="openstack_user"[^>]*><saml:AttributeValue[^>]*>)de(mo<)/, '$1de<!---->$2');
    assert.notEqual(hostile, envelope);
    const r = await present(hostile);
    if (r.status === 303) {
      const fed = await fetch(dc.cloud('sp1').federation.authUrl('idp'), {
        headers: { cookie: r.cookie },
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(fed.status, 201);
      const user = ((await fed.json()) as { token: { user: { name: string } } }).token.user.name;
      assert.equal(user, 'demo', 'the user is the whole signed name, not the text before the comment');
    } else {
      assert.equal(r.status, 400);
    }
  });

  it('an Audience that is not this SP is refused, one that is is accepted', async (t) => {
    const audience = fc.oneof(
      fc.constant(dc.cloud('sp2').federation.spUrl()),
      fc.webUrl(),
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '' && !/[<&"]/.test(s)),
    );
    await checkAsync(
      t,
      fc.tuple(audience, fc.boolean()),
      async ([aud, alsoOurs]) => {
        fc.pre(aud.trim() !== spUrl);
        const restriction = `<saml:AudienceRestriction><saml:Audience>${aud.replaceAll('&', '&amp;')}</saml:Audience>${alsoOurs ? `<saml:Audience>${spUrl}</saml:Audience>` : ''}</saml:AudienceRestriction>`;
        const { envelope } = await signed({
          edit: (xml) => xml.replace(/(<saml:Conditions [^>]*?)\/>/, `$1>${restriction}</saml:Conditions>`),
        });
        assert.match(envelope, /AudienceRestriction/);
        const r = await present(envelope);
        if (alsoOurs) assert.equal(r.status, 303, r.message);
        else {
          assert.equal(r.status, 400);
          assert.match(r.message, /Audience/);
        }
      },
      Math.min(RUNS, 40),
    );
  });

  it('validity window: refused when expired or not yet valid (beyond 60 s of skew), accepted inside', async (t) => {
    const window = fc.record({
      offsetS: fc.integer({ min: -10 * 86_400, max: 10 * 86_400 }),
      ttlS: fc.integer({ min: 1, max: 7_200 }),
    });
    let accepted = 0;
    let refused = 0;
    await checkAsync(
      t,
      window,
      async ({ offsetS, ttlS }) => {
        // the assertion's NotBefore is now+offset, its NotOnOrAfter now+offset+ttl; stay clear of the edges
        const notBefore = offsetS;
        const notAfter = offsetS + ttlS;
        fc.pre(Math.abs(notBefore - 60) > 10 && Math.abs(notAfter + 60) > 10);
        const inside = notBefore - 60 <= 0 && notAfter + 60 > 0;
        const { envelope } = await signed({ now: new Date(Date.now() + offsetS * 1000), ttlSeconds: ttlS });
        const r = await present(envelope);
        if (inside) {
          accepted++;
          assert.equal(r.status, 303, `window [${notBefore}, ${notAfter}) s: ${r.message}`);
        } else {
          refused++;
          assert.equal(r.status, 400, `window [${notBefore}, ${notAfter}) s was accepted`);
          assert.match(r.message, /expired|not yet valid/);
        }
      },
      Math.min(RUNS, 60),
    );
    t.diagnostic(`${accepted} in the window accepted, ${refused} outside refused`);
  });

  it('an assertion is accepted once: replays are refused, also with the unsigned parts around it changed', async (t) => {
    const variant = fc.constantFrom<[string, (e: string) => string]>(
      ['as is', (e) => e],
      ['another RelayState', (e) => e.replace('/k2k-relay', '/k2k-relay-2')],
      ['whitespace between elements outside the assertion', (e) => e.replace('<S:Body>', '<S:Body>\n  ')],
      ['a comment in the envelope', (e) => e.replace('<S:Body>', '<S:Body><!-- again -->')],
      ['another content type', (e) => e],
    );
    await checkAsync(
      t,
      variant,
      async ([name, change]) => {
        const { envelope } = await signed();
        await assertAccepted(envelope);
        const r = await present(change(envelope), name === 'another content type' ? 'text/xml' : undefined);
        assert.equal(r.status, 400, `a replay (${name}) was accepted`);
        assert.match(r.message, /replayed/);
      },
      Math.min(RUNS, 20),
    );
    t.diagnostic(`${presented} envelopes presented in this file`);
  });
});
