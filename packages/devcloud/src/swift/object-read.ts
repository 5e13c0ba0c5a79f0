/**
 * Swift object reads (`GET`/`HEAD /v1/AUTH_<project>/<container>/<object>`): stored headers and metadata,
 * conditional requests, single and multiple byte ranges, large objects (SLO/DLO) streamed from their segments,
 * and `?multipart-manifest=get`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { parseRange } from '../storage/range.ts';
import { authorizedObject } from './acl.ts';
import { type Piece, type ResolvedBody, resolveBody, slicePieces, streamParts, sumPieces } from './data.ts';
import { metaHeaders } from './headers.ts';
import { header } from './http.ts';
import { httpDate, type ObjectRow, xTimestamp } from './model.ts';
import type { SwiftStore } from './store.ts';
import type { TempUrlCheck } from './tempurl.ts';

export type ObjectRequest = FastifyRequest<{ Params: { account: string; container: string; '*': string } }>;
export const OBJECT_URL = '/v1/:account/:container/*';

export function objectReadRoutes(app: FastifyInstance, s: SwiftStore, tempUrl: TempUrlCheck): void {
  function setObjectHeaders(reply: FastifyReply, o: ObjectRow, body: ResolvedBody): void {
    reply
      .header('content-type', o.contentType)
      .header('etag', body.etag)
      .header('last-modified', httpDate(o.timestamp))
      .header('x-timestamp', xTimestamp(o.timestamp))
      .header('accept-ranges', 'bytes');
    for (const [k, v] of Object.entries(o.headers)) reply.header(k, v);
    if (o.slo) reply.header('x-static-large-object', 'True');
    if (o.deleteAt !== null) reply.header('x-delete-at', String(o.deleteAt));
    metaHeaders(reply, 'Object', o.meta);
  }

  function conditional(req: FastifyRequest, etag: string, ts: number): 304 | 412 | undefined {
    const bare = etag.replaceAll('"', '');
    const matches = (h: string) =>
      h
        .split(',')
        .map((v) => v.trim().replace(/^W\//, '').replaceAll('"', ''))
        .some((v) => v === '*' || v === bare);
    const ifMatch = header(req, 'if-match');
    if (ifMatch !== undefined && !matches(ifMatch)) return 412;
    const ifNone = header(req, 'if-none-match');
    if (ifNone !== undefined && matches(ifNone)) return 304;
    const lastSec = Math.ceil(ts);
    const ims = header(req, 'if-modified-since');
    if (ifNone === undefined && ims !== undefined) {
      const t = Date.parse(ims);
      if (!Number.isNaN(t) && lastSec * 1000 <= t) return 304;
    }
    const ius = header(req, 'if-unmodified-since');
    if (ifMatch === undefined && ius !== undefined) {
      const t = Date.parse(ius);
      if (!Number.isNaN(t) && lastSec * 1000 > t) return 412;
    }
    return undefined;
  }

  async function getObject(req: ObjectRequest, reply: FastifyReply) {
    const { account: acct, container: cname, '*': name } = req.params;
    const o = authorizedObject(s, req, acct, cname, name, 'read');
    const q = req.query as Record<string, string | undefined>;
    if (o.slo && q['multipart-manifest'] === 'get') {
      const manifest =
        q.format === 'raw'
          ? o.slo.map((seg) => ({
              path: seg.name,
              etag: seg.hash,
              size_bytes: seg.bytes,
              ...(seg.range ? { range: seg.range } : {}),
            }))
          : o.slo;
      const text = JSON.stringify(manifest);
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('etag', createHash('md5').update(text).digest('hex'))
        .header('last-modified', httpDate(o.timestamp))
        .header('x-timestamp', xTimestamp(o.timestamp))
        .header('x-static-large-object', 'True')
        .header('content-length', Buffer.byteLength(text));
      metaHeaders(reply, 'Object', o.meta);
      return req.method === 'HEAD' ? reply.code(200).send() : reply.code(200).send(text);
    }
    // a DLO with multipart-manifest=get answers the manifest object itself, as Swift's dlo middleware does
    // (resolveBody expands X-Object-Manifest only at depth 0)
    const dloManifest = o.headers['x-object-manifest'] !== undefined && q['multipart-manifest'] === 'get';
    const body = resolveBody(s.objects, o, dloManifest ? 1 : 0);
    for (const piece of body.pieces) {
      if (!(await s.blobs.exists(piece.key))) throw new ApiFault(404);
    }
    setObjectHeaders(reply, o, body);
    const cond = conditional(req, body.etag, o.timestamp);
    if (cond === 304) return reply.code(304).send();
    if (cond === 412) throw new ApiFault(412);
    const ranges = parseRange(header(req, 'range'), body.size);
    if (ranges === 'unsatisfiable') {
      throw new ApiFault(416, '', { headers: { 'content-range': `bytes */${body.size}` } });
    }
    if (!ranges) {
      reply.header('content-length', body.size).code(200);
      if (req.method === 'HEAD' || body.size === 0) return reply.send();
      return reply.send(streamParts(s.blobs, body.pieces));
    }
    if (ranges.length === 1) {
      const r = ranges[0]!;
      reply
        .code(206)
        .header('content-range', `bytes ${r.start}-${r.end}/${body.size}`)
        .header('content-length', r.end - r.start + 1);
      if (req.method === 'HEAD') return reply.send();
      return reply.send(streamParts(s.blobs, slicePieces(body.pieces, r.start, r.end)));
    }
    const boundary = randomBytes(16).toString('hex');
    const parts: (Piece | Buffer)[] = [];
    for (const r of ranges) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Type: ${o.contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${body.size}\r\n\r\n`,
        ),
      );
      parts.push(...slicePieces(body.pieces, r.start, r.end));
      parts.push(Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--`));
    const length = parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : sumPieces([p])), 0);
    reply
      .code(206)
      .header('content-type', `multipart/byteranges;boundary=${boundary}`)
      .header('content-length', length);
    if (req.method === 'HEAD') return reply.send();
    return reply.send(streamParts(s.blobs, parts));
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: OBJECT_URL,
    exposeHeadRoute: false,
    preHandler: tempUrl,
    handler: getObject,
  });
}
