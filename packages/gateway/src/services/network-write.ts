/**
 * CloudService's Ansible network modules, write side: network, subnet and router (interfaces and external gateway)
 * with `state: present` (created when the project has none of that name, else its differing fields updated;
 * `changed`) and `state: absent` (`deleted`).
 */
import type { ServiceImpl } from '@connectrpc/connect';
import { type Connection, ErrorCode, OcxError, type Router } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { cloudAt, type GatewayDeps } from '../context.ts';
import { toRouter, toSubnet } from '../convert-ansible.ts';
import { toNetwork } from '../convert-more.ts';
import { invalidArgument } from '../errors.ts';
import { deleteOne, differing, guarded, ownNamed, pickNamed, required } from './present.ts';

async function networkId(conn: Connection, ref: string): Promise<string> {
  return (await pickNamed(conn, 'network', ref, await conn.cloudLayer.searchNetworks(ref))).id;
}

async function subnetId(conn: Connection, ref: string): Promise<string> {
  return (await pickNamed(conn, 'subnet', ref, await conn.cloudLayer.searchSubnets(ref))).id;
}

async function routerById(conn: Connection, id: string): Promise<Router> {
  const [r] = await conn.cloudLayer.searchRouters(id);
  if (!r) throw new OcxError(ErrorCode.NOT_FOUND, `router ${id} disappeared`);
  return r;
}

export function networkWriteHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async createNetwork(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      return guarded(async () => {
        const have = await ownNamed(conn, 'network', name, await cl.searchNetworks(name));
        if (!have) {
          const raw = await cl.createNetwork(name, {
            shared: req.shared,
            external: req.external,
            description: req.description,
            adminStateUp: req.adminStateUp,
            signal: ctx.signal,
          });
          return { network: toNetwork(await cl.networkFromRecord(raw)), changed: true };
        }
        const changes = differing(
          {
            shared: have.is_shared,
            'router:external': have.is_router_external,
            admin_state_up: have.is_admin_state_up,
            description: have.properties.description ?? '',
          },
          {
            shared: req.shared,
            'router:external': req.external,
            admin_state_up: req.adminStateUp,
            description: req.description,
          },
        );
        if (Object.keys(changes).length === 0) return { network: toNetwork(have), changed: false };
        return { network: toNetwork(await cl.updateNetwork(have, changes, { signal: ctx.signal })), changed: true };
      });
    },

    deleteNetwork(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'network',
        (conn, key, attrs) => conn.cloudLayer.searchNetworks(key, attrs),
        (conn, net) => conn.cloudLayer.deleteNetwork(net, { signal: ctx.signal }),
      );
    },

    async createSubnet(req, ctx) {
      const name = required(req.name, 'name');
      required(req.network, 'network');
      if (req.ipVersion !== 0 && req.ipVersion !== 4 && req.ipVersion !== 6)
        throw invalidArgument('ip_version: 4 or 6');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      return guarded(async () => {
        const netId = await networkId(conn, req.network);
        const have = await ownNamed(conn, 'subnet', name, await cl.searchSubnets(name, { network_id: netId }));
        const gatewayIp = req.noGateway ? null : req.gatewayIp;
        const dns = req.dnsNameservers.length > 0 ? [...req.dnsNameservers] : undefined;
        if (!have) {
          if (!req.cidr) throw invalidArgument('cidr is required to create a subnet');
          const raw = await cl.createSubnet({
            name,
            network: { id: netId },
            cidr: req.cidr,
            ipVersion: req.ipVersion === 0 ? undefined : (req.ipVersion as 4 | 6),
            gatewayIp,
            enableDhcp: req.enableDhcp,
            dnsNameservers: dns,
            signal: ctx.signal,
          });
          return { subnet: toSubnet(await cl.subnetFromRecord(raw)), changed: true };
        }
        if (req.cidr && req.cidr !== have.cidr)
          throw new OcxError(
            ErrorCode.CONFLICT,
            `subnet '${name}' exists with cidr ${have.cidr}; Neutron cannot change a subnet's cidr (delete it first)`,
          );
        const changes = differing(
          { gateway_ip: have.gateway_ip, enable_dhcp: have.is_dhcp_enabled, dns_nameservers: have.dns_nameservers },
          { gateway_ip: gatewayIp, enable_dhcp: req.enableDhcp, dns_nameservers: dns },
        );
        if (Object.keys(changes).length === 0) return { subnet: toSubnet(have), changed: false };
        return { subnet: toSubnet(await cl.updateSubnet(have.id, changes, { signal: ctx.signal })), changed: true };
      });
    },

    deleteSubnet(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'subnet',
        (conn, key, attrs) => conn.cloudLayer.searchSubnets(key, attrs),
        (conn, subnet) => conn.cloudLayer.deleteSubnet(subnet, { signal: ctx.signal }),
      );
    },

    async createRouter(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      const o = { signal: ctx.signal };
      return guarded(async () => {
        const gateway =
          req.externalNetwork === undefined
            ? undefined
            : req.externalNetwork && (await networkId(conn, req.externalNetwork));
        const want = await Promise.all(req.interfaces.map((s) => subnetId(conn, s)));
        let router = await ownNamed(conn, 'router', name, await cl.searchRouters(name));
        let changed = false;
        if (!router) {
          router = await cl.routerFromRecord(
            await cl.createRouter(name, { externalNetwork: gateway ? { id: gateway } : undefined, ...o }),
            o,
          );
          changed = true;
        } else if (gateway !== undefined && (gateway || null) !== router.external_network) {
          await cl.setRouterGateway(router, gateway ? { id: gateway } : null, o);
          changed = true;
        }
        const attached = router.interface_subnets;
        for (const id of want.filter((s, i) => !attached.includes(s) && want.indexOf(s) === i)) {
          await cl.addRouterSubnet(router, { id }, o);
          changed = true;
        }
        if (req.purgeInterfaces) {
          for (const id of attached.filter((s) => !want.includes(s))) {
            await cl.removeRouterSubnet(router, { id }, o);
            changed = true;
          }
        }
        return { router: toRouter(changed ? await routerById(conn, router.id) : router), changed };
      });
    },

    deleteRouter(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'router',
        (conn, key, attrs) => conn.cloudLayer.searchRouters(key, attrs),
        async (conn, router) => {
          // Neutron refuses to delete a router with interfaces (409): Ansible's router module detaches them first.
          for (const id of router.interface_subnets)
            await conn.cloudLayer.removeRouterSubnet(router, { id }, { signal: ctx.signal });
          return conn.cloudLayer.deleteRouter(router, { signal: ctx.signal });
        },
      );
    },
  };
}
