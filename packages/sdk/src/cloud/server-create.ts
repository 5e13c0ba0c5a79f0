/**
 * Creating a server (openstacksdk `cloud/_compute.py` `create_server`): image, flavor, networks, volumes and
 * server group given by name, id or object; NICs and block devices built as Nova wants them; then a wait for
 * ACTIVE (server-wait.ts) or one GET.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { collect } from '../services/common.ts';
import type { CreateServerRequest } from '../services/compute.ts';
import { type CloudCore, type Ref, resolveId } from './core.ts';
import { filterList, single } from './filter.ts';
import { getFlavor } from './flavors.ts';
import { getImage } from './images.ts';
import { getNetwork } from './networks.ts';
import { serverError, waitForServer } from './server-wait.ts';
import { getServerById } from './servers.ts';
import type { Server } from './types.ts';
import { getVolume } from './volumes.ts';

export interface CreateServerOptions {
  name: string;
  /** Image name, id or object. Required unless `bootVolume` is given. */
  image?: Ref | undefined;
  flavor: Ref;
  /** Network(s) by name, id or object. Ignored when `nics` is given. */
  network?: Ref | Ref[] | undefined;
  /** Nova-client style NICs: `net-id` / `net-name` / `port-id` / `fixed_ip` (`v4-fixed-ip`, `v6-fixed-ip`). */
  nics?: Record<string, string>[] | undefined;
  keyName?: string | undefined;
  /** Sent base64-encoded. */
  userdata?: string | Uint8Array | undefined;
  /** Server metadata (`meta` in shade). */
  metadata?: Record<string, string> | undefined;
  securityGroups?: string | string[] | undefined;
  availabilityZone?: string | undefined;
  configDrive?: boolean | undefined;
  adminPass?: string | undefined;
  /** Sent as `os:scheduler_hints`. */
  schedulerHints?: Record<string, unknown> | undefined;
  /** Server group (name, id or object): becomes the `group` scheduler hint. */
  group?: Ref | undefined;
  /** Create a volume from the image and boot from it. */
  bootFromVolume?: boolean | undefined;
  /** GiB of the boot volume (default 50). */
  volumeSize?: number | undefined;
  /** Boot from this existing volume (name, id or object). */
  bootVolume?: Ref | undefined;
  /** Delete the boot volume with the server. */
  terminateVolume?: boolean | undefined;
  /** Extra volumes to attach at boot. */
  volumes?: Ref[] | undefined;
  /** Wait until ACTIVE with an address (waitForServer). Default false. */
  wait?: boolean | undefined;
  timeoutMs?: number | undefined;
  autoIp?: boolean | undefined;
  reuseIps?: boolean | undefined;
  /** With `wait`: called with the server at each poll. */
  onProgress?: ((server: Server) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Compute microversion for the create call. */
  microversion?: string | undefined;
}

type ServerNic = { uuid?: string; port?: string; fixed_ip?: string };

/** The `networks` of the create request: from nova-client style `nics`, from `network`, or the default network. */
async function networksFor(core: CloudCore, o: CreateServerOptions): Promise<ServerNic[]> {
  const networks: ServerNic[] = [];
  if (o.nics?.length) {
    for (const nic of o.nics) {
      const net: ServerNic = {};
      const rest = { ...nic };
      if (rest['net-id']) net.uuid = rest['net-id'];
      else if (rest['net-name']) net.uuid = await resolveId(rest['net-name'], 'network', (n) => getNetwork(core, n));
      delete rest['net-id'];
      delete rest['net-name'];
      for (const k of ['v4-fixed-ip', 'v6-fixed-ip', 'fixed_ip']) {
        if (rest[k]) {
          if (net.fixed_ip) {
            throw new OcxError(ErrorCode.BAD_REQUEST, 'only one of v4-fixed-ip, v6-fixed-ip or fixed_ip may be given');
          }
          net.fixed_ip = rest[k];
        }
        delete rest[k];
      }
      for (const k of ['port', 'port-id']) {
        if (rest[k]) net.port = rest[k];
        delete rest[k];
      }
      if (Object.keys(rest).length) {
        throw new OcxError(ErrorCode.BAD_REQUEST, `unsupported nic keys: ${Object.keys(rest).join(', ')}`);
      }
      networks.push(net);
    }
  } else if (o.network !== undefined) {
    for (const n of Array.isArray(o.network) ? o.network : [o.network]) {
      networks.push({ uuid: await resolveId(n, 'network', (x) => getNetwork(core, x)) });
    }
  } else {
    const dflt = core.networkConfig.find((n) => n.default_interface)?.name;
    if (dflt) networks.push({ uuid: await resolveId(dflt, 'network', (x) => getNetwork(core, x)) });
  }
  return networks;
}

/**
 * Block device mapping v2: the boot volume (an existing volume, or one made from the image), the local image disk
 * when extra volumes are attached to an image boot, then the extra volumes.
 */
async function blockDevicesFor(
  core: CloudCore,
  o: CreateServerOptions,
  imageId: string | undefined,
): Promise<Record<string, unknown>[]> {
  const bdm: Record<string, unknown>[] = [];
  if (o.bootVolume) {
    const volumeId = await resolveId(o.bootVolume, 'volume', (n) => getVolume(core, n));
    bdm.push({
      boot_index: '0',
      delete_on_termination: o.terminateVolume === true,
      destination_type: 'volume',
      uuid: volumeId,
      source_type: 'volume',
    });
  } else if (o.bootFromVolume) {
    bdm.push({
      boot_index: '0',
      delete_on_termination: o.terminateVolume === true,
      destination_type: 'volume',
      uuid: imageId,
      source_type: 'image',
      volume_size: String(o.volumeSize ?? 50),
    });
  }
  if (o.volumes?.length && imageId && !o.bootVolume && !o.bootFromVolume) {
    bdm.push({
      boot_index: 0,
      delete_on_termination: true,
      destination_type: 'local',
      source_type: 'image',
      uuid: imageId,
    });
  }
  for (const v of o.volumes ?? []) {
    bdm.push({
      boot_index: '-1',
      delete_on_termination: false,
      destination_type: 'volume',
      uuid: await resolveId(v, 'volume', (n) => getVolume(core, n)),
      source_type: 'volume',
    });
  }
  return bdm;
}

/** shade's create_server: names/ids/objects resolved, BDM v2 for volumes, userdata base64, then wait or one GET. */
export async function createServer(core: CloudCore, o: CreateServerOptions): Promise<Server> {
  if (!o.image && !o.bootVolume) {
    throw new OcxError(ErrorCode.BAD_REQUEST, 'createServer needs an image or a bootVolume');
  }
  const body: CreateServerRequest = {
    name: o.name,
    flavorRef: await resolveId(o.flavor, 'flavor', (n) => getFlavor(core, n)),
    min_count: 1,
    max_count: 1,
  };
  const imageId = o.image ? await resolveId(o.image, 'image', (n) => getImage(core, n)) : undefined;
  if (imageId) body.imageRef = imageId;

  const sgs =
    o.securityGroups === undefined ? [] : Array.isArray(o.securityGroups) ? o.securityGroups : [o.securityGroups];
  if (sgs.length) body.security_groups = sgs.map((name) => ({ name }));
  if (o.userdata !== undefined && o.userdata !== '') {
    body.user_data = Buffer.from(
      typeof o.userdata === 'string' ? Buffer.from(o.userdata, 'utf8') : o.userdata,
    ).toString('base64');
  }
  if (o.keyName) body.key_name = o.keyName;
  if (o.metadata && Object.keys(o.metadata).length) body.metadata = o.metadata;
  if (o.availabilityZone) body.availability_zone = o.availabilityZone;
  if (o.configDrive) body.config_drive = true;
  if (o.adminPass) body.adminPass = o.adminPass;

  const networks = await networksFor(core, o);
  if (networks.length) body.networks = networks;
  const bdm = await blockDevicesFor(core, o, imageId);
  if (bdm.length) {
    body.block_device_mapping_v2 = bdm;
    if (o.bootVolume || o.bootFromVolume) body.imageRef = '';
  }

  const hints: Record<string, unknown> = { ...(o.schedulerHints ?? {}) };
  if (o.group) {
    hints.group = await resolveId(o.group, 'server group', async (n) =>
      single(filterList(await collect(core.compute.listServerGroups()), n), 'server group', n),
    );
  }
  const created = await core.compute.createServer(body, {
    signal: o.signal,
    microversion: o.microversion,
    schedulerHints: hints,
  });
  const adminPass = created.adminPass ?? o.adminPass;
  let server: Server;
  if (o.wait) {
    server = await waitForServer(
      core,
      { id: created.id },
      { timeoutMs: o.timeoutMs, autoIp: o.autoIp, reuse: o.reuseIps, signal: o.signal, onProgress: o.onProgress },
    );
  } else {
    const got = await getServerById(core, created.id);
    if (!got) {
      throw new OcxError(ErrorCode.RESOURCE_FAILED, `server ${created.id} vanished right after creation`, {
        resourceId: created.id,
      });
    }
    if (got.status === 'ERROR') throw serverError(got);
    server = got;
  }
  return adminPass ? { ...server, admin_password: adminPass } : server;
}
