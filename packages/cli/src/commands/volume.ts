import { type CinderVolume, connectionInProject, type Volume } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { reportFatal, runEach, runList, withOutputOptions } from '../run.ts';
import { collectValues, deleteCommand, findVolume, parseProperties, sortedRow } from './common.ts';

export const VOLUME_COLUMNS = ['ID', 'Name', 'Status', 'Size', 'Attached to'];

/** The fields of `openstack volume create` (Cinder's create answer), sorted as OSC prints them. */
function volumeRow(v: Volume): Row {
  return sortedRow({
    attachments: v.attachments,
    availability_zone: v.location.zone,
    bootable: String(v.is_bootable),
    consistencygroup_id: v.properties.consistencygroup_id ?? null,
    created_at: v.created_at,
    description: v.description,
    encrypted: v.is_encrypted,
    id: v.id,
    multiattach: v.is_multiattach,
    name: v.name,
    properties: v.metadata,
    replication_status: v.properties.replication_status ?? null,
    size: v.size,
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volume_id,
    status: v.status,
    type: v.volume_type,
    updated_at: v.updated_at,
    user_id: v.properties.user_id ?? null,
  });
}

/**
 * `openstack volume show`: Cinder's record as it came (every key, so admin-only ones appear for admins), with
 * `metadata` as properties and `volume_type` as type, without links.
 */
function rawVolumeRow(raw: CinderVolume): Row {
  const { links: _links, metadata, volume_type, ...rest } = raw;
  return sortedRow({ ...rest, properties: metadata ?? {}, type: volume_type ?? null });
}

interface VolumeCreateOptions {
  size?: string;
  image?: string;
  description?: string;
  type?: string;
  availabilityZone?: string;
  property: string[];
  project?: string;
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const volume = program.command('volume').description('Block storage volumes (Cinder)');
  withOutputOptions(volume.command('list').description('List volumes')).action(async (_opts: unknown, cmd: Command) => {
    await runList(cmd, ctx, VOLUME_COLUMNS, async (conn, fctx) => {
      const cloud = conn.cloudLayer;
      const volumes = await cloud.listVolumes({ signal: fctx.signal });
      // OSC names the server a volume is attached to; one server list per cloud, only when something is attached.
      let serverNames = new Map<string, string>();
      if (volumes.some((v) => v.attachments.length > 0)) {
        const servers = await cloud.listServers({ bare: true, signal: fctx.signal }).catch(() => []);
        serverNames = new Map(servers.map((s) => [s.id, s.name]));
      }
      return volumes.map((v) => ({
        ID: v.id,
        Name: v.name,
        Status: v.status,
        Size: v.size,
        'Attached to': v.attachments
          .map((a) => `Attached to ${serverNames.get(a.server_id) ?? a.server_id} on ${a.device ?? ''} `)
          .join('\n'),
      }));
    });
  });

  withOutputOptions(volume.command('create').description('Create new volume').argument('<name>'))
    .requiredOption('--size <size>', 'volume size in GiB')
    .option('--image <image>', 'use this image as the volume source (name or ID)')
    .option('--description <description>', 'volume description')
    .option('--type <volume-type>', 'volume type')
    .option('--availability-zone <availability-zone>', 'create the volume in this availability zone')
    .option('--property <key=value>', 'set a property on this volume (repeatable)', collectValues, [])
    .option('--project <project>', 'create the volume in this project (name or ID)')
    .action(async (name: string, opts: VolumeCreateOptions, cmd: Command) => {
      let metadata: Record<string, string>;
      const size = Number(opts.size);
      if (!Number.isInteger(size) || size < 1) {
        // Printed as ocx always has (scripts match this line): a usage error, found before any cloud is asked.
        ctx.err(`Error: --size expects a number of GiB, got '${opts.size}'\n`);
        ctx.exitCode = 1;
        return;
      }
      try {
        metadata = parseProperties(opts.property);
      } catch (err) {
        reportFatal(ctx, err);
        return;
      }
      await runEach(cmd, ctx, async (conn, fctx) =>
        volumeRow(
          // --project (issue 14): the volume is created by a connection scoped to that project.
          await (opts.project ? await connectionInProject(conn, opts.project) : conn).cloudLayer.createVolume({
            size,
            name,
            ...(opts.image ? { image: opts.image } : {}),
            ...(opts.description ? { description: opts.description } : {}),
            ...(opts.type ? { volumeType: opts.type } : {}),
            ...(opts.availabilityZone ? { availabilityZone: opts.availabilityZone } : {}),
            ...(Object.keys(metadata).length ? { metadata } : {}),
            signal: fctx.signal,
          }),
        ),
      );
    });

  withOutputOptions(volume.command('show').description('Display volume details').argument('<volume>')).action(
    async (ref: string, _opts: unknown, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) => {
        const cloud = conn.cloudLayer;
        const { id } = await findVolume(cloud, ref);
        return rawVolumeRow(await cloud.blockStorage.getVolume(id, { signal: fctx.signal }));
      });
    },
  );

  deleteCommand<{ force?: boolean }>(volume, ctx, {
    kind: 'volume',
    description: 'Delete volume(s)',
    options: (c) => c.option('--force', 'attempt forced removal of volume(s), regardless of state'),
    del: async (cloud, ref, opts, fctx) =>
      cloud.deleteVolume(
        { id: (await findVolume(cloud, ref)).id },
        { force: opts.force === true, signal: fctx.signal },
      ),
  });
};
