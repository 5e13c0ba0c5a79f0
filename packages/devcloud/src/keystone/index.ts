/** Keystone v3 as a devcloud service: the plugin mounted at /identity of every cloud. */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { CloudContext, ServiceMount } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { sendKeystoneError } from './errors.ts';
import type { KeystoneRoutes } from './http.ts';
import type { Keystone } from './model.ts';
import { authRoutes } from './routes-auth.ts';

export const KEYSTONE_MOUNT: ServiceMount = {
  type: 'identity',
  name: 'keystone',
  prefix: '/identity',
  catalogPath: '/identity/v3',
};

/** Extra route sets (admin API, federation) register through this hook so index.ts stays small. */
export type KeystoneRouteSet = (app: FastifyInstance, r: KeystoneRoutes) => void;

export function keystonePlugin(ks: Keystone, routeSets: KeystoneRouteSet[]) {
  return async (app: FastifyInstance, ctx: CloudContext): Promise<void> => {
    const r: KeystoneRoutes = { ks, ctx, v3: () => `${ctx.baseUrl}${KEYSTONE_MOUNT.prefix}/v3` };
    app.setErrorHandler((err: FastifyError | ApiFault, _req, reply) => {
      if (err instanceof ApiFault) return sendKeystoneError(reply, err.status, err.message, r.v3());
      const status =
        typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) ctx.log.warn('keystone: internal error', { err: err.message });
      const message =
        status >= 500 ? 'An unexpected error prevented the server from fulfilling your request.' : err.message;
      return sendKeystoneError(reply, status, message, r.v3());
    });
    app.setNotFoundHandler((_req, reply) => sendKeystoneError(reply, 404, 'The resource could not be found.', r.v3()));
    app.addHook('onSend', async (_req, reply) => {
      reply.header('Vary', 'X-Auth-Token');
    });
    authRoutes(app, r);
    for (const set of routeSets) set(app, r);
  };
}
