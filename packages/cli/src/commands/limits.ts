/** `limits show --absolute`: Nova's then Cinder's absolute limits (python-openstackclient's Name/Value rows). */
import { ErrorCode } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runList, withOutputOptions } from '../run.ts';

export const LIMITS_COLUMNS = ['Name', 'Value'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const limits = program.command('limits').description('Compute and volume limits');
  withOutputOptions(limits.command('show').description('Show compute and block storage limits'))
    .option('--absolute', 'show absolute limits')
    .action(async (opts: { absolute?: boolean }, cmd: Command) => {
      if (!opts.absolute) {
        // OSC requires --absolute or --rate; rate limits went away with Nova's legacy API, so only --absolute is here.
        ctx.err(`Error: [${ErrorCode.BAD_REQUEST}] limits show needs --absolute\n`);
        ctx.exitCode = 1;
        return;
      }
      await runList(cmd, ctx, LIMITS_COLUMNS, async (conn, fctx) => {
        const { compute, volume } = await conn.cloudLayer.getAbsoluteLimits({ signal: fctx.signal });
        return [...Object.entries(compute), ...Object.entries(volume)].map(([Name, Value]) => ({ Name, Value }));
      });
    });
};
