import { type ApiObject, connectionInProject } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { runEach, runList, withOutputOptions } from '../run.ts';
import { deleteCommand, sortedRow } from './common.ts';
import { registerCreatePrivate } from './network-private.ts';

/** A Neutron record as OSC's create commands print it: every field, sorted, without links. */
export function neutronRow(raw: ApiObject): Row {
  const { links: _links, ...rest } = raw as Record<string, unknown>;
  return sortedRow(rest);
}

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

  withOutputOptions(network.command('create').description('Create new network').argument('<name>'))
    .option('--share', 'share the network between projects')
    .option('--external', 'set this network as an external network (admin)')
    .option('--description <description>', 'network description')
    .option('--project <project>', 'create the network in this project (name or ID)')
    .action(
      async (
        name: string,
        opts: { share?: boolean; external?: boolean; description?: string; project?: string },
        cmd: Command,
      ) => {
        await runEach(cmd, ctx, async (conn, fctx) =>
          neutronRow(
            // --project (issue 14): created by a connection scoped to that project.
            await (opts.project
              ? await connectionInProject(conn, opts.project, { signal: fctx.signal })
              : conn
            ).cloudLayer.createNetwork(name, {
              shared: opts.share,
              external: opts.external,
              description: opts.description,
              signal: fctx.signal,
            }),
          ),
        );
      },
    );

  registerCreatePrivate(network, ctx);

  deleteCommand(network, ctx, {
    kind: 'network',
    description: 'Delete network(s)',
    del: (cloud, ref, _opts, fctx) => cloud.deleteNetwork(ref, { signal: fctx.signal }),
  });
};
