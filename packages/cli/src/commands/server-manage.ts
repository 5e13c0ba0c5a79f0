/**
 * `server create`, `server show`, `server delete`: python-openstackclient's options and fields, on the SDK's cloud
 * layer, on each chosen cloud.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CloudLayer, connectionInProject, ErrorCode, looksLikeId, OcxError, type Server } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context.ts';
import { Cell, type Row } from '../output.ts';
import { ProgressLine } from '../progress.ts';
import { reportFatal, runEach, withOutputOptions } from '../run.ts';
import { collectValues, deleteCommand, mustFind, networks, parseProperties, sortedRow } from './common.ts';

/** How long `--wait` may take per cloud when `--timeout` is not given (OSC waits without limit). */
const WAIT_DEADLINE_MS = 30 * 60_000;

/** Nova's power states as OSC prints them. */
const POWER_STATES: Record<number, string> = {
  0: 'NOSTATE',
  1: 'Running',
  3: 'Paused',
  4: 'Shutdown',
  6: 'Crashed',
  7: 'Suspended',
};

/** A server by id (one GET) or name (the list); NOT_FOUND with OSC's message. */
export function findServer(cloud: CloudLayer, ref: string): Promise<Server> {
  return mustFind(
    'server',
    ref,
    async (r) => (looksLikeId(r) ? await cloud.getServerById(r) : null) ?? cloud.getServer(r),
  );
}

/** `name (id)` for the image and flavor, as OSC shows them; ids alone when the name cannot be looked up. */
async function imageAndFlavor(cloud: CloudLayer, s: Server): Promise<{ image: string; flavor: string }> {
  const imageId = s.image.id;
  const flavorId = s.flavor.id;
  const [img, flv] = await Promise.all([
    imageId ? cloud.getImage(imageId).catch(() => null) : null,
    flavorId && !s.flavor.original_name ? cloud.getFlavor(flavorId).catch(() => null) : null,
  ]);
  const image = imageId ? (img ? `${img.name} (${imageId})` : imageId) : 'N/A (booted from volume)';
  const flavor = s.flavor.original_name ?? (flavorId ? (flv ? `${flv.name} (${flavorId})` : flavorId) : '');
  return { image, flavor };
}

/** The fields of `openstack server show`, sorted as OSC prints them; `fault` and `adminPass` only when present. */
export async function serverRow(cloud: CloudLayer, s: Server): Promise<Row> {
  const { image, flavor } = await imageAndFlavor(cloud, s);
  const row: Row = {
    'OS-EXT-AZ:availability_zone': s.location.zone ?? '',
    'OS-DCF:diskConfig': s.properties['OS-DCF:diskConfig'],
    'OS-EXT-STS:power_state':
      s.power_state === null ? null : new Cell(POWER_STATES[s.power_state] ?? String(s.power_state), s.power_state),
    'OS-EXT-STS:task_state': s.task_state,
    'OS-EXT-STS:vm_state': s.vm_state,
    'OS-SRV-USG:launched_at': s.launched_at,
    'OS-SRV-USG:terminated_at': s.terminated_at,
    accessIPv4: s.accessIPv4,
    accessIPv6: s.accessIPv6,
    addresses: networks(s.addresses),
    config_drive: s.has_config_drive ? 'True' : '',
    created: s.created,
    flavor,
    hostId: s.host_id,
    id: s.id,
    image,
    key_name: s.key_name,
    name: s.name,
    progress: s.progress,
    project_id: s.location.project.id,
    properties: s.metadata,
    security_groups: s.security_groups.map((g) => ({ name: g.name })),
    status: s.status,
    updated: s.updated,
    user_id: s.user_id,
    volumes_attached: s.volumes.map((v) => ({ id: v.id })),
  };
  if (row['OS-DCF:diskConfig'] === undefined) delete row['OS-DCF:diskConfig'];
  if (s.fault) row.fault = s.fault;
  if (s.admin_password) row.adminPass = s.admin_password;
  return sortedRow(row);
}

interface CreateOptions {
  image?: string;
  volume?: string;
  flavor: string;
  network: string[];
  nic: string[];
  keyName?: string;
  userData?: string;
  property: string[];
  securityGroup: string[];
  availabilityZone?: string;
  bootFromVolume?: string;
  configDrive?: boolean;
  wait?: boolean;
  format?: string;
  project?: string;
}

/** `--nic net-id=X,v4-fixed-ip=Y` → `{ 'net-id': X, 'v4-fixed-ip': Y }`. */
function parseNic(spec: string): Record<string, string> {
  return parseProperties(spec.split(','), '--nic');
}

function createRequest(name: string, o: CreateOptions, cwd: string) {
  if (!o.image && !o.volume) throw new OcxError(ErrorCode.BAD_REQUEST, 'either --image or --volume is required');
  let userdata: Buffer | undefined;
  if (o.userData !== undefined) {
    try {
      userdata = readFileSync(resolve(cwd, o.userData));
    } catch (err) {
      throw new OcxError(
        ErrorCode.BAD_REQUEST,
        `cannot read --user-data file '${o.userData}': ${(err as Error).message}`,
      );
    }
  }
  let volumeSize: number | undefined;
  if (o.bootFromVolume !== undefined) {
    volumeSize = Number(o.bootFromVolume);
    if (!Number.isInteger(volumeSize) || volumeSize < 1)
      throw new OcxError(ErrorCode.BAD_REQUEST, `--boot-from-volume expects a size in GiB, got '${o.bootFromVolume}'`);
  }
  return {
    name,
    image: o.image,
    bootVolume: o.volume,
    flavor: o.flavor,
    network: o.network.length ? o.network : undefined,
    nics: o.nic.length ? o.nic.map(parseNic) : undefined,
    keyName: o.keyName,
    userdata,
    metadata: parseProperties(o.property),
    securityGroups: o.securityGroup.length ? o.securityGroup : undefined,
    availabilityZone: o.availabilityZone,
    bootFromVolume: volumeSize !== undefined,
    volumeSize,
    configDrive: o.configDrive,
  };
}

/** `server create | show | delete` on the `server` command (server.ts registers them with `server list`). */
export function registerServerManage(server: Command, ctx: CliContext): void {
  withOutputOptions(server.command('create').description('Create a new server').argument('<server-name>'))
    .option('--image <image>', 'create server boot disk from this image (name or ID)')
    .option('--volume <volume>', 'create server using this volume as the boot disk (name or ID)')
    .requiredOption('--flavor <flavor>', 'create server with this flavor (name or ID)')
    .option('--network <network>', 'create a NIC on this network (name or ID; repeatable)', collectValues, [])
    .option(
      '--nic <net-id=net-uuid,v4-fixed-ip=ip-addr,port-id=port-uuid>',
      'a NIC, nova style (repeatable)',
      collectValues,
      [],
    )
    .option('--key-name <key-name>', 'keypair to inject into this server')
    .option('--user-data <user-data>', 'user data file to serve from the metadata server')
    .option('--property <key=value>', 'set a property on this server (repeatable)', collectValues, [])
    .option('--security-group <security-group>', 'security group to assign (name or ID; repeatable)', collectValues, [])
    .option('--availability-zone <zone-name>', 'select an availability zone for the server')
    .option('--boot-from-volume <volume-size>', 'create a volume of this size (GiB) from --image and boot from it')
    .option('--config-drive', 'enable config drive')
    .option('--wait', 'wait for build to complete')
    .option('--project <project>', 'create the server in this project (name or ID)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals() as CreateOptions & GlobalOptions;
      let req: ReturnType<typeof createRequest>;
      try {
        req = createRequest(name, o, ctx.cwd);
      } catch (err) {
        reportFatal(ctx, err);
        return;
      }
      const progress = new ProgressLine(ctx, o.format);
      await runEach(
        cmd,
        ctx,
        async (conn, fctx) => {
          // --project (issue 14): the server is created by a connection scoped to that project.
          const cloud = (o.project ? await connectionInProject(conn, o.project) : conn).cloudLayer;
          const s = await cloud.createServer({
            ...req,
            wait: o.wait === true,
            // As OSC: --wait waits for ACTIVE (or ERROR); it does not attach floating IPs.
            autoIp: false,
            timeoutMs: fctx.deadline - Date.now(),
            signal: fctx.signal,
            onProgress: (cur) => progress.update(conn.name, `${cur.status} ${cur.progress}%`),
          });
          return serverRow(cloud, s);
        },
        { defaultDeadlineMs: o.wait ? WAIT_DEADLINE_MS : undefined, beforeOutput: () => progress.done() },
      );
    });

  withOutputOptions(server.command('show').description('Show server details').argument('<server>')).action(
    async (ref: string, _opts: unknown, cmd: Command) => {
      await runEach(cmd, ctx, async (conn) => serverRow(conn.cloudLayer, await findServer(conn.cloudLayer, ref)));
    },
  );

  deleteCommand<{ wait?: boolean }>(server, ctx, {
    kind: 'server',
    description: 'Delete server(s)',
    options: (c) => c.option('--wait', 'wait for delete to complete'),
    deadlineMs: (opts) => (opts.wait ? WAIT_DEADLINE_MS : undefined),
    del: async (cloud, ref, opts, fctx) =>
      cloud.deleteServer(
        { id: (await findServer(cloud, ref)).id },
        { wait: opts.wait === true, timeoutMs: fctx.deadline - Date.now(), signal: fctx.signal },
      ),
  });
}
