import { type Cloud, type Image, looksLikeId } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { runEach, runList, withOutputOptions } from '../run.ts';
import { deleteCommand, mustFind, sortedRow } from './common.ts';

export const IMAGE_COLUMNS = ['ID', 'Name', 'Status'];

/** The fields of `openstack image show`, sorted as OSC prints them. */
function imageRow(i: Image): Row {
  const properties: Record<string, unknown> = { ...i.properties };
  if (i.hash_algo) properties.os_hash_algo = i.hash_algo;
  if (i.hash_value) properties.os_hash_value = i.hash_value;
  return sortedRow({
    checksum: i.checksum,
    container_format: i.container_format,
    created_at: i.created_at,
    disk_format: i.disk_format,
    id: i.id,
    min_disk: i.min_disk,
    min_ram: i.min_ram,
    name: i.name,
    owner: i.owner,
    properties: sortedRow(properties),
    protected: i.is_protected,
    size: i.size,
    status: i.status,
    tags: i.tags,
    updated_at: i.updated_at,
    visibility: i.visibility,
  });
}

/** An image by id (one GET) or name (the list); NOT_FOUND with OSC's message. */
function findImage(cloud: Cloud, ref: string): Promise<Image> {
  return mustFind(
    'image',
    ref,
    async (r) => (looksLikeId(r) ? await cloud.getImageById(r) : null) ?? cloud.getImage(r),
  );
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const image = program.command('image').description('Images (Glance)');
  withOutputOptions(image.command('list').description('List images')).action(async (_opts: unknown, cmd: Command) => {
    await runList(cmd, ctx, IMAGE_COLUMNS, async (conn, fctx) =>
      (await conn.cloudLayer.listImages({ signal: fctx.signal })).map((i) => ({
        ID: i.id,
        Name: i.name,
        Status: i.status,
      })),
    );
  });

  withOutputOptions(image.command('show').description('Display image details').argument('<image>')).action(
    async (ref: string, _opts: unknown, cmd: Command) => {
      await runEach(cmd, ctx, async (conn) => imageRow(await findImage(conn.cloudLayer, ref)));
    },
  );

  deleteCommand(image, ctx, {
    kind: 'image',
    description: 'Delete image(s)',
    del: async (cloud, ref, _opts, fctx) =>
      cloud.deleteImage({ id: (await findImage(cloud, ref)).id }, { signal: fctx.signal }),
  });
};
