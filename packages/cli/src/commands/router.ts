/** `router create | delete | add subnet | set --external-gateway`: python-openstackclient's names, on each cloud. */
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runEach, withOutputOptions } from '../run.ts';
import { deleteCommand } from './common.ts';
import { neutronRow } from './network.ts';

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const router = program.command('router').description('Routers (Neutron)');
  withOutputOptions(router.command('create').description('Create a new router').argument('<name>'))
    .option('--external-gateway <network>', 'external network used as the router’s gateway (name or ID)')
    .action(async (name: string, opts: { externalGateway?: string }, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) =>
        neutronRow(
          await conn.cloudLayer.createRouter(name, { externalNetwork: opts.externalGateway, signal: fctx.signal }),
        ),
      );
    });

  deleteCommand(router, ctx, {
    kind: 'router',
    description: 'Delete router(s)',
    del: (cloud, ref, _opts, fctx) => cloud.deleteRouter(ref, { signal: fctx.signal }),
  });

  const add = router.command('add').description('Add a resource to a router');
  add
    .command('subnet')
    .description('Add a subnet to a router')
    .argument('<router>')
    .argument('<subnet>')
    .action(async (r: string, s: string, _opts: unknown, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) => {
        await conn.cloudLayer.addRouterSubnet(r, s, { signal: fctx.signal });
        return undefined;
      });
    });

  router
    .command('set')
    .description('Set router properties')
    .argument('<router>')
    .option('--external-gateway <network>', 'external network used as the router’s gateway (name or ID)')
    .option('--no-external-gateway', 'remove the external gateway')
    .action(async (r: string, opts: { externalGateway?: string | false }, cmd: Command) => {
      if (opts.externalGateway === undefined) return;
      const gateway = opts.externalGateway === false ? null : opts.externalGateway;
      await runEach(cmd, ctx, async (conn, fctx) => {
        await conn.cloudLayer.setRouterGateway(r, gateway, { signal: fctx.signal });
        return undefined;
      });
    });
};
