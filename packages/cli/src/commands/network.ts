import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runList, withOutputOptions } from '../run.ts';

export const NETWORK_COLUMNS = ['ID', 'Name', 'Subnets'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const network = program.command('network').description('Networks (Neutron)');
  withOutputOptions(network.command('list').description('List networks')).action(
    async (_opts: unknown, cmd: Command) => {
      await runList(cmd, ctx, NETWORK_COLUMNS, async (conn, fctx) =>
        (await conn.cloudLayer.listNetworks(undefined, { signal: fctx.signal })).map((n) => ({
          ID: n.id,
          Name: n.name,
          Subnets: [...n.subnets].sort(),
        })),
      );
    },
  );
};
