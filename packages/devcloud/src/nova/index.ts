/**
 * devcloud's Nova (compute API 2.1, microversions up to 2.93), mounted at `/compute` with the catalog endpoint
 * `$(base)/compute/v2.1`: versions, flavors, servers (state machine, Neutron ports, boot from volume), actions,
 * metadata, tags, volume attachments, keypairs, limits, quota sets, availability zones, services, hypervisors.
 *
 * A server created with metadata `devcloud:fault` (value = fault message) ends its build in ERROR with a `fault`.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudContext, InternalApis, ServiceModule } from '../context.ts';
import { flavorRoutes } from './flavors.ts';
import { installHttp } from './http.ts';
import { instanceActionRoutes } from './instance-actions.ts';
import { interfaceRoutes } from './interfaces.ts';
import { keypairRoutes } from './keypairs.ts';
import { miscRoutes } from './misc.ts';
import { NovaModel } from './model.ts';
import { serverActionRoutes } from './server-actions.ts';
import { serverRoutes } from './servers.ts';

export { FAULT_METADATA_KEY } from './model.ts';

function novaPlugin(app: FastifyInstance, ctx: CloudContext): void {
  const m = new NovaModel(ctx);
  installHttp(app, ctx);
  app.addHook('onClose', async () => m.close());
  miscRoutes(app, ctx, m);
  flavorRoutes(app, ctx);
  keypairRoutes(app, ctx);
  serverRoutes(app, ctx, m);
  serverActionRoutes(app, ctx, m);
  interfaceRoutes(app, ctx, m);
  instanceActionRoutes(app, ctx, m);
}

/** Compute usage for the cloud's quota accounting (instances, cores, ram). */
function novaInternal(ctx: CloudContext): Partial<InternalApis> {
  const m = new NovaModel(ctx);
  return { quotas: { usage: (projectId: string) => m.usage(projectId) } };
}

export const novaService: ServiceModule = {
  mount: { type: 'compute', name: 'nova', prefix: '/compute', catalogPath: '/compute/v2.1' },
  plugin: novaPlugin,
  internal: novaInternal,
};
