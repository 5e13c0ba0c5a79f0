/**
 * `floating ip list | delete` (with `--unattached`, nodepool's cleanup) and `server add | remove floating ip`:
 * python-openstackclient's names and columns on the SDK's cloud layer, on each chosen cloud. (`floating ip create`,
 * with `--project`, lives in reassign.ts.)
 */
import { ErrorCode } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runEach, runList, withOutputOptions } from '../run.ts';
import { deleteEach } from './common.ts';
import { findServer } from './server-manage.ts';

/** python-openstackclient's `floating ip list` columns. */
export const FLOATING_IP_COLUMNS = [
  'ID',
  'Floating IP Address',
  'Fixed IP Address',
  'Port',
  'Floating Network',
  'Project',
];

function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const fip = group(group(program, 'floating', 'Floating IPs'), 'ip', 'Floating IPs');

  withOutputOptions(fip.command('list').description('List floating IP(s)')).action(
    async (_o: unknown, cmd: Command) => {
      await runList(cmd, ctx, FLOATING_IP_COLUMNS, async (conn) =>
        (await conn.cloudLayer.listFloatingIps()).map((f) => ({
          ID: f.id,
          'Floating IP Address': f.floating_ip_address,
          'Fixed IP Address': f.fixed_ip_address,
          Port: f.port,
          'Floating Network': f.network,
          Project: f.location.project.id,
        })),
      );
    },
  );

  withOutputOptions(
    fip
      .command('delete')
      .description('Delete floating IP(s) (by ID or address), or with --unattached every one not attached to a port')
      .argument('[floating-ip...]'),
  )
    .option('--unattached', 'delete every floating IP that is not attached to a port (nodepool’s cleanup)')
    .action(async (refs: string[], opts: { unattached?: boolean }, cmd: Command) => {
      if (opts.unattached ? refs.length > 0 : refs.length === 0) {
        ctx.err(`Error: [${ErrorCode.BAD_REQUEST}] give either floating IPs or --unattached\n`);
        ctx.exitCode = 1;
        return;
      }
      await runEach(cmd, ctx, async (conn) => {
        const cloud = conn.cloudLayer;
        if (opts.unattached) {
          const n = await cloud.deleteUnattachedFloatingIps();
          return { Deleted: n };
        }
        await deleteEach('floating IP', refs, async (ref) => {
          const f = await cloud.getFloatingIp(ref);
          return f ? cloud.deleteFloatingIp(f.id) : false;
        });
        return undefined;
      });
    });

  const server = group(program, 'server', 'Compute servers');
  const add = group(group(server, 'add', 'Add a resource to a server'), 'floating', 'Floating IPs');
  add
    .command('ip')
    .description('Add floating IP address to server')
    .argument('<server>')
    .argument('<ip-address>')
    .option('--fixed-ip-address <ip-address>', 'fixed IP address to associate with this floating IP address')
    .action(async (ref: string, address: string, opts: { fixedIpAddress?: string }, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) => {
        const cloud = conn.cloudLayer;
        const s = await findServer(cloud, ref);
        await cloud.attachFloatingIp(s, address, { fixedAddress: opts.fixedIpAddress, signal: fctx.signal });
        return undefined;
      });
    });
  const remove = group(group(server, 'remove', 'Remove a resource from a server'), 'floating', 'Floating IPs');
  remove
    .command('ip')
    .description('Remove floating IP address from server')
    .argument('<server>')
    .argument('<ip-address>')
    .action(async (ref: string, address: string, _opts: unknown, cmd: Command) => {
      await runEach(cmd, ctx, async (conn, fctx) => {
        const cloud = conn.cloudLayer;
        const s = await findServer(cloud, ref);
        await cloud.detachFloatingIp(s, address, { signal: fctx.signal });
        return undefined;
      });
    });
};
