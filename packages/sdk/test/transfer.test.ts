/** The transfer module's pure parts: segment sizing from `/info` limits, the `/info` URL, and the part pool. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isOcxError } from '../src/errors/index.ts';
import { infoUrl } from '../src/transfer/info.ts';
import { runParts } from '../src/transfer/pool.ts';
import { chooseSegmentSize, DEFAULT_SEGMENT_SIZE } from '../src/transfer/upload.ts';

const MiB = 1024 * 1024;
const limits = { slo: true, minSegmentSize: MiB, maxManifestSegments: 1000, maxFileSize: 5 * 1024 * MiB };

describe('chooseSegmentSize', () => {
  it('uses the default, or the caller’s size when the cluster allows it', () => {
    assert.equal(chooseSegmentSize(100 * MiB, limits), DEFAULT_SEGMENT_SIZE);
    assert.equal(chooseSegmentSize(100 * MiB, limits, 8 * MiB), 8 * MiB);
  });
  it('grows the segments so that the manifest stays within max_manifest_segments', () => {
    const size = 100 * 1024 * MiB;
    const s = chooseSegmentSize(size, { ...limits, maxManifestSegments: 1000 }, 8 * MiB);
    assert.ok(Math.ceil(size / s) <= 1000);
    assert.equal(s, Math.ceil(size / 1000));
  });
  it('refuses a size below min_segment_size or not a whole positive number', () => {
    for (const bad of [MiB - 1, 0, 1.5]) {
      assert.throws(
        () => chooseSegmentSize(10 * MiB, limits, bad),
        (e: unknown) => isOcxError(e) && e.code === ErrorCode.BAD_REQUEST,
      );
    }
  });
});

describe('infoUrl', () => {
  it('is /info at the root of the Swift endpoint, behind any path prefix', () => {
    assert.equal(infoUrl('http://h:8080/v1/AUTH_abc'), 'http://h:8080/info');
    assert.equal(infoUrl('http://h/object-store/v1/AUTH_abc/'), 'http://h/object-store/info');
    assert.equal(infoUrl('https://h/swift/v1'), 'https://h/swift/info');
  });
});

describe('runParts', () => {
  it('runs every part with at most `threads` at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await runParts(10, 3, undefined, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      done.push(i);
    });
    assert.deepEqual(
      done.sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(peak, 3);
  });
  it('stops at the first failure, aborts the parts in flight and rejects with that failure', async () => {
    const started: number[] = [];
    let abortedSeen = 0;
    const boom = new Error('part 1 failed');
    await assert.rejects(
      runParts(10, 2, undefined, async (i, signal) => {
        started.push(i);
        if (i === 1) throw boom;
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            abortedSeen++;
            resolve();
          });
        });
      }),
      (e: unknown) => e === boom,
    );
    assert.deepEqual(started, [0, 1]);
    assert.equal(abortedSeen, 1);
  });
  it("the caller's abort ends the pool with CANCELLED", async () => {
    const ctl = new AbortController();
    await assert.rejects(
      runParts(5, 1, ctl.signal, async (i) => {
        if (i === 1) ctl.abort();
      }),
      (e: unknown) => isOcxError(e) && e.code === ErrorCode.CANCELLED,
    );
  });
});
