/**
 * Swift's wire conventions for every route: streaming bodies (nothing parsed), the COPY method, transaction ids,
 * token auth (`X-Auth-Token` / `X-Storage-Token`; anonymous requests go on to ACLs and temp URLs), and swob's
 * error pages through the one ApiFault type.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { swiftFaultBody, swiftFaultPage } from '../fault-bodies.ts';
import { BlobTooLargeError } from '../storage/blob-store.ts';
import type { TempUrlGrant } from './tempurl.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's valid token, if it sent one. */
    swiftToken?: TokenInfo;
    /** Set when a valid temp URL signature authorizes this object request. */
    swiftTempUrl?: TempUrlGrant;
  }
}

function transId(): string {
  return `tx${randomBytes(11).toString('hex').slice(0, 21)}-${Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(10, '0')}`;
}

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function truthy(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase());
}

/** Parsers, hooks and error handling of the Swift plugin. */
export function installHttp(app: FastifyInstance, ctx: CloudContext): void {
  // Object bodies are streams of any type: nothing is parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  if (!app.supportedMethods.includes('COPY')) app.addHttpMethod('COPY', { hasBody: true });

  app.addHook('onRequest', async (req, reply) => {
    const tx = transId();
    reply.header('x-trans-id', tx).header('x-openstack-request-id', tx);
    const t = header(req, 'x-auth-token') ?? header(req, 'x-storage-token');
    if (t) {
      const info = ctx.validateToken(t);
      if (!info) throw new ApiFault(401);
      req.swiftToken = info;
    }
  });

  app.setErrorHandler((err, req, reply) => {
    let status = 500;
    let text: string | undefined;
    if (err instanceof ApiFault) {
      status = err.status;
      text = swiftFaultBody(err);
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    } else if (err instanceof BlobTooLargeError) {
      status = 413;
    } else if (
      (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' ||
      (err as { code?: string }).code === 'ECONNRESET'
    ) {
      status = 499;
    } else if (
      typeof (err as { statusCode?: number }).statusCode === 'number' &&
      (err as { statusCode: number }).statusCode < 500
    ) {
      status = (err as { statusCode: number }).statusCode;
    } else {
      ctx.log.warn('swift: unexpected error', { error: String(err) });
    }
    if (status === 401) reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity/v3"`);
    if (status === 499) return reply.code(400).send();
    text ??= swiftFaultPage(status);
    reply.code(status).type('text/html; charset=UTF-8');
    if (req.method === 'HEAD') return reply.header('content-length', Buffer.byteLength(text)).send();
    return reply.send(text);
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/html; charset=UTF-8').send(swiftFaultPage(404)));
}

/** A small request body (an SLO manifest), refused with 413 past `max` bytes. */
export async function readSmallBody(req: FastifyRequest, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.raw) {
    n += (chunk as Buffer).length;
    if (n > max) throw new ApiFault(413, `Manifest File > ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
