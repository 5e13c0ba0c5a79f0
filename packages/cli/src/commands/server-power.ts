/**
 * `server reboot | stop | start` (with `--wait`), `server console log` and `server address`: python-openstackclient's
 * names and options on the SDK's cloud layer, on each chosen cloud.
 */
import { ErrorCode, OcxError, type PowerAction } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context.ts';
import { ProgressLine } from '../progress.ts';
import { runEach, runText, withOutputOptions } from '../run.ts';
import { findServer } from './server-manage.ts';

/** How long `--wait` may take per cloud when `--timeout` is not given. */
const WAIT_DEADLINE_MS = 30 * 60_000;

interface PowerOpts {
  hard?: boolean;
  wait?: boolean;
  progress: boolean;
}

/** Run `action` on each server in turn (as OSC does); one error per cloud naming every server that failed. */
function powerCommand(
  server: Command,
  ctx: CliContext,
  name: string,
  description: string,
  action: (o: PowerOpts) => PowerAction,
  many: boolean,
  options: (c: Command) => Command = (c) => c,
): void {
  const cmd = server
    .command(name)
    .description(description)
    .argument(many ? '<server...>' : '<server>');
  options(cmd)
    .option('--wait', 'wait for the action to complete')
    .option('--no-progress', 'do not draw a progress line while waiting')
    .action(async (refs: string | string[], _opts: unknown, command: Command) => {
      const o = command.optsWithGlobals() as PowerOpts & GlobalOptions;
      const list = Array.isArray(refs) ? refs : [refs];
      const progress = new ProgressLine(ctx, 'table', o.progress);
      await runEach(
        command,
        ctx,
        async (conn, fctx) => {
          const cloud = conn.cloudLayer;
          const failures: string[] = [];
          let code: string = ErrorCode.SERVICE_ERROR;
          for (const ref of list) {
            try {
              const s = await findServer(cloud, ref);
              await cloud.serverPowerAction(s, action(o), {
                wait: o.wait === true,
                timeoutMs: fctx.deadline - Date.now(),
                signal: fctx.signal,
                onProgress: (cur) => progress.update(conn.name, `${cur.name} ${cur.status}`),
              });
            } catch (err) {
              if (list.length === 1) throw err;
              if (failures.length === 0 && err instanceof OcxError) code = err.code;
              failures.push(`'${ref}': ${(err as Error).message}`);
            }
          }
          if (failures.length > 0)
            throw new OcxError(
              code as ErrorCode,
              `${failures.length} of ${list.length} servers failed to ${name}: ${failures.join('; ')}`,
            );
          return undefined;
        },
        { defaultDeadlineMs: o.wait ? WAIT_DEADLINE_MS : undefined, beforeOutput: () => progress.done() },
      );
    });
}

/** The last `n` lines of `text` (Nova cuts the log itself; a cloud that ignores `length` is cut here). */
function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return n === 0 ? '' : `${lines.slice(-n).join('\n')}\n`;
}

/** The address fields the cloud layer resolves (nodepool's rules: interface_ip is what it ssh-keyscans). */
const ADDRESS_FIELDS = ['id', 'name', 'interface_ip', 'public_v4', 'private_v4', 'public_v6'] as const;

export function registerServerPower(server: Command, ctx: CliContext): void {
  powerCommand(
    server,
    ctx,
    'reboot',
    'Perform a hard or soft server reboot',
    (o) => (o.hard ? 'hard-reboot' : 'reboot'),
    false,
    (c) => c.option('--hard', 'perform a hard reboot').option('--soft', 'perform a soft reboot (the default)'),
  );
  powerCommand(server, ctx, 'stop', 'Stop server(s)', () => 'stop', true);
  powerCommand(server, ctx, 'start', 'Start server(s)', () => 'start', true);

  const consoleCmd =
    server.commands.find((c) => c.name() === 'console') ?? server.command('console').description('Server console');
  consoleCmd
    .command('log')
    .description("Show server's console output")
    .argument('<server>')
    .option('--lines <num-lines>', 'number of lines to display from the end of the log (default=all)')
    .action(async (ref: string, opts: { lines?: string }, command: Command) => {
      let lines: number | undefined;
      if (opts.lines !== undefined) {
        lines = Number(opts.lines);
        if (!Number.isInteger(lines) || lines < 0) {
          ctx.err(`Error: [${ErrorCode.BAD_REQUEST}] --lines expects a whole number, got '${opts.lines}'\n`);
          ctx.exitCode = 1;
          return;
        }
      }
      await runText(command, ctx, async (conn) => {
        const cloud = conn.cloudLayer;
        const text = await cloud.getServerConsole(await findServer(cloud, ref), lines);
        return lines === undefined ? text : lastLines(text, lines);
      });
    });

  withOutputOptions(
    server
      .command('address')
      .description('Show the addresses the cloud layer resolved for a server (interface_ip: the one to reach it on)')
      .argument('<server>'),
  ).action(async (ref: string, _opts: unknown, command: Command) => {
    await runEach(command, ctx, async (conn) => {
      const s = await findServer(conn.cloudLayer, ref);
      return Object.fromEntries(ADDRESS_FIELDS.map((f) => [f, s[f]]));
    });
  });
}
