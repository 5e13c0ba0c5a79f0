/** Keystone's faults (ApiFault, rendered `{"error":{"code","message","title"}}`) with Keystone's wording. */
import type { FastifyReply } from 'fastify';
import { ApiFault } from '../fault.ts';
import { keystoneFaultBody } from '../fault-bodies.ts';

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';

export const unauthorized = (message = UNAUTHORIZED_MESSAGE): ApiFault => new ApiFault(401, message);
export const notFound = (kind: string, id: string): ApiFault => new ApiFault(404, `Could not find ${kind}: ${id}.`);
export const forbidden = (action: string): ApiFault =>
  new ApiFault(403, `You are not authorized to perform the requested action: ${action}.`);
export const badRequest = (message: string): ApiFault => new ApiFault(400, message);
export const conflict = (kind: string, detail: string): ApiFault =>
  new ApiFault(409, `Conflict occurred attempting to store ${kind} - ${detail}.`);

export function sendKeystoneError(
  reply: FastifyReply,
  status: number,
  message: string,
  authUri?: string,
): FastifyReply {
  if (status === 401 && authUri) reply.header('WWW-Authenticate', `Keystone uri="${authUri}"`);
  return reply.code(status).type('application/json').send(keystoneFaultBody(status, message));
}
