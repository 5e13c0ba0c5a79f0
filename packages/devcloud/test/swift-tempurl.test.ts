/**
 * Swift temporary URLs as Swift's tempurl middleware answers them. Every signature here is computed in the test
 * with node:crypto from the documented recipe (HMAC over "METHOD\nEXPIRES\nPATH"), not by devcloud's code.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { swiftService } from '../src/swift/index.ts';
import { inIpRange, parseExpires } from '../src/swift/tempurl.ts';
import { type Cloud, issueToken, startTestCloud } from './helpers.ts';
import { call, DEMO, type FakeCloud, startFake } from './storage-fake-ctx.ts';

const KEY = 'account-secret';
const KEY2 = 'rotated-secret';
const CKEY = 'container-secret';

function hmac(digest: string, key: string, body: string, encoding: 'hex' | 'base64url' = 'hex'): string {
  return createHmac(digest, key).update(body).digest(encoding);
}

describe('swift temp URLs', () => {
  let cloud: FakeCloud;
  let acct: string;
  const account = `AUTH_${DEMO.projectId}`;
  const objPath = `/v1/${account}/docs/report.txt`;
  const future = () => Math.floor(Date.now() / 1000) + 600;
  const url = (object: string, params: Record<string, string>) => `/${object}?${new URLSearchParams(params)}`;
  const anon = (object: string, params: Record<string, string>, init: RequestInit = {}) =>
    call(acct, url(object, params), init);

  before(async () => {
    cloud = await startFake([swiftService()]);
    acct = `${cloud.baseUrl}/object-store/v1/${account}`;
    const owner = { token: DEMO.token };
    await call(acct, '', {
      method: 'POST',
      ...owner,
      headers: { 'x-account-meta-temp-url-key': KEY, 'x-account-meta-temp-url-key-2': KEY2 },
    });
    await call(acct, '/docs', { method: 'PUT', ...owner });
    await call(acct, '/other', { method: 'PUT', ...owner, headers: { 'x-container-meta-temp-url-key': CKEY } });
    await call(acct, '/docs/report.txt', {
      method: 'PUT',
      ...owner,
      body: 'report bytes',
      headers: { 'x-object-meta-secret': 'hidden', 'x-object-meta-public-colour': 'blue' },
    });
    await call(acct, '/other/note.txt', { method: 'PUT', ...owner, body: 'note bytes' });
  });
  after(async () => cloud.close());

  it('/info advertises tempurl with its methods and sha256/sha512 only by default', async () => {
    const info = (await (await call(`${cloud.baseUrl}/object-store`, '/info')).json()) as {
      tempurl: { methods: string[]; allowed_digests: string[]; outgoing_allow_headers: string[] };
    };
    assert.deepEqual(info.tempurl.methods, ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);
    assert.deepEqual(info.tempurl.allowed_digests, ['sha256', 'sha512']);
    assert.deepEqual(info.tempurl.outgoing_allow_headers, ['x-object-meta-public-*']);
  });

  it('a signed GET works without a token: sha256 and sha512 hex, sha512 base64, either account key', async () => {
    const exp = future();
    for (const [digest, key] of [
      ['sha256', KEY],
      ['sha512', KEY],
      ['sha256', KEY2],
    ] as const) {
      const sig = hmac(digest, key, `GET\n${exp}\n${objPath}`);
      const res = await anon('docs/report.txt', { temp_url_sig: sig, temp_url_expires: String(exp) });
      assert.equal(res.status, 200, `${digest} with ${key}`);
      assert.equal(await res.text(), 'report bytes');
    }
    const b64 = `sha512:${hmac('sha512', KEY, `GET\n${exp}\n${objPath}`, 'base64url')}`;
    const res = await anon('docs/report.txt', { temp_url_sig: b64, temp_url_expires: String(exp) });
    assert.equal(res.status, 200);
  });

  it('refuses sha1 unless configured, then accepts it and says so in /info', async () => {
    const exp = future();
    const sig = hmac('sha1', KEY, `GET\n${exp}\n${objPath}`);
    const refused = await anon('docs/report.txt', { temp_url_sig: sig, temp_url_expires: String(exp) });
    assert.equal(refused.status, 401);
    assert.equal(await refused.text(), '401 Unauthorized: Temp URL invalid\n');

    const legacy = await startFake([swiftService({ tempurl: { allowedDigests: ['sha1', 'sha256', 'sha512'] } })]);
    try {
      const base = `${legacy.baseUrl}/object-store/v1/${account}`;
      await call(base, '', { method: 'POST', token: DEMO.token, headers: { 'x-account-meta-temp-url-key': KEY } });
      await call(base, '/docs', { method: 'PUT', token: DEMO.token });
      await call(base, '/docs/report.txt', { method: 'PUT', token: DEMO.token, body: 'old clients' });
      const ok = await call(base, url('docs/report.txt', { temp_url_sig: sig, temp_url_expires: String(exp) }));
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'old clients');
      const info = (await (await call(`${legacy.baseUrl}/object-store`, '/info')).json()) as {
        tempurl: { allowed_digests: string[] };
      };
      assert.deepEqual(info.tempurl.allowed_digests, ['sha1', 'sha256', 'sha512']);
    } finally {
      await legacy.close();
    }
  });

  it('401 with Swift body for a wrong path, method, key, a missing parameter, and once expired', async () => {
    const exp = future();
    const good = hmac('sha256', KEY, `GET\n${exp}\n${objPath}`);
    const cases: [string, Record<string, string>, RequestInit?][] = [
      ['another object', { temp_url_sig: good, temp_url_expires: String(exp) }],
      ['wrong key', { temp_url_sig: hmac('sha256', 'nope', `GET\n${exp}\n${objPath}`), temp_url_expires: `${exp}` }],
      ['no expires', { temp_url_sig: good }],
      ['no signature', { temp_url_expires: String(exp) }],
      ['DELETE with a GET signature', { temp_url_sig: good, temp_url_expires: String(exp) }, { method: 'DELETE' }],
    ];
    for (const [what, params, init] of cases) {
      const object = what === 'another object' ? 'other/note.txt' : 'docs/report.txt';
      const res = await anon(object, params, init);
      assert.equal(res.status, 401, what);
      assert.equal(await res.text(), '401 Unauthorized: Temp URL invalid\n', what);
    }
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = await anon('docs/report.txt', {
      temp_url_sig: hmac('sha256', KEY, `GET\n${past}\n${objPath}`),
      temp_url_expires: String(past),
    });
    assert.equal(expired.status, 401);
    const head = await anon(
      'docs/report.txt',
      { temp_url_sig: hmac('sha256', KEY, `GET\n${past}\n${objPath}`), temp_url_expires: String(past) },
      { method: 'HEAD' },
    );
    assert.equal(head.status, 401);
    assert.equal((await call(acct, '/docs/report.txt')).status, 401, 'no token, no signature: still 401');
  });

  it('takes ISO 8601 expiry; the HMAC covers it as unix seconds', async () => {
    const secs = future();
    const iso = new Date(secs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ok = await anon('docs/report.txt', {
      temp_url_sig: hmac('sha256', KEY, `GET\n${secs}\n${objPath}`),
      temp_url_expires: iso,
    });
    assert.equal(ok.status, 200);
    const overIso = await anon('docs/report.txt', {
      temp_url_sig: hmac('sha256', KEY, `GET\n${iso}\n${objPath}`),
      temp_url_expires: iso,
    });
    assert.equal(overIso.status, 401);
    assert.equal(parseExpires('2030-01-02T03:04:05Z'), Date.UTC(2030, 0, 2, 3, 4, 5) / 1000);
    assert.equal(parseExpires('2030-01-02 03:04:05'), 0);
  });

  it('container keys open only their own container', async () => {
    const exp = future();
    const notePath = `/v1/${account}/other/note.txt`;
    const ok = await anon('other/note.txt', {
      temp_url_sig: hmac('sha256', CKEY, `GET\n${exp}\n${notePath}`),
      temp_url_expires: String(exp),
    });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'note bytes');
    const elsewhere = await anon('docs/report.txt', {
      temp_url_sig: hmac('sha256', CKEY, `GET\n${exp}\n${objPath}`),
      temp_url_expires: String(exp),
    });
    assert.equal(elsewhere.status, 401, "the container key of 'other' does not open 'docs'");
  });

  it('temp_url_prefix opens every object under the prefix and nothing else', async () => {
    const exp = future();
    const sig = hmac('sha256', KEY, `GET\n${exp}\nprefix:/v1/${account}/docs/rep`);
    const ok = await anon('docs/report.txt', { temp_url_sig: sig, temp_url_expires: `${exp}`, temp_url_prefix: 'rep' });
    assert.equal(ok.status, 200);
    const outside = await anon('other/note.txt', {
      temp_url_sig: sig,
      temp_url_expires: `${exp}`,
      temp_url_prefix: 'rep',
    });
    assert.equal(outside.status, 401);
  });

  it('temp_url_ip_range: signed with an "ip=" line; the client must be inside the range', async () => {
    const exp = future();
    for (const [range, status] of [
      ['127.0.0.1', 200],
      ['127.0.0.0/8', 200],
      ['10.0.0.0/8', 401],
    ] as const) {
      const sig = hmac('sha256', KEY, `ip=${range}\nGET\n${exp}\n${objPath}`);
      const res = await anon('docs/report.txt', {
        temp_url_sig: sig,
        temp_url_expires: `${exp}`,
        temp_url_ip_range: range,
      });
      assert.equal(res.status, status, range);
    }
    const unsigned = hmac('sha256', KEY, `GET\n${exp}\n${objPath}`);
    const res = await anon('docs/report.txt', {
      temp_url_sig: unsigned,
      temp_url_expires: `${exp}`,
      temp_url_ip_range: '127.0.0.1',
    });
    assert.equal(res.status, 401, 'a range the signature does not cover');
    assert.equal(inIpRange('::ffff:127.0.0.1', '127.0.0.0/8'), true);
    assert.equal(inIpRange('::1', '::1/128'), true);
    assert.equal(inIpRange('127.0.0.1', 'not-a-range'), false);
  });

  it('GET answers drop private object metadata and carry Content-Disposition and Expires', async () => {
    const exp = future();
    const sig = hmac('sha256', KEY, `GET\n${exp}\n${objPath}`);
    const plain = await anon('docs/report.txt', { temp_url_sig: sig, temp_url_expires: `${exp}` });
    assert.equal(plain.headers.get('x-object-meta-secret'), null);
    assert.equal(plain.headers.get('x-object-meta-public-colour'), 'blue');
    assert.equal(
      plain.headers.get('content-disposition'),
      `attachment; filename="report.txt"; filename*=UTF-8''report.txt`,
    );
    assert.equal(plain.headers.get('expires'), new Date(exp * 1000).toUTCString());
    const inline = await anon('docs/report.txt', { temp_url_sig: sig, temp_url_expires: `${exp}`, inline: '' });
    assert.equal(inline.headers.get('content-disposition'), 'inline');
    const named = await anon('docs/report.txt', {
      temp_url_sig: sig,
      temp_url_expires: `${exp}`,
      filename: 'Q3 résumé.txt',
    });
    assert.equal(
      named.headers.get('content-disposition'),
      `attachment; filename="Q3 r%C3%A9sum%C3%A9.txt"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.txt`,
    );
    const owner = await call(acct, '/docs/report.txt', { token: DEMO.token });
    assert.equal(owner.headers.get('x-object-meta-secret'), 'hidden', 'the owner still sees it');
  });

  it('a signed PUT uploads without a token; a manifest header is refused; DELETE needs its own signature', async () => {
    const exp = future();
    const path = `/v1/${account}/docs/upload.bin`;
    const put = await anon(
      'docs/upload.bin',
      { temp_url_sig: hmac('sha256', KEY, `PUT\n${exp}\n${path}`), temp_url_expires: `${exp}` },
      { method: 'PUT', body: 'uploaded by a temp URL' },
    );
    assert.equal(put.status, 201);
    const back = await call(acct, '/docs/upload.bin', { token: DEMO.token });
    assert.equal(await back.text(), 'uploaded by a temp URL');
    const manifest = await anon(
      'docs/upload.bin',
      { temp_url_sig: hmac('sha256', KEY, `PUT\n${exp}\n${path}`), temp_url_expires: `${exp}` },
      { method: 'PUT', body: '', headers: { 'x-object-manifest': 'docs/rep' } },
    );
    assert.equal(manifest.status, 400);
    assert.equal(await manifest.text(), "The header 'X-Object-Manifest' is not allowed in this tempurl");
    const del = await anon(
      'docs/upload.bin',
      { temp_url_sig: hmac('sha256', KEY, `DELETE\n${exp}\n${path}`), temp_url_expires: `${exp}` },
      { method: 'DELETE' },
    );
    assert.equal(del.status, 204);
    assert.equal((await call(acct, '/docs/upload.bin', { method: 'HEAD', token: DEMO.token })).status, 404);
  });

  it("also takes the path under devcloud's /object-store prefix", async () => {
    const exp = future();
    const sig = hmac('sha256', KEY, `GET\n${exp}\n/object-store${objPath}`);
    const res = await anon('docs/report.txt', { temp_url_sig: sig, temp_url_expires: `${exp}` });
    assert.equal(res.status, 200);
  });
});

describe('swift temp URLs in a devcloud cloud', () => {
  let cloud: Cloud;
  let base: string;
  let token: string;
  before(async () => {
    cloud = await startTestCloud({ services: [swiftService()] });
    const demo = await issueToken(cloud, 'demo');
    token = demo.token;
    base = `${cloud.baseUrl}/object-store/v1/AUTH_${demo.body.token.project!.id}`;
  });
  after(async () => cloud.close());

  it('a Keystone token sets the key; a 256-character container name routes; the signed URL needs no token', async () => {
    const container = 'c'.repeat(256);
    const h = { 'x-auth-token': token };
    const signal = () => AbortSignal.timeout(5000);
    const key = await fetch(base, {
      method: 'POST',
      headers: { ...h, 'x-account-meta-temp-url-key': KEY },
      signal: signal(),
    });
    assert.equal(key.status, 204);
    assert.equal((await fetch(`${base}/${container}`, { method: 'PUT', headers: h, signal: signal() })).status, 201);
    const tooLong = await fetch(`${base}/${'c'.repeat(257)}`, { method: 'PUT', headers: h, signal: signal() });
    assert.equal(tooLong.status, 400);
    assert.equal(await tooLong.text(), 'Container name length of 257 longer than 256');
    const obj = `${base}/${container}/dir/file.bin`;
    assert.equal((await fetch(obj, { method: 'PUT', headers: h, body: 'in the cloud', signal: signal() })).status, 201);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const path = new URL(obj).pathname.replace(/^\/object-store/, '');
    const sig = hmac('sha256', KEY, `GET\n${exp}\n${path}`);
    const res = await fetch(`${obj}?temp_url_sig=${sig}&temp_url_expires=${exp}`, { signal: signal() });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'in the cloud');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="file.bin"; filename*=UTF-8''file.bin`);
  });
});
