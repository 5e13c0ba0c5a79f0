/** Glance's error bodies: webob HTML pages, or JSON when the client asks for it (as real Glance does). */
import type { FastifyReply, FastifyRequest } from 'fastify';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Request Range Not Satisfiable',
  500: 'Internal Server Error',
};

export class GlanceError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#x27;');
}

export function sendGlanceError(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
): FastifyReply {
  const reason = REASONS[status] ?? 'Error';
  const accept = String(req.headers.accept ?? '');
  if (accept.includes('application/json')) {
    return reply
      .code(status)
      .type('application/json')
      .send(JSON.stringify({ message: `${message}<br /><br />\n\n\n`, code: `${status} ${reason}`, title: reason }));
  }
  const body = `<html>\n <head>\n  <title>${status} ${reason}</title>\n </head>\n <body>\n  <h1>${status} ${reason}</h1>\n  ${escapeHtml(message)}<br /><br />\n\n\n\n </body>\n</html>`;
  return reply.code(status).type('text/html; charset=UTF-8').send(body);
}
