/**
 * Nova servers: create (networks via Neutron ports, boot from volume via block_device_mapping_v2, quotas),
 * list/detail with filters, sorting, `limit`/`marker` + `servers_links`, `changes-since`, show, update, delete.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { InternalError } from '../context.ts';
import { flavorIdFromRef, flavorTable, flavorVisible } from './flavors.ts';
import {
  badRequest,
  bodyOf,
  conflict,
  first,
  forbidden,
  mv,
  NovaError,
  nextLink,
  notFound,
  parseLimit,
  projectOf,
  queryOf,
  requiredProperty,
  tokenOf,
} from './http.ts';
import { keypairTable } from './keypairs.ts';
import {
  FAULT_METADATA_KEY,
  type NovaModel,
  POWER,
  randomPassword,
  recordAction,
  type ServerRow,
  type ServerVolume,
  STATUS_FILTER,
  statusOf,
} from './model.ts';
import { addressesOf, renderServer, renderServerSummary, serverLinks } from './render.ts';

/** Get a server the token may see (own project; admin: any), settled; 404 like Nova otherwise. */
export function getServer(m: NovaModel, token: TokenInfo, id: string, forAction = false): ServerRow {
  // Nova words a missing server differently on the action path (it looks up the cell mapping first).
  const missing = () =>
    notFound(forAction ? `Instance ${id} has no mapping to a cell.` : `Instance ${id} could not be found.`);
  const s = m.servers.get(id);
  if (!s || s.deleted || !(token.isAdmin || s.project_id === token.projectId)) throw missing();
  m.settle(s);
  if (s.deleted) throw missing();
  return s;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function imageIdFromRef(ref: unknown): string {
  const s = String(ref ?? '');
  return s.includes('/') ? (s.split('/').filter(Boolean).pop() ?? '') : s;
}

function parseIsoTime(raw: string, name: string): number {
  const t = Date.parse(raw.includes('T') || raw.includes(' ') ? raw : `${raw}T00:00:00Z`);
  if (Number.isNaN(t)) {
    throw badRequest(`Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a 'date-time'`);
  }
  return t;
}

/** Check an image for a boot (Glance through internal.images; a cloud without Glance accepts any id). */
function checkImage(
  ctx: CloudContext,
  imageId: string,
  flavor: { disk: number; ram: number },
  bootFromVolume: boolean,
) {
  let img: ReturnType<CloudContext['internal']['images']['get']>;
  try {
    img = ctx.internal.images.get(imageId);
  } catch (e) {
    if (e instanceof InternalError && e.status === 503) return;
    throw e;
  }
  if (!img) throw badRequest('Can not find requested image');
  if (img.status !== 'active') throw badRequest(`Image ${imageId} is not active.`);
  if (img.minRam > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
  if (!bootFromVolume && flavor.disk > 0) {
    if (img.minDisk > flavor.disk) throw badRequest("Flavor's disk is too small for requested image.");
    if (img.size !== null && img.size > flavor.disk * 1024 ** 3) {
      throw badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * 1024 ** 3} bytes, image is ${img.size} bytes.`,
      );
    }
  }
}

interface BdmPlan {
  bootIndex: number | null;
  source: 'image' | 'volume' | 'blank' | 'snapshot';
  uuid: string | null;
  size: number | null;
  deleteOnTermination: boolean;
  tag: string | null;
}

function parseBdms(raw: unknown): BdmPlan[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw badRequest('Block Device Mapping is Invalid: block_device_mapping_v2 must be a list.');
  const out: BdmPlan[] = [];
  for (const item of raw as Record<string, unknown>[]) {
    const source = String(item?.source_type ?? '');
    const dest = String(item?.destination_type ?? (source === 'image' ? 'local' : 'volume'));
    if (!['image', 'volume', 'blank', 'snapshot'].includes(source)) {
      throw badRequest(`Block Device Mapping is Invalid: Unrecognized source_type ${source}.`);
    }
    const bootIndexRaw = item.boot_index;
    const bootIndex =
      bootIndexRaw === undefined || bootIndexRaw === null || bootIndexRaw === 'none' || Number(bootIndexRaw) < 0
        ? null
        : Number(bootIndexRaw);
    if (dest === 'local') {
      // An image to local disk is the ordinary image boot; blanks to local disk are ephemerals (ignored here).
      if (source === 'image' && bootIndex === 0) {
        out.push({
          bootIndex,
          source,
          uuid: String(item.uuid ?? ''),
          size: null,
          deleteOnTermination: true,
          tag: null,
        });
      }
      continue;
    }
    const size = item.volume_size === undefined || item.volume_size === null ? null : Number(item.volume_size);
    if (size !== null && (!Number.isInteger(size) || size < 1)) {
      throw badRequest(`Block Device Mapping is Invalid: volume_size ${String(item.volume_size)} is invalid.`);
    }
    if ((source === 'image' || source === 'blank') && size === null) {
      throw badRequest('Block Device Mapping is Invalid: You specified more local devices than the limit allows');
    }
    if (source !== 'blank' && typeof item.uuid !== 'string') {
      throw badRequest(`Block Device Mapping is Invalid: Missing uuid for source_type ${source}.`);
    }
    out.push({
      bootIndex,
      source: source as BdmPlan['source'],
      uuid: typeof item.uuid === 'string' ? item.uuid : null,
      size,
      deleteOnTermination: Boolean(item.delete_on_termination),
      tag: typeof item.tag === 'string' ? item.tag : null,
    });
  }
  return out;
}

export function deviceName(index: number): string {
  return `/dev/vd${String.fromCharCode('a'.charCodeAt(0) + index)}`;
}

/** The next free /dev/vdX of a server. */
export function nextDevice(s: ServerRow): string {
  const used = new Set(s.volumes.map((v) => v.device));
  for (let i = s.image_id ? 1 : 0; i < 26; i++) if (!used.has(deviceName(i))) return deviceName(i);
  throw conflict('No free disk device names for prefix vd');
}

type NetRequest = { networkId?: string; portId?: string; fixedIp?: string };

function parseNetworks(req: FastifyRequest, body: Record<string, unknown>): NetRequest[] | 'auto' | 'none' {
  const raw = body.networks;
  const v = mv(req);
  if (raw === undefined) {
    if (v >= 37) throw requiredProperty('server', body, 'networks');
    return 'auto';
  }
  if (raw === 'auto' || raw === 'none') {
    if (v < 37)
      throw badRequest(`Invalid input for field/attribute networks. Value: ${raw}. '${raw}' is not of type 'array'`);
    return raw;
  }
  if (!Array.isArray(raw))
    throw badRequest(`Invalid input for field/attribute networks. Value: ${JSON.stringify(raw)}.`);
  return (raw as Record<string, unknown>[]).map((n) => {
    const r: NetRequest = {};
    if (typeof n?.port === 'string' && n.port) r.portId = n.port;
    else if (typeof n?.uuid === 'string' && n.uuid) r.networkId = n.uuid;
    else throw badRequest('Bad networks format: network uuid is not in proper format');
    if (typeof n.fixed_ip === 'string') r.fixedIp = n.fixed_ip;
    return r;
  });
}

export function serverRoutes(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  const flavors = flavorTable(ctx);
  const keypairs = keypairTable(ctx);

  // ---- create --------------------------------------------------------------------------------------------
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

  // ---- list ----------------------------------------------------------------------------------------------
  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const token = tokenOf(req);
    const q = queryOf(req);
    const allTenantsRaw = first(q.all_tenants);
    const allTenants =
      allTenantsRaw !== undefined && !['0', 'false', 'False', 'f', 'off', 'no'].includes(allTenantsRaw);
    if (allTenants && !token.isAdmin) {
      throw forbidden("Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.");
    }
    const changesSince = first(q['changes-since']);
    const changesBefore = first(q['changes-before']);
    const since = changesSince !== undefined ? parseIsoTime(changesSince, 'changes-since') : undefined;
    const before = changesBefore !== undefined ? parseIsoTime(changesBefore, 'changes-before') : undefined;
    if (since !== undefined && before !== undefined && since > before) {
      throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    }
    const deletedRaw = first(q.deleted);
    const includeDeleted = since !== undefined || before !== undefined || (token.isAdmin && deletedRaw === 'true');
    let rows = m.settleAll(m.servers.all());
    if (!includeDeleted) rows = rows.filter((s) => !s.deleted);
    else if (deletedRaw === 'true' && token.isAdmin) rows = rows.filter((s) => s.deleted);

    const project = first(q.project_id) ?? first(q.tenant_id);
    if (allTenants) {
      if (project) rows = rows.filter((s) => s.project_id === project);
    } else {
      rows = rows.filter((s) => s.project_id === token.projectId);
    }
    if (since !== undefined) rows = rows.filter((s) => s.updated >= since);
    if (before !== undefined) rows = rows.filter((s) => s.updated <= before);

    const name = first(q.name);
    if (name !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(name);
      } catch {
        re = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      rows = rows.filter((s) => re.test(s.name));
    }
    const statuses =
      q.status === undefined ? [] : (Array.isArray(q.status) ? q.status : [q.status]).map((x) => x.toUpperCase());
    if (statuses.length) {
      for (const st of statuses) {
        if (!STATUS_FILTER[st]) throw badRequest(`Invalid status value`);
      }
      rows = rows.filter((s) => statuses.includes(statusOf(s)) || (statuses.includes('DELETED') && s.deleted));
    }
    const image = first(q.image);
    if (image !== undefined) rows = rows.filter((s) => s.image_id === imageIdFromRef(image));
    const flavor = first(q.flavor);
    if (flavor !== undefined) rows = rows.filter((s) => s.flavor.id === flavorIdFromRef(flavor));
    const az = first(q.availability_zone);
    if (az !== undefined) rows = rows.filter((s) => s.availability_zone === az);
    const keyName = first(q.key_name);
    if (keyName !== undefined) rows = rows.filter((s) => s.key_name === keyName);
    const locked = first(q.locked);
    if (locked !== undefined && mv(req) >= 73)
      rows = rows.filter((s) => s.locked === (locked.toLowerCase() === 'true'));
    const ip = first(q.ip) ?? first(q.ip6);
    if (ip !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(ip);
      } catch {
        re = new RegExp(ip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      rows = rows.filter((s) =>
        Object.values(addressesOf(ctx, s.id)).some((list) => list.some((a) => re.test(a.addr))),
      );
    }
    const tagFilter = (key: string, pred: (have: Set<string>, want: string[]) => boolean) => {
      const raw = first(q[key]);
      if (raw === undefined) return;
      const want = raw.split(',').filter(Boolean);
      rows = rows.filter((s) => pred(new Set(s.tags), want));
    };
    tagFilter('tags', (h, w) => w.every((t) => h.has(t)));
    tagFilter('tags-any', (h, w) => w.some((t) => h.has(t)));
    tagFilter('not-tags', (h, w) => !w.every((t) => h.has(t)));
    tagFilter('not-tags-any', (h, w) => !w.some((t) => h.has(t)));

    // Sort: Nova's default is created_at desc (then id), any of its sort keys otherwise.
    const keys = q.sort_key === undefined ? ['created_at'] : Array.isArray(q.sort_key) ? q.sort_key : [q.sort_key];
    const dirs = q.sort_dir === undefined ? [] : Array.isArray(q.sort_dir) ? q.sort_dir : [q.sort_dir];
    const value = (s: ServerRow, key: string): string | number => {
      switch (key) {
        case 'created_at':
          return s.created;
        case 'updated_at':
          return s.updated;
        case 'launched_at':
          return s.launched_at ?? 0;
        case 'display_name':
        case 'name':
          return s.name;
        case 'uuid':
        case 'id':
          return s.id;
        case 'vm_state':
          return s.vm_state;
        case 'task_state':
          return s.task_state ?? '';
        case 'power_state':
          return s.power_state;
        case 'key_name':
          return s.key_name ?? '';
        case 'availability_zone':
          return s.availability_zone;
        case 'instance_type_id':
        case 'flavor':
          return s.flavor.id;
        case 'image_ref':
          return s.image_id;
        case 'project_id':
          return s.project_id;
        case 'user_id':
          return s.user_id;
        case 'hostname':
          return s.hostname;
        default:
          throw badRequest(`Invalid input for query parameters sort_key. Value: ${key}.`);
      }
    };
    rows.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const x = value(a, keys[i]!);
        const y = value(b, keys[i]!);
        const c = x < y ? -1 : x > y ? 1 : 0;
        if (c !== 0) return (dirs[i] ?? 'desc') === 'asc' ? c : -c;
      }
      return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
    });

    const marker = first(q.marker);
    if (marker !== undefined) {
      const i = rows.findIndex((s) => s.id === marker);
      if (i < 0) throw badRequest(`marker [${marker}] not found`);
      rows = rows.slice(i + 1);
    }
    // Nova caps every page at its max_limit (1000) and links to the rest, with or without `limit`.
    const limit = parseLimit(first(q.limit)) ?? (rows.length > 1000 ? 1000 : undefined);
    if (limit !== undefined) rows = rows.slice(0, limit);
    const body: Record<string, unknown> = {
      servers: rows.map((s) => (detail ? renderServer(ctx, req, token, s) : renderServerSummary(ctx, s))),
    };
    if (limit !== undefined && limit > 0 && rows.length === limit) {
      body.servers_links = nextLink(
        ctx,
        `/compute/v2.1/servers${detail ? '/detail' : ''}`,
        q,
        rows[rows.length - 1]!.id,
      );
    }
    return body;
  };
  app.get('/v2.1/servers', list(false));
  app.get('/v2.1/servers/detail', list(true));

  // ---- show / update / delete ----------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id', async (req) => {
    const token = tokenOf(req);
    return { server: renderServer(ctx, req, token, getServer(m, token, req.params.id), { show: true }) };
  });

  app.put<{ Params: { id: string } }>('/v2.1/servers/:id', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const b = bodyOf(req, 'server');
    const allowed = [
      'name',
      'accessIPv4',
      'accessIPv6',
      'OS-DCF:diskConfig',
      ...(mv(req) >= 19 ? ['description'] : []),
      ...(mv(req) >= 90 ? ['hostname'] : []),
    ];
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (extra.length) {
      throw badRequest(
        `Invalid input for field/attribute server. Value: ${JSON.stringify(b)}. Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`,
      );
    }
    if (b.name !== undefined) {
      if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > 255)
        throw badRequest(`Invalid input for field/attribute name. Value: ${String(b.name)}.`);
      s.name = b.name;
    }
    if (typeof b.accessIPv4 === 'string') s.access_ipv4 = b.accessIPv4;
    if (typeof b.accessIPv6 === 'string') s.access_ipv6 = b.accessIPv6;
    if (b.description !== undefined) s.description = b.description === null ? null : String(b.description);
    if (typeof b.hostname === 'string') s.hostname = b.hostname;
    if (b['OS-DCF:diskConfig'] === 'AUTO' || b['OS-DCF:diskConfig'] === 'MANUAL')
      s.disk_config = b['OS-DCF:diskConfig'];
    s.updated = Date.now();
    m.servers.put(s);
    return { server: renderServer(ctx, req, token, s, { show: true }) };
  });

  app.delete<{ Params: { id: string } }>('/v2.1/servers/:id', async (req, reply) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    if (s.locked && !token.isAdmin) throw conflict(`Instance ${s.id} is locked`);
    if (s.pending?.kind !== 'delete') {
      recordAction(s, 'delete', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId);
      m.begin(
        s,
        { kind: 'delete', until: Date.now() + ctx.transitionMs, vm_state: s.vm_state, power_state: s.power_state },
        'deleting',
      );
    }
    return reply.code(204).send();
  });

  // ---- ips -----------------------------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/ips', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    return { addresses: addressesOf(ctx, s.id) };
  });
  app.get<{ Params: { id: string; net: string } }>('/v2.1/servers/:id/ips/:net', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const addrs = addressesOf(ctx, s.id)[req.params.net];
    if (!addrs) throw notFound('Instance is not a member of specified network');
    return { [req.params.net]: addrs.map((a) => ({ version: a.version, addr: a.addr })) };
  });
}

/** Networks Nova would choose on its own: the project's (and shared) networks when exactly one is usable. */
function autoNetworks(ctx: CloudContext, projectId: string, explicitAuto: boolean): NetRequest[] {
  const nets = ctx.store
    .table<{ id: string; project_id: string; shared: boolean; 'router:external': boolean; status: string }>(
      'neutron_networks',
    )
    .filter((n) => (n.project_id === projectId || n.shared) && !n['router:external']);
  if (nets.length === 0) {
    if (explicitAuto) {
      throw badRequest(`Unable to automatically allocate a network for project ${projectId}`);
    }
    return [];
  }
  if (nets.length > 1) {
    throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
  }
  return [{ networkId: nets[0]!.id }];
}

/** Boot from volume: create the volumes Cinder should make, attach them, then let the build settle. */
async function buildVolumes(
  ctx: CloudContext,
  m: NovaModel,
  serverId: string,
  projectId: string,
  userId: string,
  bdms: BdmPlan[],
): Promise<void> {
  const ordered = [...bdms].sort((a, b) => (a.bootIndex ?? 99) - (b.bootIndex ?? 99));
  const made: ServerVolume[] = [];
  let failure: string | undefined;
  for (const d of ordered) {
    if (d.source === 'image' && d.size === null) continue;
    try {
      let volumeId: string;
      if (d.source === 'volume') volumeId = d.uuid!;
      else {
        const vol = await ctx.internal.volumes.create({
          projectId,
          userId,
          size: d.size ?? 1,
          ...(d.source === 'image' && d.uuid ? { imageId: d.uuid } : {}),
          ...(d.source === 'snapshot' && d.uuid ? { snapshotId: d.uuid } : {}),
        });
        volumeId = vol.id;
      }
      const s = m.servers.get(serverId);
      if (!s || s.deleted) {
        if (d.source !== 'volume' && d.deleteOnTermination) ctx.internal.volumes.delete(volumeId);
        continue;
      }
      const device = d.bootIndex === 0 ? deviceName(0) : nextDevice({ ...s, volumes: [...s.volumes, ...made] });
      ctx.internal.volumes.attach(volumeId, serverId, device);
      const entry: ServerVolume = {
        id: volumeId,
        device,
        delete_on_termination: d.deleteOnTermination,
        boot_index: d.bootIndex,
        attachment_id: randomUUID(),
        tag: d.tag,
      };
      made.push(entry);
      s.volumes.push(entry);
      m.servers.put(s);
    } catch (e) {
      failure = `Build of instance ${serverId} aborted: ${e instanceof Error ? e.message : String(e)}`;
      break;
    }
  }
  const s = m.servers.get(serverId);
  if (!s || s.deleted || !s.pending) return;
  if (s.pending.kind === 'delete') {
    // Deleted while its volumes were being made: the delete settles on its own schedule and releases them.
    return;
  }
  const until = Date.now() + ctx.transitionMs;
  s.pending = failure
    ? {
        kind: 'build',
        until,
        vm_state: 'error',
        power_state: POWER.NOSTATE,
        fault: { code: 500, message: failure, details: failure, created: until },
      }
    : { ...s.pending, until };
  m.servers.put(s);
  m.schedule(s.id, until);
}
