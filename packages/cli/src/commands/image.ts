import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runList, withOutputOptions } from '../run.ts';

export const IMAGE_COLUMNS = ['ID', 'Name', 'Status'];

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
};
