import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runList, withOutputOptions } from '../run.ts';

export const FLAVOR_COLUMNS = ['ID', 'Name', 'RAM', 'Disk', 'Ephemeral', 'VCPUs', 'Is Public'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const flavor = program.command('flavor').description('Compute flavors');
  withOutputOptions(flavor.command('list').description('List flavors'))
    .option('--all', 'list all flavors, whether public or private')
    .option('--private', 'list only private flavors')
    .action(async (opts: { all?: boolean; private?: boolean }, cmd: Command) => {
      // As python-openstackclient: public flavors by default (is_public=True), --private, or --all (is_public=None).
      const isPublic = opts.all ? undefined : !opts.private;
      await runList(cmd, ctx, FLAVOR_COLUMNS, async (conn, fctx) =>
        (await conn.cloudLayer.listFlavors({ isPublic, signal: fctx.signal })).map((f) => ({
          ID: f.id,
          Name: f.name,
          RAM: f.ram,
          Disk: f.disk,
          Ephemeral: f.ephemeral,
          VCPUs: f.vcpus,
          'Is Public': f.is_public,
        })),
      );
    });
};
