/** FileTee: one read of a file feeding several consumers at the pace of the slowest, dropping the ones that leave. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileTee } from '../src/file-tee.ts';

async function drain(r: Readable, delayMs = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) {
    chunks.push(c as Buffer);
    if (delayMs) await sleep(delayMs);
  }
  return Buffer.concat(chunks);
}

describe('FileTee', () => {
  let dir: string;
  let file: string;
  let data: Buffer;
  let sha: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-tee-'));
    file = join(dir, 'f');
    data = randomBytes(4 * 1024 * 1024 + 5);
    writeFileSync(file, data);
    sha = createHash('sha256').update(data).digest('hex');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every consumer the whole file, starting once all joined, the fast one held back by the slow one', async () => {
    const tee = new FileTee(file, 2, sha);
    const fast = tee.join();
    await sleep(20);
    assert.equal(fast.readableLength, 0, 'nothing is read before every consumer joined');
    const slow = tee.join();
    let fastMax = 0;
    const fastDone = (async () => {
      const chunks: Buffer[] = [];
      for await (const c of fast) {
        chunks.push(c as Buffer);
        fastMax = Math.max(fastMax, fast.readableLength);
      }
      return Buffer.concat(chunks);
    })();
    const [a, b] = await Promise.all([fastDone, drain(slow, 2)]);
    assert.ok(a.equals(data));
    assert.ok(b.equals(data));
    assert.ok(fastMax <= 2 * 1024 * 1024, `the fast consumer never holds much more than its buffer (${fastMax})`);
  });

  it('a consumer that leaves does not stall the others', async () => {
    const tee = new FileTee(file, 2, sha);
    const gone = tee.join();
    const stays = tee.join();
    gone.destroy();
    assert.ok((await drain(stays)).equals(data));
  });

  it('a file that no longer matches its hash fails every consumer instead of ending it', async () => {
    const tee = new FileTee(file, 2, 'f'.repeat(64));
    const results = await Promise.allSettled([drain(tee.join()), drain(tee.join())]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason), /changed while it was uploaded/);
    }
  });
});
