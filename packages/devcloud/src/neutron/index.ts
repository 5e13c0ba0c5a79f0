/**
 * devcloud's Neutron (networking v2.0), mounted at `/network` with the catalog endpoint `$(base)/network`:
 * version discovery, extensions, networks, subnets, ports, floating IPs, routers, security groups, quotas,
 * tags; plus `internal.network`, through which Nova binds server ports.
 */
import type { FastifyInstance } from 'fastify';
import { type CloudContext, type InternalApis, InternalError, type ServiceModule } from '../context.ts';
import { extensionRoutes } from './extensions.ts';
import { installHttp, NeutronError, tokenOf } from './http.ts';
import { l3Routes } from './l3.ts';
import { NeutronModel, touch } from './model.ts';
import { networkRoutes } from './networks.ts';
import { portRoutes } from './ports.ts';
import { quotaRoutes } from './quotas.ts';
import { securityGroupRoutes } from './security-groups.ts';
import { subnetRoutes } from './subnets.ts';
import { tagRoutes } from './tags.ts';

/** devstack's projects and their `private` subnets (distinct per project, /26 like devstack's FIXED_RANGE). */
export const SEEDED_PROJECT_CIDRS: Readonly<Record<string, string>> = { demo: '10.0.0.0/26', admin: '10.0.0.64/26' };

/** Seed `public` and, for the `demo` and `admin` projects Keystone knows, `private` + `private-subnet` + `router1`. */
export function seedDevstackNetworks(m: NeutronModel, ctx: CloudContext): void {
  m.ensurePublicNetwork();
  const projects = ctx.store.table<{ id: string; name?: string; domain_id?: string }>('keystone_projects');
  for (const [name, cidr] of Object.entries(SEEDED_PROJECT_CIDRS)) {
    const p = projects.filter((x) => x.name === name && (x.domain_id ?? 'default') === 'default')[0];
    if (p) m.ensureProjectTopology(p.id, cidr);
  }
}

function neutronPlugin(app: FastifyInstance, ctx: CloudContext): void {
  const m = new NeutronModel(ctx);
  installHttp(app, ctx);
  // Eagerly, so Nova finds the project's network even before anyone has called Neutron.
  seedDevstackNetworks(m, ctx);
  let seeded = false;
  app.addHook('preHandler', async (req) => {
    if (!seeded) {
      m.ensurePublicNetwork();
      seeded = true;
    }
    const t = req.neutronToken;
    if (t?.projectId) m.ensureDefaultSecurityGroup(t.projectId);
  });

  const versions = (base: string) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/network/v2.0/` }] }],
  });
  app.get('/', async () => versions(ctx.baseUrl));
  const resources = async (req: Parameters<typeof tokenOf>[0]) => {
    tokenOf(req);
    const res = (name: string, collection: string) => ({
      name,
      collection,
      links: [{ rel: 'self', href: `${ctx.baseUrl}/network/v2.0/${collection}` }],
    });
    return {
      resources: [
        res('network', 'networks'),
        res('subnet', 'subnets'),
        res('subnetpool', 'subnetpools'),
        res('port', 'ports'),
      ],
    };
  };
  app.get('/v2.0', resources);
  // Subnet pools are not simulated; an empty list keeps clients that probe them happy.
  app.get('/v2.0/subnetpools', async () => ({ subnetpools: [] }));

  extensionRoutes(app);
  networkRoutes(app, m);
  subnetRoutes(app, m);
  portRoutes(app, m);
  securityGroupRoutes(app, m);
  l3Routes(app, m);
  quotaRoutes(app, m);
  tagRoutes(app, m);
}

/** Detach one port from its server: delete it if Nova made it, else unbind it (floating IPs are released too). */
function releasePort(m: NeutronModel, portId: string): void {
  const p = m.ports.get(portId);
  if (!p) return;
  if (p._novaCreated) {
    m.deletePort(p);
    return;
  }
  p.device_id = '';
  p.device_owner = '';
  p['binding:host_id'] = '';
  p['binding:vif_type'] = 'unbound';
  p['binding:vif_details'] = {};
  p.status = 'DOWN';
  touch(p);
  m.ports.put(p);
}

/** Nova's interface detach (os-interface DELETE) for one port of a server. */
export function releaseServerPort(ctx: CloudContext, portId: string): void {
  releasePort(new NeutronModel(ctx), portId);
}

function toInternal(e: unknown): never {
  if (e instanceof NeutronError) throw new InternalError(e.status, e.message);
  throw e;
}

/** `internal.network`: Nova's view of Neutron (bind server ports, list them, release them on delete). */
export function neutronInternal(ctx: CloudContext): Partial<InternalApis> {
  const m = new NeutronModel(ctx);
  const network: InternalApis['network'] = {
    bindPort(args) {
      try {
        m.ensurePublicNetwork();
        let port: ReturnType<NeutronModel['ports']['get']>;
        if (args.portId) {
          port = m.ports.get(args.portId);
          if (!port || port.project_id !== args.projectId) {
            throw new InternalError(404, `Port id ${args.portId} could not be found.`);
          }
          if (port.device_id && port.device_id !== args.serverId) {
            throw new InternalError(409, `Port ${port.id} is still in use.`);
          }
        } else {
          if (!args.networkId) throw new InternalError(400, 'A network or port is required.');
          const net = m.networks.get(args.networkId);
          if (!net || !(net.project_id === args.projectId || net.shared)) {
            throw new InternalError(404, `Network ${args.networkId} could not be found.`);
          }
          m.ensureDefaultSecurityGroup(args.projectId);
          port = m.createPort(args.projectId, net.id, {
            fixed_ips_request: args.fixedIp ? [{ ip_address: args.fixedIp }] : undefined,
            _novaCreated: true,
          });
        }
        port.device_id = args.serverId;
        port.device_owner = 'compute:nova';
        port['binding:host_id'] = 'devcloud';
        port['binding:vif_type'] = 'ovs';
        port['binding:vif_details'] = { port_filter: true };
        port.status = 'ACTIVE';
        touch(port);
        m.ports.put(port);
        const net = m.networks.get(port.network_id);
        return {
          id: port.id,
          networkId: port.network_id,
          networkName: net?.name ?? '',
          macAddress: port.mac_address,
          fixedIps: port.fixed_ips.map((ip) => ({
            ipAddress: ip.ip_address,
            subnetId: ip.subnet_id,
            version: ip.ip_address.includes(':') ? (6 as const) : (4 as const),
          })),
        };
      } catch (e) {
        return toInternal(e);
      }
    },
    portsForDevice(serverId) {
      return m.ports
        .filter((p) => p.device_id === serverId)
        .map((p) => ({
          id: p.id,
          networkName: m.networks.get(p.network_id)?.name ?? '',
          macAddress: p.mac_address,
          fixedIps: p.fixed_ips.map((ip) => ({
            ipAddress: ip.ip_address,
            version: ip.ip_address.includes(':') ? (6 as const) : (4 as const),
          })),
          floatingIps: m.floatingips.filter((f) => f.port_id === p.id).map((f) => f.floating_ip_address),
        }));
    },
    releaseDevice(serverId) {
      for (const p of m.ports.filter((x) => x.device_id === serverId)) releasePort(m, p.id);
    },
  };
  // Usage for the cloud's quota accounting (network, subnet, port, router, floatingip, security_group, ...).
  return { network, quotas: { usage: (projectId: string) => m.usage(projectId) } };
}

export const neutronService: ServiceModule = {
  mount: { type: 'network', name: 'neutron', prefix: '/network', catalogPath: '/network' },
  plugin: neutronPlugin,
  internal: neutronInternal,
};
