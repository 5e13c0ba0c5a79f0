import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runList, withOutputOptions } from '../run.ts';

export const VOLUME_COLUMNS = ['ID', 'Name', 'Status', 'Size', 'Attached to'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const volume = program.command('volume').description('Block storage volumes (Cinder)');
  withOutputOptions(volume.command('list').description('List volumes')).action(async (_opts: unknown, cmd: Command) => {
    await runList(cmd, ctx, VOLUME_COLUMNS, async (conn, fctx) => {
      const cloud = conn.cloudLayer;
      const volumes = await cloud.listVolumes({ signal: fctx.signal });
      // OSC names the server a volume is attached to; one server list per cloud, only when something is attached.
      let serverNames = new Map<string, string>();
      if (volumes.some((v) => v.attachments.length > 0)) {
        const servers = await cloud.listServers({ bare: true, signal: fctx.signal }).catch(() => []);
        serverNames = new Map(servers.map((s) => [s.id, s.name]));
      }
      return volumes.map((v) => ({
        ID: v.id,
        Name: v.name,
        Status: v.status,
        Size: v.size,
        'Attached to': v.attachments
          .map((a) => `Attached to ${serverNames.get(a.server_id) ?? a.server_id} on ${a.device ?? ''} `)
          .join('\n'),
      }));
    });
  });
};
