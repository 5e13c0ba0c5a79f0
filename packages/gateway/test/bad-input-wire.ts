/** Wire helpers of the gateway's bad-input test: gRPC frames, HPACK literals, raw HTTP/2 and HTTP/1.1 exchanges. */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import fc from 'fast-check';
import { CASE_DEADLINE_MS, type RawAnswer, sendRawHttp1 } from '../../../test/lib/raw-http1.ts';

/** A stack trace or a source position in an answer. */
export const STACK = /\n\s+at [\w$.<> ]+ \(|node:internal|\.ts:\d+:\d+|\.js:\d+:\d+|Error: .*\n\s+at /;

/** No stack trace and no token in an answer. */
export function assertClean(a: { raw: string }, label: string, tokens: readonly string[]): void {
  assert.doesNotMatch(a.raw, STACK, `stack trace for ${label}`);
  for (const t of tokens) assert.ok(!a.raw.includes(t), `token in the answer to ${label}`);
}

/** One gRPC length-prefixed message: flag, 4-byte length (as declared), payload. */
export function frame(msg: Buffer, flag = 0, declared = msg.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(declared >>> 0, 1);
  return Buffer.concat([head, msg]);
}

/** An HPACK literal header field without indexing, new name (RFC 7541 §6.2.2), for names/values < 127 bytes. */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x00, name.length]),
    Buffer.from(name),
    Buffer.from([value.length]),
    Buffer.from(value),
  ]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** Well-formed protobuf fields with numbers no request message uses (1000 and up), every wire type. */
export const unknownFields: fc.Arbitrary<Buffer> = fc
  .array(
    fc.tuple(
      fc.integer({ min: 1000, max: 2 ** 29 - 1 }),
      fc.oneof(
        fc.nat().map((n) => ({ wt: 0, data: varint(n) })),
        fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => ({ wt: 1, data: Buffer.from(a) })),
        fc
          .uint8Array({ maxLength: 40 })
          .map((a) => ({ wt: 2, data: Buffer.concat([varint(a.length), Buffer.from(a)]) })),
        fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => ({ wt: 5, data: Buffer.from(a) })),
      ),
    ),
    { maxLength: 6 },
  )
  .map((fields) => Buffer.concat(fields.map(([n, f]) => Buffer.concat([varint(n * 8 + f.wt), f.data]))));

export interface H2Answer {
  status: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string;
  /** The stream's RST_STREAM code when the server reset it before answering. */
  reset: number | undefined;
  raw: string;
}

/** One request on a fresh h2c connection; the answer's head, trailers and body as text. */
export function sendH2(url: string, path: string, headers: Record<string, string>, body: Buffer): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', () => undefined);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer within ${CASE_DEADLINE_MS} ms`));
    }, CASE_DEADLINE_MS);
    const req = session.request({ ':method': 'POST', ':path': path, ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      head = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('close', () => {
      clearTimeout(timer);
      session.close();
      const gs = head['grpc-status'] ?? trailers['grpc-status'];
      const gm = String(head['grpc-message'] ?? trailers['grpc-message'] ?? '');
      const status = head[':status'] as number | undefined;
      resolve({
        status,
        grpcStatus: gs === undefined ? undefined : Number(gs),
        grpcMessage: decodeURIComponent(gm),
        reset: status === undefined ? req.rstCode : undefined,
        raw: `${JSON.stringify(head)}\n${JSON.stringify(trailers)}\n${decodeURIComponent(gm)}\n${Buffer.concat(chunks).toString('latin1')}`,
      });
    });
    req.end(body);
  });
}

export type Answer = RawAnswer;

/** Write the bytes to a fresh socket and read until the server closes; null when it closed without answering. */
export const sendH1 = sendRawHttp1;
