import { type Connection, collect, type FanOutContext } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { runList, withOutputOptions } from '../run.ts';

/** python-openstackclient's `server list` columns. */
export const SERVER_COLUMNS = ['ID', 'Name', 'Status', 'Networks', 'Image', 'Flavor'];

/** `{net: [{addr}]}` → `{net: ['10.0.0.5', ...]}` (OSC shows it as `net=10.0.0.5, ...`). */
function networks(addresses: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!addresses || typeof addresses !== 'object') return out;
  for (const [net, list] of Object.entries(addresses as Record<string, Array<{ addr?: string }>>)) {
    out[net] = Array.isArray(list) ? list.map((a) => String(a.addr ?? '')) : [];
  }
  return out;
}

async function serverRows(conn: Connection, ctx: FanOutContext, opts: { nameLookup: boolean }): Promise<Row[]> {
  const servers = await collect(conn.compute.listServers({ signal: ctx.signal }));
  let flavorNames = new Map<string, string>();
  let imageNames = new Map<string, string>();
  if (opts.nameLookup) {
    // Like OSC: look names up in one list call each (not one GET per server); a failed lookup shows ids.
    const needFlavors = servers.some((s) => s.flavor?.id && !s.flavor.original_name);
    const needImages = servers.some((s) => typeof s.image === 'object' && s.image?.id);
    const [flavors, images] = await Promise.all([
      needFlavors
        ? collect(conn.compute.listFlavors({ signal: ctx.signal, query: { is_public: 'None' } })).catch(() => [])
        : [],
      needImages ? collect(conn.image.listImages({ signal: ctx.signal })).catch(() => []) : [],
    ]);
    flavorNames = new Map(flavors.map((f) => [String(f.id), String(f.name)]));
    imageNames = new Map(images.map((i) => [String(i.id), String(i.name ?? '')]));
  }
  return servers.map((s) => {
    const imageId = typeof s.image === 'object' && s.image ? s.image.id : undefined;
    const image = imageId ? (imageNames.get(imageId) ?? imageId) : 'N/A (booted from volume)';
    const flavor =
      s.flavor?.original_name ?? (s.flavor?.id ? (flavorNames.get(String(s.flavor.id)) ?? s.flavor.id) : '');
    return { ID: s.id, Name: s.name, Status: s.status, Networks: networks(s.addresses), Image: image, Flavor: flavor };
  });
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const server =
    program.commands.find((c) => c.name() === 'server') ?? program.command('server').description('Compute servers');
  withOutputOptions(server.command('list').description('List servers'))
    .option('-n, --no-name-lookup', 'skip flavor and image name lookup')
    .action(async (opts: { nameLookup: boolean }, cmd: Command) => {
      await runList(cmd, ctx, SERVER_COLUMNS, (conn, fctx) => serverRows(conn, fctx, { nameLookup: opts.nameLookup }));
    });
};
