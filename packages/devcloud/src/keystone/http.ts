/** Request helpers shared by Keystone's route files: who is calling, and may they. */
import type { FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { badRequest, forbidden, unauthorized } from './errors.ts';
import type { Keystone, TokenRow } from './model.ts';

export interface KeystoneRoutes {
  ks: Keystone;
  ctx: CloudContext;
  /** e.g. http://127.0.0.1:41234/identity/v3 */
  v3(): string;
}

export interface Caller {
  token: string;
  row: TokenRow;
  info: TokenInfo;
}

export function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The caller's token (X-Auth-Token), or 401 in Keystone's body shape. */
export function caller(ks: Keystone, req: FastifyRequest): Caller {
  const token = headerValue(req, 'x-auth-token');
  if (!token) throw unauthorized();
  const row = ks.lookup(token);
  const info = row ? ks.tokenInfo(token) : undefined;
  if (!row || !info) throw unauthorized();
  return { token, row, info };
}

export function requireAdmin(c: Caller, action: string): void {
  if (!c.info.isAdmin) throw forbidden(`identity:${action}`);
}

/** Admin, or the user acting on their own record. */
export function requireSelfOrAdmin(c: Caller, userId: string, action: string): void {
  if (!c.info.isAdmin && c.info.userId !== userId) throw forbidden(`identity:${action}`);
}

/** The query as Keystone (Flask's `request.args.get`) reads it: a repeated parameter counts with its first value. */
export function queryOf(req: FastifyRequest): Record<string, string | undefined> {
  const q = (req.query ?? {}) as Record<string, string | string[] | undefined>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

export function bodyObject(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined;
  const inner = b?.[key];
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) {
    throw badRequest(`Invalid input for field '${key}': '${key}' is a required property`);
  }
  return inner as Record<string, unknown>;
}
