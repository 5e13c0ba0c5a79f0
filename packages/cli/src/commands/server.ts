import type { CloudLayer, FanOutContext } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { runList, withOutputOptions } from '../run.ts';
import { networks } from './common.ts';
import { registerServerManage } from './server-manage.ts';
import { registerServerPower } from './server-power.ts';
import { registerServerVolume } from './server-volume.ts';

/** python-openstackclient's `server list` columns. */
export const SERVER_COLUMNS = ['ID', 'Name', 'Status', 'Networks', 'Image', 'Flavor'];

async function serverRows(cloud: CloudLayer, ctx: FanOutContext, opts: { nameLookup: boolean }): Promise<Row[]> {
  // bare: OSC's columns need no address resolution, so no Neutron calls.
  const servers = await cloud.listServers({ bare: true, signal: ctx.signal });
  let flavorNames = new Map<string, string>();
  let imageNames = new Map<string, string>();
  if (opts.nameLookup) {
    // Like OSC: look names up in one list call each (not one GET per server); a failed lookup shows ids.
    const needFlavors = servers.some((s) => s.flavor.id && !s.flavor.original_name);
    const needImages = servers.some((s) => s.image.id);
    const [flavors, images] = await Promise.all([
      needFlavors ? cloud.listFlavors({ signal: ctx.signal }).catch(() => []) : [],
      needImages ? cloud.listImages({ signal: ctx.signal }).catch(() => []) : [],
    ]);
    flavorNames = new Map(flavors.map((f) => [f.id, f.name]));
    imageNames = new Map(images.map((i) => [i.id, i.name]));
  }
  return servers.map((s) => {
    const imageId = s.image.id;
    const image = imageId ? (imageNames.get(imageId) ?? imageId) : 'N/A (booted from volume)';
    const flavorId = s.flavor.id;
    const flavor = s.flavor.original_name ?? (flavorId ? (flavorNames.get(flavorId) ?? flavorId) : '');
    return { ID: s.id, Name: s.name, Status: s.status, Networks: networks(s.addresses), Image: image, Flavor: flavor };
  });
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const server =
    program.commands.find((c) => c.name() === 'server') ?? program.command('server').description('Compute servers');
  withOutputOptions(server.command('list').description('List servers'))
    .option('-n, --no-name-lookup', 'skip flavor and image name lookup')
    .action(async (opts: { nameLookup: boolean }, cmd: Command) => {
      await runList(cmd, ctx, SERVER_COLUMNS, (conn, fctx) =>
        serverRows(conn.cloudLayer, fctx, { nameLookup: opts.nameLookup }),
      );
    });
  registerServerManage(server, ctx);
  registerServerPower(server, ctx);
  registerServerVolume(server, ctx);
};
