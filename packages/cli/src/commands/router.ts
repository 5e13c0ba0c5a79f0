/** `router list | create | delete | add subnet | remove subnet | set | unset --external-gateway`: python-openstackclient's names, on each cloud. */
import { connectionInProject } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { Cell } from '../output.ts';
import { runEach, runList, withOutputOptions } from '../run.ts';
import { deleteCommand } from './common.ts';
import { neutronRow } from './network.ts';

/** `openstack router list`'s columns. */
export const ROUTER_COLUMNS = ['ID', 'Name', 'Status', 'State', 'Project'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const router = program.command('router').description('Routers (Neutron)');
  withOutputOptions(router.command('list').description('List routers')).action(async (_o: unknown, cmd: Command) => {
    await runList(cmd, ctx, ROUTER_COLUMNS, async (conn, fctx) =>
      (await conn.cloudLayer.searchRouters(undefined, undefined, { signal: fctx.signal })).map((r) => ({
        ID: r.id,
        Name: r.name,
        Status: r.status,
        // As OSC: UP/DOWN to people, Neutron's admin_state_up to programs.
        State: new Cell(r.is_admin_state_up ? 'UP' : 'DOWN', r.is_admin_state_up),
        Project: r.location.project.id,
      })),
    );
  });

  withOutputOptions(router.command('create').description('Create a new router').argument('<name>'))
    .option('--external-gateway <network>', 'external network used as the router’s gateway (name or ID)')
    .option('--project <project>', 'create the router in this project (name or ID)')
    .action(async (name: string, opts: { externalGateway?: string; project?: string }, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) => {
        // --project (issue 14): created by a connection scoped to that project.
        const target = opts.project ? await connectionInProject(conn, opts.project, { signal: fctx.signal }) : conn;
        return neutronRow(
          await target.cloudLayer.createRouter(name, { externalNetwork: opts.externalGateway, signal: fctx.signal }),
        );
      });
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

  const remove = router.command('remove').description('Remove a resource from a router');
  remove
    .command('subnet')
    .description('Remove a subnet from a router')
    .argument('<router>')
    .argument('<subnet>')
    .action(async (r: string, s: string, _opts: unknown, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) => {
        await conn.cloudLayer.removeRouterSubnet(r, s, { signal: fctx.signal });
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

  router
    .command('unset')
    .description('Unset router properties')
    .argument('<router>')
    .option('--external-gateway', 'remove the external gateway')
    .action(async (r: string, opts: { externalGateway?: boolean }, cmd: Command) => {
      if (!opts.externalGateway) return;
      await runEach(cmd, ctx, async (conn, fctx) => {
        await conn.cloudLayer.setRouterGateway(r, null, { signal: fctx.signal });
        return undefined;
      });
    });
};
