/**
 * Glance's wire conventions for every route: raw image data and JSON-patch bodies, token auth, plain
 * `application/json`, and webob's error pages (HTML, or JSON when the client accepts it) through ApiFault.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { glanceFaultBody } from '../fault-bodies.ts';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from '../framework-errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    glanceToken?: TokenInfo;
  }
}

export const PATCH_TYPES = [
  'application/openstack-images-v2.1-json-patch',
  'application/openstack-images-v2.0-json-patch',
];

/** The request's token (the auth hook guarantees one on every /v2 route). */
export function tok(req: FastifyRequest): TokenInfo {
  const t = req.glanceToken;
  if (!t)
    throw new ApiFault(
      401,
      'This server could not verify that you are authorized to access the document you requested.',
    );
  return t;
}

function sendGlanceError(req: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  const { contentType, body } = glanceFaultBody(
    status,
    message,
    String(req.headers.accept ?? '').includes('application/json'),
  );
  return reply.code(status).type(contentType).send(body);
}

/** Parsers, auth, error handling and content type of the Glance plugin. */
export function installHttp(app: FastifyInstance, ctx: CloudContext): void {
  // Image data arrives as a raw stream; JSON-patch documents are JSON.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.addContentTypeParser(PATCH_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    // as for every JSON body (cloud.ts): no handler walks a 100 000-level document
    if (jsonNestedDeeperThan(String(body), MAX_JSON_DEPTH)) {
      return done(new ApiFault(400, 'Malformed JSON in request body.'), undefined);
    }
    try {
      done(null, JSON.parse(String(body)));
    } catch {
      done(new ApiFault(400, 'Malformed JSON in request body.'), undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiFault) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      if (err.status === 401) reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity/v3"`);
      return sendGlanceError(req, reply, err.status, err.message);
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return sendGlanceError(
        req,
        reply,
        status,
        status === 400 ? 'Malformed JSON in request body.' : String((err as Error).message),
      );
    }
    ctx.log.warn('glance: unexpected error', { error: String(err) });
    return sendGlanceError(
      req,
      reply,
      500,
      'The server has either erred or is incapable of performing the requested operation.',
    );
  });
  app.setNotFoundHandler((req, reply) => sendGlanceError(req, reply, 404, 'The resource could not be found.'));

  app.addHook('onRequest', async (req) => {
    const path = req.url
      .split('?')[0]!
      .replace(/^\/image/, '')
      .replace(/\/+$/, '');
    if (path === '' || path === '/versions') return;
    const header = req.headers['x-auth-token'];
    const info = typeof header === 'string' ? ctx.validateToken(header) : undefined;
    if (!info) {
      throw new ApiFault(
        401,
        'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.',
      );
    }
    req.glanceToken = info;
  });

  // The real service sends plain `application/json` (no charset parameter).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8')
      reply.header('content-type', 'application/json');
    return payload;
  });
}
