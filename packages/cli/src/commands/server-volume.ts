/** `server add volume` / `server remove volume` (python-openstackclient's names), with `--wait`, on each cloud. */
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context.ts';
import { ProgressLine } from '../progress.ts';
import { runEach, withOutputOptions } from '../run.ts';
import { findVolume } from './common.ts';
import { findServer } from './server-manage.ts';

/** How long `--wait` may take per cloud when `--timeout` is not given. */
const WAIT_DEADLINE_MS = 30 * 60_000;

/** `server <verb>` as a group other modules may also add to (`server add floating ip`). */
export function subgroup(server: Command, name: string, description: string): Command {
  return server.commands.find((c) => c.name() === name) ?? server.command(name).description(description);
}

interface AttachOpts {
  device?: string;
  wait?: boolean;
  progress: boolean;
  format?: string;
}

export function registerServerVolume(server: Command, ctx: CliContext): void {
  const add = subgroup(server, 'add', 'Add a resource to a server');
  const remove = subgroup(server, 'remove', 'Remove a resource from a server');

  withOutputOptions(add.command('volume').description('Add volume to server').argument('<server>').argument('<volume>'))
    .option('--device <device>', 'server internal device name for volume')
    .option('--wait', 'wait until the volume is in-use')
    .option('--no-progress', 'do not draw a progress line while waiting')
    .action(async (serverRef: string, volumeRef: string, _opts: unknown, command: Command) => {
      const o = command.optsWithGlobals() as AttachOpts & GlobalOptions;
      const progress = new ProgressLine(ctx, o.format, o.progress);
      await runEach(
        command,
        ctx,
        async (conn, fctx) => {
          const cloud = conn.cloudLayer;
          const [s, v] = await Promise.all([findServer(cloud, serverRef), findVolume(cloud, volumeRef)]);
          progress.update(conn.name, o.wait ? 'attaching' : 'requested');
          const a = await cloud.attachVolume(s, v, {
            device: o.device,
            wait: o.wait === true,
            timeoutMs: fctx.deadline - Date.now(),
            signal: fctx.signal,
          });
          progress.update(conn.name, o.wait ? 'in-use' : 'requested');
          // OSC's columns for `server add volume`.
          return { ID: a.id, 'Server ID': a.server_id, 'Volume ID': a.volume_id, Device: a.device };
        },
        { defaultDeadlineMs: o.wait ? WAIT_DEADLINE_MS : undefined, beforeOutput: () => progress.done() },
      );
    });

  remove
    .command('volume')
    .description('Remove volume from server')
    .argument('<server>')
    .argument('<volume>')
    .option('--wait', 'wait until the volume is available again')
    .option('--no-progress', 'do not draw a progress line while waiting')
    .action(async (serverRef: string, volumeRef: string, _opts: unknown, command: Command) => {
      const o = command.optsWithGlobals() as AttachOpts & GlobalOptions;
      const progress = new ProgressLine(ctx, 'table', o.progress);
      await runEach(
        command,
        ctx,
        async (conn, fctx) => {
          const cloud = conn.cloudLayer;
          const [s, v] = await Promise.all([findServer(cloud, serverRef), findVolume(cloud, volumeRef)]);
          progress.update(conn.name, o.wait ? 'detaching' : 'requested');
          await cloud.detachVolume(s, v, {
            wait: o.wait === true,
            timeoutMs: fctx.deadline - Date.now(),
            signal: fctx.signal,
          });
          progress.update(conn.name, o.wait ? 'available' : 'requested');
          return undefined;
        },
        { defaultDeadlineMs: o.wait ? WAIT_DEADLINE_MS : undefined, beforeOutput: () => progress.done() },
      );
    });
}
