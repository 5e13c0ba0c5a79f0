/**
 * The cutBodyAfterBytes fault: the answer announces its whole length, sends only part of the body, then resets
 * the connection — what a client sees when a service provider dies mid-response.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';
import { parseFaultSpec } from '../src/faults.ts';

let dc: Devcloud;
before(async () => {
  dc = await startDevcloud({ clouds: ['c1'], services: [], logLevel: 'silent', cloudsYamlPath: null });
});
after(() => dc.stop());

/** GET over a raw connection: status, announced length, bytes received, and how it ended. */
function get(path: string): Promise<{ status: number; length: number; received: number; ended: 'end' | string }> {
  const url = new URL(dc.cloud('c1').baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, agent: false, timeout: 5000 }, (res) => {
      let received = 0;
      const done = (ended: string) =>
        resolve({ status: res.statusCode ?? 0, length: Number(res.headers['content-length']), received, ended });
      res.on('data', (c: Buffer) => {
        received += c.length;
      });
      res.on('end', () => done('end'));
      res.on('error', (e) => done(e.message));
      res.on('aborted', () => done('aborted'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('cutBodyAfterBytes: the announced length, fewer bytes, then a reset, never a clean end', async () => {
  const whole = await get('/identity/v3');
  assert.equal(whole.ended, 'end');
  assert.ok(whole.length > 50);
  await dc.setFaults('c1', 'identity', { cutBodyAfterBytes: 20 });
  try {
    const cut = await get('/identity/v3');
    assert.equal(cut.status, 200);
    assert.equal(cut.length, whole.length, 'the whole length is announced');
    assert.equal(cut.received, 20);
    assert.notEqual(cut.ended, 'end');
  } finally {
    await dc.clearFaults();
  }
  assert.equal((await get('/identity/v3')).ended, 'end');
});

test('cutBodyAfterBytes is validated like the other fault fields', () => {
  assert.deepEqual(parseFaultSpec({ cutBodyAfterBytes: 0 }), { cutBodyAfterBytes: 0 });
  assert.throws(() => parseFaultSpec({ cutBodyAfterBytes: -1 }), /cutBodyAfterBytes/);
  assert.throws(() => parseFaultSpec({ cutBodyAfterBytes: 1.5 }), /cutBodyAfterBytes/);
});
