/** CloudService's Ansible read surface: networks, subnets, routers, ports, volumes, security groups, floating IPs. */
import type { ServiceImpl } from '@connectrpc/connect';
import { filterList } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { attrFilters, type GatewayDeps, listAcross, scopeFor } from '../context.ts';
import { toPort, toRouter, toSubnet } from '../convert-ansible.ts';
import { toFloatingIp, toNetwork, toSecurityGroup, toVolume } from '../convert-more.ts';
import { cloudFailure } from '../errors.ts';

export function ansibleHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  const key = (v: string | undefined) => v || undefined;
  return {
    async listNetworks(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchNetworks(key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { networks: items.map(toNetwork), failures: failures.map(cloudFailure) };
    },
    async listVolumes(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchVolumes(key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { volumes: items.map(toVolume), failures: failures.map(cloudFailure) };
    },
    async listSecurityGroups(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchSecurityGroups(key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { securityGroups: items.map(toSecurityGroup), failures: failures.map(cloudFailure) };
    },
    async listFloatingIps(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, async (conn) =>
        filterList(await conn.cloudLayer.listFloatingIps(), key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { floatingIps: items.map(toFloatingIp), failures: failures.map(cloudFailure) };
    },
    async listSubnets(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchSubnets(key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { subnets: items.map(toSubnet), failures: failures.map(cloudFailure) };
    },
    async listRouters(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchRouters(key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { routers: items.map(toRouter), failures: failures.map(cloudFailure) };
    },
    async listPorts(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchPorts(key(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { ports: items.map(toPort), failures: failures.map(cloudFailure) };
    },
  };
}
