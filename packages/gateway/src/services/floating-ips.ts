/**
 * CloudService's Ansible floating_ip module: `state: present` gives the server a floating IP (unchanged when it
 * has one — of the network asked for, or the address asked for), reusing an unattached one on request, else
 * allocating; without a server, allocates (the address asked for, unless the project holds it; onto a port when
 * one is named). `state: absent`
 * detaches (and with purge deletes) the server's floating IPs; DeleteFloatingIp releases one by id or address.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import { type Connection, ErrorCode, type FloatingIp, filterList, OcxError, type Server } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { cloudAt, type GatewayDeps } from '../context.ts';
import { toFloatingIp } from '../convert-more.ts';
import { deleteOne, guarded, pickNamed, required } from './present.ts';

async function serverOf(conn: Connection, ref: string): Promise<Server> {
  const s = await conn.cloudLayer.getServer(ref);
  if (!s) throw new OcxError(ErrorCode.NOT_FOUND, `no server matches '${ref}' on ${conn.name}`);
  return s;
}

/** Every floating IP of the project, fresh (a decision to allocate must not rest on a cached list). */
async function currentFloatingIps(conn: Connection): Promise<FloatingIp[]> {
  conn.cloudLayer.invalidateCaches();
  return conn.cloudLayer.listFloatingIps();
}

/** The floating IPs on the server's ports. */
async function onServer(conn: Connection, server: Server, all: FloatingIp[]): Promise<FloatingIp[]> {
  const ports = new Set((await conn.cloudLayer.listPorts({ device_id: server.id })).map((p) => p.id));
  return all.filter((f) => f.port !== null && ports.has(f.port));
}

export function floatingIpHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async createFloatingIp(req, ctx) {
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      const signal = ctx.signal;
      return guarded(async () => {
        let network: { id: string } | undefined;
        if (req.network) {
          network = await pickNamed(conn, 'network', req.network, await cl.searchNetworks(req.network));
        }
        const address = req.floatingIpAddress;
        const all = await currentFloatingIps(conn);
        const held = address ? all.find((f) => f.floating_ip_address === address) : undefined;
        if (!req.server) {
          if (held) return { floatingIp: toFloatingIp(held), changed: false };
          const onPort = req.port ? { portId: req.port, fixedAddress: req.fixedAddress || undefined } : {};
          const fip = await cl.createFloatingIp({ network, address: address || undefined, ...onPort, signal });
          return { floatingIp: toFloatingIp(fip), changed: true };
        }
        const server = await serverOf(conn, req.server);
        const mine = await onServer(conn, server, all);
        const already = mine.find((f) =>
          address ? f.floating_ip_address === address : !network || f.network === network.id,
        );
        if (already) return { floatingIp: toFloatingIp(already), changed: false };
        // An address of the project's that is on another server's port is not taken from it (detach it first).
        if (held?.attached)
          throw new OcxError(
            ErrorCode.CONFLICT,
            `floating IP ${address} is attached to port ${held.port} of another server; detach it first`,
          );
        let pick = held;
        if (!pick && !address && req.reuse)
          pick = all.find((f) => !f.attached && (!network || f.network === network.id));
        pick ??= await cl.createFloatingIp({ network, address: address || undefined, signal });
        const fixedAddress = req.fixedAddress || undefined;
        const attached = await cl.attachFloatingIp(server, pick.floating_ip_address, { fixedAddress, signal });
        return { floatingIp: toFloatingIp(attached), changed: true };
      });
    },

    async detachFloatingIp(req, ctx) {
      const ref = required(req.server, 'server');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      return guarded(async () => {
        const server = await serverOf(conn, ref);
        const mine = (await onServer(conn, server, await currentFloatingIps(conn))).filter(
          (f) => !req.floatingIpAddress || f.floating_ip_address === req.floatingIpAddress,
        );
        for (const f of mine) {
          await cl.detachFloatingIp(server, f.floating_ip_address, { signal: ctx.signal });
          if (req.purge) await cl.deleteFloatingIp(f.id);
        }
        const ids = new Set(mine.map((f) => f.id));
        const now = req.purge || mine.length === 0 ? [] : (await currentFloatingIps(conn)).filter((f) => ids.has(f.id));
        return {
          changed: mine.length > 0,
          detached: mine.map((f) => f.floating_ip_address),
          floatingIps: now.map(toFloatingIp),
        };
      });
    },

    deleteFloatingIp(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'floating IP',
        async (conn, key, attrs) =>
          filterList(
            (await currentFloatingIps(conn)).filter((f) => f.id === key || f.floating_ip_address === key),
            undefined,
            attrs,
          ),
        (conn, fip) => conn.cloudLayer.deleteFloatingIp(fip.id),
      );
    },
  };
}
