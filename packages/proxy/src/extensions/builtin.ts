/**
 * Built-in extensions besides list aggregation:
 * - volume-create-on-boot: POST /servers whose block device mapping names a `service_provider` for a new volume;
 * - volume-attach: POST /servers/{id}/os-volume_attachments where the volume lives in another cloud → token
 *   injection into the proxy in front of the server's cloud;
 * - placement: where a create goes — `name@sp` suffix (mixmatch's name routing, suffix removed), else the cloud of
 *   the resources the body references (image, network, port, volume, snapshot), else the default (home).
 */
import { ErrorCode, OcxError } from '@ocx/sdk';
import { errorResponse } from '../errors.ts';
import type { Extension, ExtensionContext } from './types.ts';

export function builtinExtensions(): Extension[] {
  return [volumeCreateOnBoot(), volumeAttach(), placement()];
}

function targetNamed(ctx: ExtensionContext, name: string): string | undefined {
  if (name === 'default' || name === ctx.homeId) return ctx.homeId;
  return ctx.availableTargets.includes(name) ? name : undefined;
}

type Bdm = Record<string, unknown> & {
  service_provider?: unknown;
  source_type?: unknown;
  destination_type?: unknown;
  uuid?: unknown;
  volume_size?: unknown;
  boot_index?: unknown;
};

// ─────────────────────────────── volume create on boot ───────────────────────────────

export function volumeCreateOnBoot(opts: { waitMs?: number; pollMs?: number } = {}): Extension {
  const waitMs = opts.waitMs ?? 300_000;
  const pollMs = opts.pollMs ?? 1_000;
  return {
    name: 'volume-create-on-boot',
    routes: [{ method: 'POST', service: 'compute', path: /^\/servers$/ }],
    async onRequest(ctx) {
      const server = (ctx.json as { server?: Record<string, unknown> } | undefined)?.server;
      const bdms = server?.block_device_mapping_v2;
      if (!Array.isArray(bdms) || !bdms.some((b) => (b as Bdm)?.service_provider !== undefined)) return undefined;
      const serverTarget = ctx.explicitTarget;
      for (const [i, raw] of bdms.entries()) {
        const bdm = raw as Bdm;
        if (bdm.service_provider === undefined) continue;
        const vt = targetNamed(ctx, String(bdm.service_provider));
        if (!vt)
          return errorResponse(
            ctx.service,
            400,
            `unknown service provider ${String(bdm.service_provider)} in block_device_mapping_v2[${i}]`,
          );
        if (bdm.destination_type !== 'volume') {
          return errorResponse(
            ctx.service,
            400,
            `block_device_mapping_v2[${i}]: service_provider needs destination_type volume`,
          );
        }
        const size = Number(bdm.volume_size ?? 0);
        const volume: Record<string, unknown> = {
          size: size > 0 ? size : 1,
          name: `${String(server?.name ?? 'server')}-bdm${i}`,
        };
        if (bdm.source_type === 'image') volume.imageRef = bdm.uuid;
        else if (bdm.source_type === 'snapshot') volume.snapshot_id = bdm.uuid;
        else if (bdm.source_type === 'volume') volume.source_volid = bdm.uuid;
        const created = await ctx.call(vt, {
          service: 'block-storage',
          method: 'POST',
          path: '/volumes',
          json: { volume },
        });
        const id = (created.json as { volume?: { id?: string } } | undefined)?.volume?.id;
        if (created.status >= 300 || !id) {
          return {
            status: created.status >= 400 ? created.status : 502,
            headers: { 'content-type': String(created.headers['content-type'] ?? 'application/json') },
            body: created.text,
          };
        }
        await ctx.learn([{ type: 'volumes', id, targetId: vt }]);
        try {
          await waitAvailable(ctx, vt, id, waitMs, pollMs);
        } catch (err) {
          // Leave nothing behind: the server will not be created.
          await ctx
            .call(vt, { service: 'block-storage', method: 'DELETE', path: `/volumes/${id}` })
            .catch(() => undefined);
          throw err;
        }
        const rewritten: Bdm = { ...bdm, source_type: 'volume', destination_type: 'volume', uuid: id };
        delete rewritten.service_provider;
        delete rewritten.volume_size;
        bdms[i] = rewritten;
        // A server placed in another cloud reaches the volume through the proxy in front of that cloud.
        if (serverTarget && serverTarget !== vt && serverTarget !== ctx.homeId) {
          await ctx.inject(serverTarget, vt, [{ type: 'volumes', id }]);
        }
      }
      if (serverTarget) ctx.target = serverTarget;
      // A server without an explicit cloud boots where its new volume is (placement follows the volume's uuid).
      return undefined;
    },
  };
}

async function waitAvailable(
  ctx: ExtensionContext,
  target: string,
  id: string,
  waitMs: number,
  pollMs: number,
): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    const r = await ctx.call(target, { service: 'block-storage', method: 'GET', path: `/volumes/${id}` });
    const status = (r.json as { volume?: { status?: string } } | undefined)?.volume?.status;
    if (status === 'available') return;
    if (status === 'error' || r.status === 404) {
      throw new OcxError(
        ErrorCode.RESOURCE_FAILED,
        `volume ${id} created in ${target} for the boot went to ${status ?? 'nowhere'}`,
        {
          resourceId: id,
          cloud: target,
        },
      );
    }
    if (Date.now() > until) {
      throw new OcxError(ErrorCode.TIMEOUT, `volume ${id} in ${target} was not available within ${waitMs} ms`, {
        resourceId: id,
      });
    }
    await new Promise((r2) => setTimeout(r2, pollMs));
  }
}

// ─────────────────────────────── volume attach (token injection) ───────────────────────────────

export function volumeAttach(): Extension {
  return {
    name: 'volume-attach',
    routes: [{ method: 'POST', service: 'compute', path: /^\/servers\/[^/]+\/os-volume_attachments$/ }],
    async onRequest(ctx) {
      if (ctx.fromPeer) return undefined;
      const volumeId = (ctx.json as { volumeAttachment?: { volumeId?: unknown } } | undefined)?.volumeAttachment
        ?.volumeId;
      if (typeof volumeId !== 'string') return undefined;
      const serverId = ctx.path.segments[1]!;
      const serverTarget = ctx.explicitTarget ?? (await ctx.locate('servers', serverId));
      if (!serverTarget) return undefined; // the normal path answers 404 for the server
      const volumeTarget = await ctx.locate('volumes', volumeId);
      ctx.target = serverTarget;
      if (!volumeTarget || volumeTarget === serverTarget) return undefined;
      // Nova in serverTarget will call Cinder for a volume that lives in volumeTarget: hand the proxy in front of
      // serverTarget the user's credential for volumeTarget and where the volume is.
      await ctx.inject(serverTarget, volumeTarget, [{ type: 'volumes', id: volumeId }]);
      return undefined;
    },
  };
}

// ─────────────────────────────── placement of creates ───────────────────────────────

const REFERENCES: Record<string, (body: Record<string, unknown>) => Array<{ type: string; id: unknown }>> = {
  servers: (b) => {
    const s = (b.server ?? {}) as Record<string, unknown>;
    const refs: Array<{ type: string; id: unknown }> = [];
    if (s.imageRef) refs.push({ type: 'images', id: s.imageRef });
    if (Array.isArray(s.networks)) {
      for (const n of s.networks as Record<string, unknown>[]) {
        if (n?.uuid) refs.push({ type: 'networks', id: n.uuid });
        if (n?.port) refs.push({ type: 'ports', id: n.port });
      }
    }
    if (Array.isArray(s.block_device_mapping_v2)) {
      for (const d of s.block_device_mapping_v2 as Bdm[]) {
        if (!d?.uuid) continue;
        const t =
          d.source_type === 'image'
            ? 'images'
            : d.source_type === 'volume'
              ? 'volumes'
              : d.source_type === 'snapshot'
                ? 'snapshots'
                : undefined;
        if (t) refs.push({ type: t, id: d.uuid });
      }
    }
    return refs;
  },
  volumes: (b) => {
    const v = (b.volume ?? {}) as Record<string, unknown>;
    return [
      { type: 'snapshots', id: v.snapshot_id },
      { type: 'volumes', id: v.source_volid },
      { type: 'images', id: v.imageRef },
      { type: 'backups', id: v.backup_id },
    ];
  },
  snapshots: (b) => [{ type: 'volumes', id: ((b.snapshot ?? {}) as Record<string, unknown>).volume_id }],
  backups: (b) => [{ type: 'volumes', id: ((b.backup ?? {}) as Record<string, unknown>).volume_id }],
  attachments: (b) => [{ type: 'volumes', id: ((b.attachment ?? {}) as Record<string, unknown>).volume_uuid }],
  ports: (b) => [{ type: 'networks', id: ((b.port ?? {}) as Record<string, unknown>).network_id }],
  subnets: (b) => [{ type: 'networks', id: ((b.subnet ?? {}) as Record<string, unknown>).network_id }],
  floatingips: (b) => {
    const f = (b.floatingip ?? {}) as Record<string, unknown>;
    return [
      { type: 'networks', id: f.floating_network_id },
      { type: 'ports', id: f.port_id },
    ];
  },
};

const SINGULAR: Record<string, string> = {
  servers: 'server',
  volumes: 'volume',
  snapshots: 'snapshot',
  backups: 'backup',
  attachments: 'attachment',
  ports: 'port',
  subnets: 'subnet',
  floatingips: 'floatingip',
  networks: 'network',
  routers: 'router',
  'security-groups': 'security_group',
};

export function placement(): Extension {
  return {
    name: 'placement',
    routes: [{ method: 'POST', service: '*', path: /^\/[^/]+$/ }],
    async onRequest(ctx) {
      if (ctx.target || ctx.explicitTarget || ctx.fromPeer) return undefined;
      const collection = ctx.path.segments[0]!;
      const body = ctx.json as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object') return undefined;
      // 1. name@sp
      const key = SINGULAR[collection];
      const obj = key ? (body[key] as Record<string, unknown> | undefined) : ctx.service === 'image' ? body : undefined;
      if (obj && typeof obj.name === 'string') {
        const m = /^(.*)@([A-Za-z0-9_.-]+)$/.exec(obj.name);
        const t = m ? targetNamed(ctx, m[2]!) : undefined;
        if (m && t) {
          obj.name = m[1];
          ctx.target = t;
          return undefined;
        }
      }
      // 2. where the referenced resources live
      const refs = (REFERENCES[collection]?.(body) ?? []).filter(
        (r): r is { type: string; id: string } => typeof r.id === 'string' && r.id !== '',
      );
      if (refs.length === 0) return undefined;
      const found = new Map<string, string[]>();
      for (const r of refs) {
        const t = await ctx.locate(r.type, r.id);
        if (!t) continue;
        const list = found.get(t) ?? [];
        list.push(`${r.type.replace(/s$/, '')} ${r.id}`);
        found.set(t, list);
      }
      if (found.size > 1) {
        const where = [...found.entries()].map(([t, l]) => `${l.join(', ')} in ${t}`).join('; ');
        return errorResponse(
          ctx.service,
          409,
          `the request references resources in different clouds (${where}); name one with MM-SERVICE-PROVIDER`,
        );
      }
      const only = [...found.keys()][0];
      if (only) ctx.target = only;
      return undefined;
    },
  };
}
