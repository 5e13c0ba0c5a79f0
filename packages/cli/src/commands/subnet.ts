/** `subnet list | create | delete`: python-openstackclient's names and options on the SDK's cloud layer, on each cloud. */
import { connectionInProject, ErrorCode, OcxError } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { reportFatal, runEach, runList, withOutputOptions } from '../run.ts';
import { collectValues, deleteCommand, mustFind } from './common.ts';
import { neutronRow } from './network.ts';

/** `openstack subnet list`'s columns. */
export const SUBNET_COLUMNS = ['ID', 'Name', 'Network', 'Subnet'];

interface SubnetCreateOptions {
  network: string;
  subnetRange: string;
  ipVersion?: string;
  gateway?: string;
  dhcp: boolean;
  dnsNameserver: string[];
  project?: string;
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const subnet = program.command('subnet').description('Subnets (Neutron)');
  withOutputOptions(subnet.command('list').description('List subnets'))
    .option('--network <network>', 'only the subnets of this network (name or ID)')
    .action(async (o: { network?: string }, cmd: Command) => {
      await runList(cmd, ctx, SUBNET_COLUMNS, async (conn, fctx) => {
        const cloud = conn.cloudLayer;
        const network =
          o.network === undefined ? undefined : await mustFind('network', o.network, (r) => cloud.getNetwork(r));
        const subnets = await cloud.searchSubnets(undefined, network && { network_id: network.id }, {
          signal: fctx.signal,
        });
        return subnets.map((s) => ({ ID: s.id, Name: s.name, Network: s.network_id, Subnet: s.cidr }));
      });
    });

  withOutputOptions(subnet.command('create').description('Create a subnet').argument('<name>'))
    .requiredOption('--network <network>', 'network this subnet belongs to (name or ID)')
    .requiredOption('--subnet-range <subnet-range>', 'subnet range in CIDR notation')
    .option('--ip-version <4|6>', 'IP version (default: from the range)')
    .option('--gateway <gateway>', "gateway address, or 'none' (default: the first address)")
    .option('--no-dhcp', 'disable DHCP')
    .option('--dns-nameserver <dns-nameserver>', 'DNS server for this subnet (repeatable)', collectValues, [])
    .option('--project <project>', 'create the subnet in this project (name or ID)')
    .action(async (name: string, o: SubnetCreateOptions, cmd: Command) => {
      let ipVersion: 4 | 6 | undefined;
      if (o.ipVersion !== undefined) {
        if (o.ipVersion !== '4' && o.ipVersion !== '6') {
          reportFatal(ctx, new OcxError(ErrorCode.BAD_REQUEST, `--ip-version expects 4 or 6, got '${o.ipVersion}'`));
          return;
        }
        ipVersion = o.ipVersion === '4' ? 4 : 6;
      }
      await runEach(cmd, ctx, async (conn, fctx) =>
        neutronRow(
          // --project (issue 14): created (and --network resolved) by a connection scoped to that project.
          await (o.project
            ? await connectionInProject(conn, o.project, { signal: fctx.signal })
            : conn
          ).cloudLayer.createSubnet({
            name,
            network: o.network,
            cidr: o.subnetRange,
            ipVersion,
            gatewayIp: o.gateway === undefined ? undefined : o.gateway === 'none' ? null : o.gateway,
            enableDhcp: o.dhcp,
            dnsNameservers: o.dnsNameserver.length ? o.dnsNameserver : undefined,
            signal: fctx.signal,
          }),
        ),
      );
    });

  deleteCommand(subnet, ctx, {
    kind: 'subnet',
    description: 'Delete subnet(s)',
    del: (cloud, ref, _opts, fctx) => cloud.deleteSubnet(ref, { signal: fctx.signal }),
  });
};
