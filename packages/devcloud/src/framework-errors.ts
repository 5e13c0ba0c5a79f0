/**
 * Answers for requests the router refuses before any service sees them, in the shape of the service the path
 * belongs to (OpenStack never answers with fastify's own `{"statusCode": ..., "code": "FST_..."}`):
 *
 * - a path whose percent-escapes are not UTF-8 (`/image/v2/images/%c0%af`): OpenStack's WSGI stack decodes it
 *   with replacement characters and finds no such resource, so: 404.
 *
 * And a bound for JSON request bodies: nesting deeper than MAX_JSON_DEPTH is refused as malformed (400) before
 * parsing, so no service recurses through a 100 000-level body.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { glanceFaultBody } from './fault-bodies.ts';
import { injectedErrorBody } from './faults.ts';

export const MAX_JSON_DEPTH = 100;

/** Does `text` (JSON) nest arrays/objects deeper than `max`? One pass, strings skipped, no recursion. */
export function jsonNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/** fastify's `frameworkErrors`: the service's own error shape, chosen by the path's prefix. */
export function frameworkErrorHandler(
  serviceTypeFor: (url: string) => string | undefined,
): (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (error, req, reply) => {
    const badUrl = error.code === 'FST_ERR_BAD_URL';
    const status = badUrl ? 404 : 400;
    const message = badUrl ? 'The resource could not be found.' : 'The request could not be understood.';
    const type = serviceTypeFor(req.url);
    const { contentType, body } =
      type === 'image'
        ? glanceFaultBody(status, message, String(req.headers.accept ?? '').includes('application/json'))
        : injectedErrorBody(type, status, message);
    reply.code(status).type(contentType).send(body);
  };
}
