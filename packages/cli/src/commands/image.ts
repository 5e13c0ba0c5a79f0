import type { GlanceImage } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { runEach, runList, withOutputOptions } from '../run.ts';
import { deleteCommand, findImage, sortedRow } from './common.ts';
import { registerImageTransfer } from './image-transfer.ts';

export const IMAGE_COLUMNS = ['ID', 'Name', 'Status'];

/** The keys `openstack image show` prints as they are; every other key but tags goes into properties. */
const IMAGE_FIELDS = new Set([
  'status',
  'name',
  'container_format',
  'created_at',
  'size',
  'disk_format',
  'updated_at',
  'visibility',
  'min_disk',
  'protected',
  'id',
  'file',
  'checksum',
  'owner',
  'virtual_size',
  'min_ram',
  'schema',
]);

/** `openstack image show`: Glance's record, empty values left out, extra keys gathered as properties. */
function imageRow(raw: GlanceImage): Row {
  const row: Row = {};
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null || v === undefined || k === 'tags' || k === 'locations' || k === 'self') continue;
    if (IMAGE_FIELDS.has(k)) row[k] = v;
    else properties[k] = v;
  }
  row.tags = raw.tags ?? [];
  if (Object.keys(properties).length) row.properties = sortedRow(properties);
  return sortedRow(row);
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
      await runEach(cmd, ctx, async (conn, fctx) => {
        const cloud = conn.cloudLayer;
        const { id } = await findImage(cloud, ref);
        return imageRow(await cloud.image.getImage(id, { signal: fctx.signal }));
      });
    },
  );

  registerImageTransfer(image, ctx, imageRow);

  deleteCommand(image, ctx, {
    kind: 'image',
    description: 'Delete image(s)',
    del: async (cloud, ref, _opts, fctx) =>
      cloud.deleteImage({ id: (await findImage(cloud, ref)).id }, { signal: fctx.signal }),
  });
};
