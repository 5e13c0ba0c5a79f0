/** POST /servers: quotas, flavor and image checks, networks via Neutron ports, boot from volume. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type CloudContext, InternalError } from '../context.ts';
import { flavorIdFromRef, flavorTable, flavorVisible } from './flavors.ts';
import {
  badRequest,
  bodyOf,
  conflict,
  forbidden,
  mv,
  NovaError,
  projectOf,
  requiredProperty,
  tokenOf,
} from './http.ts';
import { keypairTable } from './keypairs.ts';
import { FAULT_METADATA_KEY, type NovaModel, POWER, randomPassword, recordAction, type ServerRow } from './model.ts';
import { serverLinks } from './render.ts';
import { autoNetworks, buildVolumes, checkImage, type NetRequest, parseBdms, parseNetworks } from './server-boot.ts';
import { imageIdFromRef } from './server-common.ts';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function createServerRoute(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  const flavors = flavorTable(ctx);
  const keypairs = keypairTable(ctx);

  app.post('/v2.1/servers', async (req, reply) => {
    const token = tokenOf(req);
    const projectId = projectOf(token);
    const b = bodyOf(req, 'server');
    const v = mv(req);
    const name = b.name;
    if (name === undefined) throw requiredProperty('server', b, 'name');
    if (typeof name !== 'string' || name.trim() === '' || name.length > 255) {
      throw badRequest(`Invalid input for field/attribute name. Value: ${String(name)}.`);
    }
    if (b.flavorRef === undefined) throw requiredProperty('server', b, 'flavorRef');
    if (
      typeof b.imageRef === 'string' &&
      b.imageRef !== '' &&
      !UUID_RE.test(b.imageRef) &&
      !/^https?:\/\//.test(b.imageRef)
    ) {
      throw badRequest(
        `Invalid input for field/attribute imageRef. Value: ${b.imageRef}. '${b.imageRef}' is not valid under any of the given schemas`,
      );
    }
    const flavorId = flavorIdFromRef(b.flavorRef);
    const flavor = flavors.get(flavorId);
    if (!flavor || !flavorVisible(token, flavor)) throw badRequest(`Flavor ${flavorId} could not be found.`);
    if (flavor.disabled) throw badRequest(`Flavor ${flavorId} is disabled.`);

    const bdms = parseBdms(b.block_device_mapping_v2);
    // Volumes to create or attach at build; an image → local boot_index 0 entry is just the image boot.
    const volumeBdms = bdms.filter((d) => !(d.source === 'image' && d.size === null));
    const bootFromVolume = volumeBdms.some((d) => d.bootIndex === 0);
    let imageId =
      b.imageRef === undefined || b.imageRef === '' || b.imageRef === null ? '' : imageIdFromRef(b.imageRef);
    const localImage = bdms.find((d) => d.source === 'image' && d.size === null);
    if (!imageId && localImage?.uuid) imageId = localImage.uuid;
    if (!imageId && !bootFromVolume) {
      throw badRequest(
        'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.',
      );
    }
    if (imageId) checkImage(ctx, imageId, flavor, bootFromVolume);
    for (const d of bdms) {
      if (d.source === 'image' && d.size !== null && d.uuid) checkImage(ctx, d.uuid, flavor, true);
      if (d.source === 'volume' && d.uuid) {
        let vol: ReturnType<CloudContext['internal']['volumes']['get']>;
        try {
          vol = ctx.internal.volumes.get(d.uuid);
        } catch (e) {
          if (e instanceof InternalError) throw badRequest(`Block Device Mapping is Invalid: ${e.message}`);
          throw e;
        }
        if (!vol || vol.projectId !== projectId)
          throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${d.uuid}.`);
        if (vol.status !== 'available') throw badRequest(`Invalid volume: volume ${d.uuid} status must be available`);
      }
    }

    let keyName: string | null = null;
    if (b.key_name !== undefined && b.key_name !== null) {
      keyName = String(b.key_name);
      if (!keypairs.get(`${token.userId}/${keyName}`)) throw badRequest('Invalid key_name provided.');
    }
    const az = b.availability_zone;
    if (az !== undefined && az !== null && az !== '' && az !== 'nova' && !String(az).startsWith('nova:')) {
      throw badRequest(`The requested availability zone is not available`);
    }
    const metadata: Record<string, string> = {};
    if (b.metadata !== undefined) {
      if (!b.metadata || typeof b.metadata !== 'object' || Array.isArray(b.metadata)) {
        throw badRequest('Invalid input for field/attribute metadata. Value: not an object.');
      }
      for (const [k, val] of Object.entries(b.metadata as Record<string, unknown>)) {
        if (typeof val !== 'string' || k.length > 255 || val.length > 255 || k === '') {
          throw badRequest(`Invalid input for field/attribute metadata. Value: ${JSON.stringify(b.metadata)}.`);
        }
        metadata[k] = val;
      }
      const maxMeta = ctx.quotaLimit('compute', projectId, 'metadata_items');
      if (maxMeta >= 0 && Object.keys(metadata).length > maxMeta) {
        throw forbidden(`Maximum number of metadata items exceeds ${maxMeta}`);
      }
    }
    const minCount = b.min_count === undefined ? 1 : Number(b.min_count);
    const maxCount = b.max_count === undefined ? minCount : Number(b.max_count);
    if (!Number.isInteger(minCount) || !Number.isInteger(maxCount) || minCount < 1 || maxCount < minCount) {
      throw badRequest('Invalid input for field/attribute min_count/max_count.');
    }
    const networks = parseNetworks(req, b);
    if (maxCount > 1 && Array.isArray(networks) && networks.some((n) => n.portId)) {
      throw badRequest(
        'Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.',
      );
    }

    // Quotas: as many of max_count as fit, at least min_count (Nova's rule), else 403 with Nova's message.
    const used = m.usage(projectId);
    const limits = {
      instances: ctx.quotaLimit('compute', projectId, 'instances'),
      cores: ctx.quotaLimit('compute', projectId, 'cores'),
      ram: ctx.quotaLimit('compute', projectId, 'ram'),
    };
    const per = { instances: 1, cores: flavor.vcpus, ram: flavor.ram };
    let count = maxCount;
    const fits = (n: number) =>
      (Object.keys(per) as (keyof typeof per)[]).every((k) => limits[k] < 0 || used[k] + per[k] * n <= limits[k]);
    while (count >= minCount && !fits(count)) count--;
    if (count < minCount) {
      // Nova lists the exceeded resources sorted, each with what was asked, used and allowed.
      const over = (Object.keys(per) as (keyof typeof per)[])
        .filter((k) => limits[k] >= 0 && used[k] + per[k] * minCount > limits[k])
        .sort();
      const join = (f: (k: keyof typeof per) => number) => over.map(f).join(', ');
      throw forbidden(
        `Quota exceeded for ${over.join(', ')}: Requested ${join((k) => per[k] * minCount)}, but already used ${join((k) => used[k])} of ${join((k) => limits[k])} ${over.join(', ')}`,
      );
    }

    // Pick the networks when the request leaves it to Nova (pre-2.37 without `networks`, or "auto").
    let netPlan: NetRequest[] = [];
    if (networks === 'none') netPlan = [];
    else if (Array.isArray(networks)) netPlan = networks;
    else netPlan = autoNetworks(ctx, projectId, networks === 'auto' && v >= 37);

    const reservation = `r-${randomUUID().slice(0, 8)}`;
    const adminPass = typeof b.adminPass === 'string' ? b.adminPass : randomPassword();
    const created: ServerRow[] = [];
    const securityGroups = Array.isArray(b.security_groups)
      ? (b.security_groups as { name?: string }[]).map((g) => String(g?.name ?? 'default'))
      : ['default'];
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      const now = Date.now();
      const serverName = count > 1 ? `${name}-${i + 1}` : name;
      const s: ServerRow = {
        id,
        name: serverName,
        project_id: projectId,
        user_id: token.userId,
        vm_state: 'building',
        task_state: 'scheduling',
        power_state: POWER.NOSTATE,
        flavor: {
          id: flavor.id,
          name: flavor.name,
          vcpus: flavor.vcpus,
          ram: flavor.ram,
          disk: flavor.disk,
          ephemeral: flavor.ephemeral,
          swap: flavor.swap,
          extra_specs: { ...flavor.extra_specs },
        },
        image_id: bootFromVolume ? '' : imageId,
        key_name: keyName,
        metadata: { ...metadata },
        created: now,
        updated: now,
        launched_at: null,
        terminated_at: null,
        availability_zone: 'nova',
        config_drive: b.config_drive === true || b.config_drive === 'True' ? 'True' : '',
        description: v >= 19 && typeof b.description === 'string' ? b.description : null,
        tags: v >= 52 && Array.isArray(b.tags) ? (b.tags as unknown[]).map(String) : [],
        locked: false,
        locked_reason: null,
        access_ipv4: typeof b.accessIPv4 === 'string' ? b.accessIPv4 : '',
        access_ipv6: typeof b.accessIPv6 === 'string' ? b.accessIPv6 : '',
        security_groups: securityGroups,
        fault: null,
        volumes: [],
        user_data: typeof b.user_data === 'string' ? b.user_data : null,
        hostname: (typeof b.hostname === 'string' ? b.hostname : serverName)
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, '-')
          .slice(0, 63),
        reservation_id: reservation,
        launch_index: i,
        disk_config: b['OS-DCF:diskConfig'] === 'AUTO' ? 'AUTO' : 'MANUAL',
        pending: null,
        deleted: false,
        deleted_at: null,
      };
      m.servers.put(s);
      // Bind ports now, so bad networks/ports fail the request like Nova's API checks do.
      try {
        for (const n of netPlan) {
          ctx.internal.network.bindPort({
            projectId,
            serverId: id,
            ...(n.networkId ? { networkId: n.networkId } : {}),
            ...(n.portId ? { portId: n.portId } : {}),
            ...(n.fixedIp ? { fixedIp: n.fixedIp } : {}),
          });
        }
      } catch (e) {
        try {
          ctx.internal.network.releaseDevice(id);
        } catch {
          // nothing bound
        }
        m.servers.delete(id);
        for (const other of created) m.finalizeDelete(other);
        if (e instanceof InternalError) {
          if (e.status === 404) throw badRequest(e.message.replace(/^Port id/, 'Port id'));
          if (e.status === 409) throw conflict(e.message);
          if (e.status === 403) throw forbidden(`Maximum number of ports exceeded`);
          throw new NovaError(e.status >= 500 ? 400 : e.status, e.message);
        }
        throw e;
      }
      const fault = FAULT_METADATA_KEY in metadata;
      const pendingBuild = {
        kind: 'build' as const,
        until: volumeBdms.length ? Number.POSITIVE_INFINITY : now + ctx.transitionMs,
        vm_state: fault ? 'error' : 'active',
        power_state: fault ? POWER.NOSTATE : POWER.RUNNING,
        ...(fault
          ? {
              fault: {
                code: 500,
                message: metadata[FAULT_METADATA_KEY] || 'devcloud: injected build failure',
                details: `devcloud injected this fault through the '${FAULT_METADATA_KEY}' metadata key`,
                created: now + ctx.transitionMs,
              },
            }
          : {}),
      };
      recordAction(s, 'create', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId, fault);
      m.begin(s, pendingBuild, 'spawning');
      created.push(s);
      if (volumeBdms.length) {
        buildVolumes(ctx, m, s.id, projectId, token.userId, volumeBdms).catch((e: unknown) =>
          ctx.log.warn('nova: boot-from-volume build failed', { server: s.id, error: String(e) }),
        );
      }
    }
    const firstServer = created[0]!;
    reply.header('location', serverLinks(ctx, firstServer.id)[0]!.href);
    if (b.return_reservation_id === true || b.return_reservation_id === 'True') {
      return reply.code(202).send({ reservation_id: reservation });
    }
    return reply.code(202).send({
      server: {
        id: firstServer.id,
        links: serverLinks(ctx, firstServer.id),
        'OS-DCF:diskConfig': firstServer.disk_config,
        security_groups: securityGroups.map((n) => ({ name: n })),
        adminPass,
      },
    });
  });
}
