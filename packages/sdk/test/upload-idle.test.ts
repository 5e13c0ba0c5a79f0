/**
 * Streamed uploads and the SDK's deadline: the default budget (the cloud's api_timeout, here 0.5 s) is an idle
 * budget for a streamed request body — an upload that keeps sending runs past it, one that stalls (or whose answer
 * does not come) ends with TIMEOUT — while a budget the caller names bounds the whole call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../src/errors/codes.ts';
import { OcxError } from '../src/errors/ocx-error.ts';
import { ImageClient } from '../src/services/image.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';
import { type FakeCloud, startFakeCloud } from './cloud-fake.ts';

const IDLE_MS = 500;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** `count` chunks of 1 KiB, `gapMs` apart: a slow but steady upload. */
async function* steady(count: number, gapMs: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(gapMs);
    yield new Uint8Array(1024).fill(i);
  }
}

let fake: FakeCloud;
let session: Session;
let image: ImageClient;
const stop = new AbortController();

before(async () => {
  fake = await startFakeCloud();
  let answerAfterMs = 0;
  fake.route('PUT', '/image/v2/images/img-slow/file', () => ({ status: 204, delayMs: answerAfterMs }));
  fake.route('PUT', '/image/v2/images/img-mute/file', () => {
    answerAfterMs = 5_000;
    return { status: 204, delayMs: answerAfterMs };
  });
  session = createSession({ ...fake.config(), apiTimeout: IDLE_MS / 1000 }, { transportOptions: { retry: false } });
  image = new ImageClient(session.client('image'));
  await image.http.endpoint(); // token and discovery before the clock matters
});
after(async () => {
  stop.abort();
  await session?.close();
  await fake?.close();
});

const received = (path: string) => fake.requests.filter((r) => r.method === 'PUT' && r.path === path);

describe('streamed uploads: an idle deadline, not a whole-call one', () => {
  test('an upload that keeps sending runs past the default budget and arrives whole', async () => {
    const started = Date.now();
    await image.uploadImageData('img-slow', steady(8, 200));
    const took = Date.now() - started;
    assert.ok(took > 2 * IDLE_MS, `the upload took ${took} ms, more than the ${IDLE_MS} ms budget`);
    const [req] = received('/image/v2/images/img-slow/file');
    assert.equal(req?.body.byteLength, 8 * 1024);
    assert.deepEqual([...new Set(req?.body)], [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('an upload that stalls ends with TIMEOUT about the idle budget after its last byte', async () => {
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield* steady(3, 100);
      await sleep(60_000, stop.signal); // never sends the rest
    }
    const started = Date.now();
    const err = await image.uploadImageData('img-stall', stalls()).then(
      () => assert.fail('a stalled upload succeeded'),
      (e: unknown) => e,
    );
    const took = Date.now() - started;
    assert.ok(err instanceof OcxError, String(err));
    assert.equal(err.code, ErrorCode.TIMEOUT);
    assert.ok(took >= 200 + IDLE_MS - 50 && took < 200 + IDLE_MS + 2_000, `ended after ${took} ms`);
  });

  test('an answer that does not come after the last byte ends with TIMEOUT', async () => {
    const started = Date.now();
    const err = await image.uploadImageData('img-mute', steady(2, 100)).then(
      () => assert.fail('got an answer the server never sent'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OcxError, String(err));
    assert.equal(err.code, ErrorCode.TIMEOUT);
    assert.ok(Date.now() - started < 3_000, 'well before the server would have answered (5 s)');
  });

  test("the caller's own budget bounds the whole upload", async () => {
    const err = await image.uploadImageData('img-slow', steady(8, 200), { timeoutMs: IDLE_MS }).then(
      () => assert.fail('the upload outlived the budget the caller gave it'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OcxError, String(err));
    assert.equal(err.code, ErrorCode.TIMEOUT);
  });
});
