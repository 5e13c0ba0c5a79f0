/** Synnefo's error bodies (snf-django-lib snf_django/lib/api/faults.py): `{"<faultName>": {code, message, details}}`. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SnfUser, SynnefoModel } from './model.ts';

export class SnfFault extends Error {
  readonly status: number;
  readonly fault: string;
  readonly details: string;
  readonly extra: Record<string, unknown> | undefined;
  constructor(status: number, fault: string, message: string, details = '', extra?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.fault = fault;
    this.details = details;
    this.extra = extra;
  }
  body(): Record<string, unknown> {
    return { [this.fault]: { code: this.status, message: this.message, details: this.details, ...this.extra } };
  }
}

export const badRequest = (m: string) => new SnfFault(400, 'badRequest', m);
export const unauthorized = (m = 'Invalid token') => new SnfFault(401, 'unauthorized', m);
export const forbidden = (m: string) => new SnfFault(403, 'forbidden', m);
export const itemNotFound = (m: string) => new SnfFault(404, 'itemNotFound', m);
export const conflict = (m: string) => new SnfFault(409, 'conflict', m);

export function sendFault(reply: FastifyReply, err: SnfFault): FastifyReply {
  return reply.code(err.status).header('content-type', 'application/json').send(JSON.stringify(err.body()));
}

/** The user of the request's X-Auth-Token, or 401. */
export function userOf(model: SynnefoModel, req: FastifyRequest): SnfUser {
  const raw = req.headers['x-auth-token'];
  const user = model.userByToken(Array.isArray(raw) ? raw[0] : raw);
  if (!user) throw unauthorized();
  return user;
}

/** Parse a JSON body that may have arrived as a Buffer (the raw parser takes every content type). */
export function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const b = req.body as unknown;
  if (b === undefined || b === null) return {};
  if (Buffer.isBuffer(b)) {
    if (b.length === 0) return {};
    try {
      return JSON.parse(b.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw badRequest('Invalid JSON data');
    }
  }
  if (typeof b === 'object') return b as Record<string, unknown>;
  throw badRequest('Invalid JSON data');
}
