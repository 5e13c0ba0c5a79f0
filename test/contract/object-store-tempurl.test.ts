// Contract: Swift temporary URLs (tempurl middleware) on devcloud and real Swift: a URL signed with the container's
// Temp-URL-Key (HMAC over "METHOD\nEXPIRES\nPATH") works without a token for the signed method and path only, until
// it expires; sha256 and sha512, hex or "<digest>:<base64>", and prefix-wide signatures.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Swift, swiftFor } from './swift.ts';
import { startTarget, type Target } from './target.ts';

describe('object store temporary URLs', () => {
  let t: Target;
  let sw: Swift;
  let c: string;
  let basePath: string;
  const key = randomBytes(16).toString('hex');
  const body = 'temp url body';

  before(async () => {
    t = await startTarget();
    sw = await swiftFor(t);
    c = await sw.container('tempurl', { 'x-container-meta-temp-url-key': key });
    basePath = `${new URL(sw.account).pathname}/${c}`;
    const put = await sw.call('PUT', `/${c}/file.txt`, {
      body: Buffer.from(body),
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(put.status, 201);
    await sw.call('PUT', `/${c}/pre/one`, { body: Buffer.from('one') });
  });
  after(async () => {
    await sw?.cleanup();
    await t?.stop();
  });

  const sign = (method: string, subject: string, expires: number, digest = 'sha256') =>
    createHmac(digest, key).update(`${method}\n${expires}\n${subject}`).digest();
  const soon = () => Math.floor(Date.now() / 1000) + 600;
  const anon = (method: string, name: string, query: Record<string, string>, data?: Buffer) =>
    sw.call(method, `/${c}/${name}`, { anonymous: true, query, ...(data ? { body: data } : {}) });

  it('a sha256 hex signature lets GET and HEAD through without a token, as a download', async () => {
    const exp = soon();
    const q = { temp_url_sig: sign('GET', `${basePath}/file.txt`, exp).toString('hex'), temp_url_expires: `${exp}` };
    const get = await anon('GET', 'file.txt', q);
    assert.equal(get.status, 200);
    assert.equal(get.text, body);
    assert.equal(get.headers.get('content-type'), 'text/plain');
    assert.equal(get.headers.get('content-disposition'), `attachment; filename="file.txt"; filename*=UTF-8''file.txt`);
    const head = await anon('HEAD', 'file.txt', q);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(body.length));
  });

  it('"sha256:<base64>" and sha512 signatures work too', async () => {
    const exp = soon();
    const b64 = `sha256:${sign('GET', `${basePath}/file.txt`, exp).toString('base64')}`;
    const r1 = await anon('GET', 'file.txt', { temp_url_sig: b64, temp_url_expires: `${exp}` });
    assert.equal(r1.status, 200);
    assert.equal(r1.text, body);
    const hex512 = sign('GET', `${basePath}/file.txt`, exp, 'sha512').toString('hex');
    const r2 = await anon('GET', 'file.txt', { temp_url_sig: hex512, temp_url_expires: `${exp}` });
    assert.equal(r2.status, 200);
  });

  it('a wrong, expired, other-object or other-method signature is 401, and so is no signature', async () => {
    const exp = soon();
    const good = sign('GET', `${basePath}/file.txt`, exp).toString('hex');
    const wrong = await anon('GET', 'file.txt', { temp_url_sig: `${good.slice(0, -2)}00`, temp_url_expires: `${exp}` });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Temp URL invalid/);
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await anon('GET', 'file.txt', {
      temp_url_sig: sign('GET', `${basePath}/file.txt`, past).toString('hex'),
      temp_url_expires: `${past}`,
    });
    assert.equal(expired.status, 401);
    const other = await anon('GET', 'pre/one', { temp_url_sig: good, temp_url_expires: `${exp}` });
    assert.equal(other.status, 401);
    const del = await anon('DELETE', 'file.txt', { temp_url_sig: good, temp_url_expires: `${exp}` });
    assert.equal(del.status, 401);
    assert.equal((await sw.call('HEAD', `/${c}/file.txt`)).status, 200);
    assert.equal((await anon('GET', 'file.txt', {})).status, 401);
  });

  it('a PUT signature uploads without a token', async () => {
    const exp = soon();
    const sig = sign('PUT', `${basePath}/uploaded`, exp).toString('hex');
    const put = await anon('PUT', 'uploaded', { temp_url_sig: sig, temp_url_expires: `${exp}` }, Buffer.from('up'));
    assert.equal(put.status, 201);
    const get = await sw.call('GET', `/${c}/uploaded`);
    assert.equal(get.status, 200);
    assert.equal(get.text, 'up');
  });

  it('temp_url_prefix: one signature for every object under a prefix, and none outside it', async () => {
    const exp = soon();
    const q = {
      temp_url_sig: sign('GET', `prefix:${basePath}/pre/`, exp).toString('hex'),
      temp_url_expires: `${exp}`,
      temp_url_prefix: 'pre/',
    };
    const inside = await anon('GET', 'pre/one', q);
    assert.equal(inside.status, 200);
    assert.equal(inside.text, 'one');
    assert.equal((await anon('GET', 'file.txt', q)).status, 401);
  });
});
