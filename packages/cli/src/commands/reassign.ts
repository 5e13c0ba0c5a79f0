/**
 * Projects on creates and reassign: `ocx volume|server|network|container|image reassign ID --project P`,
 * `ocx floating ip reassign ID --project P`, and `ocx floating ip create --project P` / `ocx container create
 * --project P` (the kamaki seed's "create in a given project"). They act on one cloud (--os-cloud). On Synnefo
 * the native reassign action (and a container's project policy); on OpenStack a volume moves by Cinder transfer
 * and the rest is UNSUPPORTED, with why and what to do instead (see the SDK's quotas/reassign.ts).
 */
import {
  type Connection,
  connectionInProject,
  ErrorCode,
  isSynnefoCloud,
  OcxError,
  type ReassignKind,
  reassign,
  synnefoClientFor,
} from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions, RegisterCommands } from '../context.ts';
import { renderOne } from '../output.ts';
import { outputOptions, withOutputOptions } from '../run.ts';
import { withTargets } from './quota.ts';

/** The group `name` if another module made it, else a new one. */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

/** The one connection a write command works on (--os-cloud NAME). */
async function onOneCloud(
  cmd: Command,
  ctx: CliContext,
  fn: (conn: Connection, g: GlobalOptions & Record<string, unknown>) => Promise<void>,
): Promise<void> {
  const g = cmd.optsWithGlobals() as GlobalOptions & Record<string, unknown>;
  await withTargets(g, ctx, async (targets) => {
    const conns = targets.multi.connections();
    if (conns.length !== 1)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'this command works on one cloud: name it with --os-cloud');
    await fn(conns[0] as Connection, g);
  });
}

const NOUNS: Array<[string[], ReassignKind, string]> = [
  [['volume'], 'volume', 'Block storage volumes'],
  [['server'], 'server', 'Servers'],
  [['network'], 'network', 'Networks'],
  [['container'], 'container', 'Object storage containers'],
  [['image'], 'image', 'Images'],
  [['floating', 'ip'], 'floatingip', 'Floating IPs'],
];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  for (const [path, kind, description] of NOUNS) {
    let parent = program;
    for (const word of path) parent = group(parent, word, description);
    parent
      .command('reassign')
      .description(`Move a ${path.join(' ')} to another project of the same cloud (its usage moves with it)`)
      .argument('<id>', `the ${path.join(' ')} (id; a container by name)`)
      .requiredOption('--project <id-or-name>', 'the destination project')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        await onOneCloud(cmd, ctx, async (conn, g) => {
          const dest = await reassign(conn, kind, id, String(g.project), {
            // A container moved by copying its objects reports each one (stderr, so stdout stays the result).
            onProgress: (p) => ctx.err(`${p.done}/${p.total} ${p.object}${p.copied ? '' : ' (already there)'}\n`),
          });
          ctx.out(`${path.join(' ')} ${id} is now in project ${dest.name} (${dest.id}) on ${conn.cloud}\n`);
        });
      });
  }

  const fip = group(group(program, 'floating', 'Floating IPs'), 'ip', 'Floating IPs');
  withOutputOptions(
    fip
      .command('create')
      .description('Allocate a floating IP, in --project when given')
      .option('--project <id-or-name>', 'the project to charge it to (default: the token’s project)')
      .option('--network <id-or-name>', 'external network to allocate from (OpenStack; default: the only one)'),
  ).action(async (_opts: unknown, cmd: Command) => {
    await onOneCloud(cmd, ctx, async (conn, g) => {
      const project = typeof g.project === 'string' ? g.project : undefined;
      let row: Record<string, unknown>;
      if (isSynnefoCloud(conn.config)) {
        const ip = await synnefoClientFor(conn).create('floatingip', {}, { project });
        row = { id: ip.id, floating_ip_address: ip.floating_ip_address, project_id: ip.tenant_id };
      } else {
        const cloud = (project ? await connectionInProject(conn, project) : conn).cloudLayer;
        const network = typeof g.network === 'string' && g.network !== '' ? g.network : undefined;
        const external = await cloud.searchNetworks(network, { is_router_external: true });
        if (external.length !== 1)
          throw new OcxError(
            external.length === 0 ? ErrorCode.NOT_FOUND : ErrorCode.AMBIGUOUS,
            external.length === 0
              ? 'no external network to allocate from'
              : `several external networks (${external.map((n) => n.name).join(', ')}): choose one with --network`,
            { cloud: conn.cloud },
          );
        const ip = await cloud.createFloatingIp({ network: external[0]! });
        row = { id: ip.id, floating_ip_address: ip.floating_ip_address, project_id: ip.location.project.id };
      }
      ctx.out(
        renderOne(
          ['id', 'floating_ip_address', 'project_id'],
          row,
          outputOptions(g as { format?: string; column?: string[] }),
        ),
      );
    });
  });

  // `container create --project P` is an option of container.ts's `container create` (one command, OSC's columns).
};
