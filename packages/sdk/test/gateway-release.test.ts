/**
 * releaseStreamedMessages (src/gateway-backend/release.ts): a streaming response's messages are freed once the
 * caller has moved past them, while the call is still open. A connect-node server in this process streams
 * DownloadImage chunks and holds the call open; the client keeps only WeakRefs to the chunks it received, forces
 * full collections, and counts the chunks still alive.
 *
 * The second case pins the reason for the interceptor: without it, connect-es keeps every message of the call
 * reachable until the call ends (connectrpc/connect-es issue 1524). When that case fails, connect-es has fixed the
 * retention and the interceptor can go.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type ConnectRouter, createClient, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import { releaseStreamedMessages } from '../src/gateway-backend/release.ts';
import { TransferService } from '../src/gen/ocx/cloud/v1/transfer_service_pb.ts';

const CHUNKS = 16;
const CHUNK = 256 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections with a turn of the event loop after each (WeakRefs read in a job keep their target for it). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('releaseStreamedMessages: streamed messages are freed while the call is open', () => {
  let server: http2.Http2Server;
  let url = '';
  /** Ends the call the server is holding open (one per call). */
  const finishers: (() => void)[] = [];

  before(async () => {
    const handler = connectNodeAdapter({
      routes(router: ConnectRouter) {
        router.service(TransferService, {
          async *downloadImage() {
            for (let i = 0; i < CHUNKS; i++) {
              yield { part: { case: 'chunk', value: new Uint8Array(CHUNK).fill(i) } };
            }
            await new Promise<void>((resolve) => finishers.push(resolve));
            yield { part: { case: 'sha256', value: 'done' } };
          },
        });
      },
    });
    server = http2.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const finish of finishers) finish();
    await new Promise((resolve) => server.close(resolve));
  });

  /**
   * Streams CHUNKS chunks with the given client interceptors; after the last chunk, with the call still open, how
   * many of the chunks received are still reachable. Then ends the call and checks the whole stream arrived.
   */
  async function aliveWhileOpen(interceptors: Interceptor[]): Promise<number> {
    const client = createClient(TransferService, createGrpcTransport({ baseUrl: url, interceptors }));
    const refs: WeakRef<Uint8Array>[] = [];
    let alive = -1;
    let tail = '';
    for await (const m of client.downloadImage({})) {
      if (m.part.case === 'chunk') {
        assert.equal(m.part.value.byteLength, CHUNK);
        assert.equal(m.part.value[0], refs.length, 'chunks arrive in order, intact');
        refs.push(new WeakRef(m.part.value));
        if (refs.length === CHUNKS) {
          // Count from a function of its own, so that no local of this loop holds a chunk.
          const ended = countAlive(refs).then((n) => {
            alive = n;
            finishers.shift()?.();
          });
          void ended;
        }
      } else if (m.part.case === 'sha256') {
        tail = m.part.value;
      }
    }
    assert.equal(tail, 'done', 'the stream ran to its end');
    assert.equal(refs.length, CHUNKS);
    return alive;
  }

  async function countAlive(refs: WeakRef<Uint8Array>[]): Promise<number> {
    await collect();
    return refs.filter((r) => r.deref() !== undefined).length;
  }

  it('with the interceptor, at most the chunk in hand is still reachable', async () => {
    const alive = await aliveWhileOpen([releaseStreamedMessages]);
    assert.ok(alive >= 0 && alive <= 2, `${alive} of ${CHUNKS} chunks still reachable while the call is open`);
  });

  it('without it, connect-es keeps every chunk until the call ends (why the interceptor exists)', async () => {
    const alive = await aliveWhileOpen([]);
    assert.ok(alive >= CHUNKS - 2, `${alive} of ${CHUNKS} chunks reachable: connect-es no longer retains them?`);
  });

  it('the messages a caller keeps stay whole', async () => {
    const client = createClient(
      TransferService,
      createGrpcTransport({ baseUrl: url, interceptors: [releaseStreamedMessages] }),
    );
    const kept: Uint8Array[] = [];
    const done = (async () => {
      for await (const m of client.downloadImage({})) {
        if (m.part.case === 'chunk') {
          kept.push(m.part.value);
          if (kept.length === CHUNKS) finishers.shift()?.();
        }
      }
    })();
    await done;
    assert.equal(kept.length, CHUNKS);
    kept.forEach((chunk, i) => {
      assert.equal(chunk.byteLength, CHUNK);
      assert.ok(
        chunk.every((b) => b === i),
        `chunk ${i} kept intact`,
      );
    });
  });
});
