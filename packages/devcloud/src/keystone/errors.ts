/** Keystone's error body: `{"error":{"code","message","title"}}` with the status code as `code`. */
import type { FastifyReply } from 'fastify';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

export class KeystoneError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const unauthorized = (message = UNAUTHORIZED_MESSAGE): KeystoneError => new KeystoneError(401, message);
export const notFound = (kind: string, id: string): KeystoneError =>
  new KeystoneError(404, `Could not find ${kind}: ${id}.`);
export const forbidden = (action: string): KeystoneError =>
  new KeystoneError(403, `You are not authorized to perform the requested action: ${action}.`);
export const badRequest = (message: string): KeystoneError => new KeystoneError(400, message);
export const conflict = (kind: string, detail: string): KeystoneError =>
  new KeystoneError(409, `Conflict occurred attempting to store ${kind} - ${detail}.`);

export function keystoneErrorBody(
  status: number,
  message: string,
): { error: { code: number; message: string; title: string } } {
  return { error: { code: status, message, title: TITLES[status] ?? 'Error' } };
}

export function sendKeystoneError(
  reply: FastifyReply,
  status: number,
  message: string,
  authUri?: string,
): FastifyReply {
  if (status === 401 && authUri) reply.header('WWW-Authenticate', `Keystone uri="${authUri}"`);
  return reply.code(status).type('application/json').send(keystoneErrorBody(status, message));
}
