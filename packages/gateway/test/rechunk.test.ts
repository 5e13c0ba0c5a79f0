/** rechunk: a byte stream cut as the socket read it becomes messages of exactly `size` bytes, the last one shorter. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { rechunk } from '../src/services/rechunk.ts';

async function cut(data: Buffer, pieces: number[], size: number): Promise<Uint8Array[]> {
  async function* source() {
    let off = 0;
    for (const n of pieces) {
      yield data.subarray(off, off + n);
      off += n;
    }
  }
  const out: Uint8Array[] = [];
  for await (const m of rechunk(source(), size)) out.push(m);
  return out;
}

describe('rechunk', () => {
  it('joins small reads into full messages and keeps every byte in order', async () => {
    const data = randomBytes(10_000);
    const out = await cut(data, [1, 999, 3000, 17, 4983, 1000], 4096);
    assert.deepEqual(
      out.map((m) => m.byteLength),
      [4096, 4096, 1808],
    );
    assert.ok(Buffer.concat(out).equals(data));
  });

  it('splits reads larger than a message, passing whole aligned messages on without a copy', async () => {
    const data = randomBytes(3 * 4096 + 5);
    const out = await cut(data, [3 * 4096 + 5], 4096);
    assert.deepEqual(
      out.map((m) => m.byteLength),
      [4096, 4096, 4096, 5],
    );
    assert.equal(out[0]!.buffer, data.buffer, 'a whole message taken from the read as it is');
    assert.ok(Buffer.concat(out).equals(data));
  });

  it('an empty stream gives no message', async () => {
    assert.deepEqual(await cut(Buffer.alloc(0), [], 4096), []);
  });
});
