/**
 * The gRPC half of the gateway's bad-input fuzz (bad-input.property.test.ts): request cases for gRPC over h2c and
 * the codes each may rightly end with — the union of what each of its problems is answered with.
 */
import assert from 'node:assert/strict';
import type { DescService } from '@bufbuild/protobuf';
import { Health } from '@ocx/sdk/gen/grpc/health/v1/health_pb';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { QuotaService } from '@ocx/sdk/gen/ocx/cloud/v1/quota_service_pb';
import fc from 'fast-check';
import { assertClean, frame, type H2Answer, unknownFields } from './bad-input-wire.ts';

/** The gateway's limit on one message (DEFAULT_READ_MAX_BYTES). */
export const MAX = 4 * 1024 * 1024;

export const READS = [
  'ocx.cloud.v1.CloudService/ListFlavors',
  'ocx.cloud.v1.CloudService/ListServers',
  'ocx.cloud.v1.CloudService/ListImages',
  'ocx.cloud.v1.CloudService/ListKeypairs',
  'ocx.cloud.v1.CloudService/GetServer',
  'ocx.cloud.v1.CloudService/GetLimits',
  'ocx.cloud.v1.CloudService/ListNetworks',
  'ocx.cloud.v1.QuotaService/ListProjects',
  'grpc.health.v1.Health/Check',
];
export const UNKNOWN_PATHS = ['ocx.cloud.v1.CloudService/Nope', 'ocx.nope.v1.X/ListFlavors', '', '..%2f..', 'a/b/c'];
export const isProtected = (p: string) => p.startsWith('ocx.cloud.v1.');
const SERVICES: DescService[] = [CloudService, QuotaService, Health];
/** Whether the method's request has a `filter` field (the JSON cases put their hostile values there). */
export function hasFilter(path: string): boolean {
  const [svc, name] = path.split('/');
  const m = SERVICES.find((s) => s.typeName === svc)?.methods.find((x) => x.name === name);
  return !!m?.input.fields.some((f) => f.jsonName === 'filter');
}

/** The gRPC codes a method can answer a decodable request with (its own outcomes). */
export function handlerCodes(path: string): number[] {
  if (path.endsWith('/GetServer')) return [0, 3, 5];
  return [0];
}

export type BodyKind =
  | 'unknown-fields'
  | 'wrong-wire-type'
  | 'random'
  | 'truncated'
  | 'oversized-claim'
  | 'oversized'
  | 'compressed-flag'
  | 'bad-gzip'
  | 'unknown-encoding'
  | 'no-message'
  | 'two-messages'
  | 'unframed';

export interface GrpcCase {
  path: string;
  ct: string | undefined;
  timeout: string | undefined;
  auth: 'good' | 'none' | 'forged' | 'huge' | 'binary' | 'basic';
  extra: 'none' | 'huge' | 'many' | 'accept-zzz';
  kind: BodyKind;
  body: Buffer;
  encoding: string | undefined;
}

const bodyArb: fc.Arbitrary<{ kind: BodyKind; body: Buffer; encoding?: string }> = fc.oneof(
  { weight: 4, arbitrary: unknownFields.map((b) => ({ kind: 'unknown-fields' as const, body: frame(b) })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom(0, 1, 5), fc.uint8Array({ maxLength: 12 }))
      .map(([field, wt, rest]) => ({
        kind: 'wrong-wire-type' as const,
        // Known low-numbered fields (messages or strings, wire type 2) sent as varint, fixed64 or fixed32.
        body: frame(Buffer.concat([Buffer.from([(field << 3) | wt]), Buffer.from(rest)])),
      })),
  },
  {
    weight: 2,
    arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => ({ kind: 'random' as const, body: frame(Buffer.from(a)) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(unknownFields, fc.integer({ min: 1, max: 1000 }))
      .map(([b, more]) => ({ kind: 'truncated' as const, body: frame(b, 0, b.length + more) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX + 1, max: 0xffffffff })
      .map((n) => ({ kind: 'oversized-claim' as const, body: frame(Buffer.alloc(16), 0, n) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 64 * 1024 })
      .map((n) => ({ kind: 'oversized' as const, body: frame(Buffer.alloc(MAX + n, 0x41)) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(unknownFields, fc.integer({ min: 1, max: 255 }))
      .map(([b, flag]) => ({ kind: 'compressed-flag' as const, body: frame(b, flag) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 100 })
      .map((a) => ({ kind: 'bad-gzip' as const, body: frame(Buffer.from(a), 1), encoding: 'gzip' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('snappy', 'zstd', 'lz4', 'x')
      .map((e) => ({ kind: 'unknown-encoding' as const, body: frame(Buffer.from([1, 2, 3]), 1), encoding: e })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'no-message' as const, body: Buffer.alloc(0) }) },
  {
    weight: 1,
    arbitrary: unknownFields.map((b) => ({ kind: 'two-messages' as const, body: Buffer.concat([frame(b), frame(b)]) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 4 })
      .map((a) => ({ kind: 'unframed' as const, body: Buffer.from(a) })),
  },
);

export const grpcCase: fc.Arbitrary<GrpcCase> = fc
  .record({
    path: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...READS) },
      { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_PATHS) },
    ),
    ct: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('application/grpc', 'application/grpc+proto') },
      {
        weight: 2,
        arbitrary: fc.constantFrom<string | undefined>(
          'application/grpc+json',
          'text/plain',
          'application/xml',
          undefined,
        ),
      },
    ),
    timeout: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom<string | undefined>(undefined, '20S', '15000m') },
      { weight: 1, arbitrary: fc.constantFrom('abc', '999999999H', '-5S', '', '1.5S', '10X') },
      { weight: 1, arbitrary: fc.constantFrom('1n', '1u') },
    ),
    auth: fc.oneof(
      { weight: 5, arbitrary: fc.constant('good' as const) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          'none' as const,
          'forged' as const,
          'huge' as const,
          'binary' as const,
          'basic' as const,
        ),
      },
    ),
    extra: fc.oneof(
      { weight: 8, arbitrary: fc.constant('none' as const) },
      { weight: 1, arbitrary: fc.constantFrom('huge' as const, 'many' as const, 'accept-zzz' as const) },
    ),
    b: bodyArb,
  })
  .map(({ b, ...r }) => ({ ...r, kind: b.kind, body: b.body, encoding: b.encoding }));

export function grpcHeaders(k: GrpcCase, token: string): Record<string, string> {
  const h: Record<string, string> = { te: 'trailers' };
  if (k.ct !== undefined) h['content-type'] = k.ct;
  if (k.timeout !== undefined) h['grpc-timeout'] = k.timeout;
  if (k.encoding) h['grpc-encoding'] = k.encoding;
  const authValue = {
    good: `Bearer ${token}`,
    none: undefined,
    forged: 'Bearer gAAAAABforgedforgedforged',
    huge: `Bearer ${'x'.repeat(20_000)}`,
    binary: 'Bearer \u00ff\u00fe\u0001abc',
    basic: 'Basic ZGVtbzpkZW1v',
  }[k.auth];
  if (authValue !== undefined) h.authorization = authValue;
  if (k.extra === 'huge') h['x-big'] = 'b'.repeat(70_000);
  if (k.extra === 'many') for (let i = 0; i < 200; i++) h[`x-h${i}`] = 'v';
  if (k.extra === 'accept-zzz') h['grpc-accept-encoding'] = 'zzz, identity';
  return h;
}

/** Every gRPC code this case can rightly end with: the union of what each of its problems is answered with. */
export function expectedCodes(k: GrpcCase): Set<number> {
  const codes = new Set<number>();
  if (k.encoding && k.kind === 'unknown-encoding') codes.add(12);
  if (k.timeout !== undefined && !/^\d{1,8}[HMSmun]$/.test(k.timeout)) codes.add(3);
  if (k.timeout === '1n' || k.timeout === '1u') codes.add(4);
  const binaryBody = k.ct !== 'application/grpc+json';
  switch (k.kind) {
    case 'wrong-wire-type':
    case 'random':
      codes.add(binaryBody ? 13 : 3);
      break;
    case 'truncated':
    case 'unframed':
      // A message cut short; when not one byte of it came, connect-es counts no message at all (UNIMPLEMENTED).
      codes.add(3).add(12);
      break;
    case 'oversized-claim':
    case 'oversized':
      codes.add(8);
      break;
    case 'compressed-flag':
      // connect-es reads bit 0 only: an even flag (undefined bits set) is taken as uncompressed (grpc-go refuses
      // any flag but 0 and 1 with INTERNAL).
      if ((k.body[0] ?? 0) & 1) codes.add(13);
      break;
    case 'bad-gzip':
      // connect-es: INVALID_ARGUMENT, or INTERNAL when zlib itself fails (grpc-go: INTERNAL for both).
      codes.add(3).add(13);
      break;
    case 'no-message':
    case 'two-messages':
      codes.add(12);
      break;
  }
  // application/grpc+json: a binary payload is not JSON (INVALID_ARGUMENT), whatever else is wrong with it.
  if (!binaryBody) codes.add(3);
  // A message that decodes (random bytes sometimes do) reaches auth and the method.
  const evenFlag = k.kind === 'compressed-flag' && ((k.body[0] ?? 0) & 1) === 0;
  if (k.kind === 'unknown-fields' || k.kind === 'random' || k.kind === 'wrong-wire-type' || evenFlag) {
    if (isProtected(k.path) && k.auth !== 'good') codes.add(16);
    else for (const c of handlerCodes(k.path)) codes.add(c);
    // Random bytes may decode into any filter: the method's own refusals.
    if (k.kind === 'random' || k.kind === 'wrong-wire-type') for (const c of [3, 5, 7, 9]) codes.add(c);
  }
  return codes;
}

export function checkGrpc(k: GrpcCase, a: H2Answer, tokens: readonly string[]): string {
  const label = `${k.path} ct=${k.ct} timeout=${k.timeout} auth=${k.auth} extra=${k.extra} ${k.kind} (${k.body.length} bytes)`;
  assertClean(a, label, tokens);
  if (a.reset !== undefined) {
    // nghttp2 refuses a header block over its limits with a stream reset: the one answer HTTP/2 has for it.
    assert.ok(k.extra === 'huge' || k.extra === 'many', `stream reset ${a.reset} for ${label}`);
    return `reset ${a.reset}`;
  }
  if (!READS.includes(k.path)) {
    assert.equal(a.status, 404, label);
    return '404';
  }
  if (k.ct === undefined || !k.ct.startsWith('application/grpc')) {
    assert.equal(a.status, 415, label);
    return '415';
  }
  assert.equal(a.status, 200, `HTTP ${a.status} for ${label}`);
  assert.ok(a.grpcStatus !== undefined, `no grpc-status for ${label}`);
  const want = expectedCodes(k);
  if (a.grpcStatus === 13 && k.ct === 'application/grpc+json' && /could not encode its answer/.test(a.grpcMessage)) {
    // connect-es could not put the JSON error's message (half a surrogate pair) in a trailer: the gateway's adapter
    // answers INTERNAL instead of leaving the call hanging (adapter.ts).
    return 'grpc 13 (unencodable error)';
  }
  assert.ok(
    want.has(a.grpcStatus),
    `grpc-status ${a.grpcStatus} (${a.grpcMessage}) for ${label}; expected one of ${[...want]}`,
  );
  if (a.grpcStatus === 13) assert.match(a.grpcMessage, /^parse binary|compressed envelope|decompression/, label);
  return `grpc ${a.grpcStatus}`;
}
