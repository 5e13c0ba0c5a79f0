/**
 * `ocx devcloud ...` and `ocx up ...`: implemented by @ocx/devcloud (the devcloud engineer owns what they do).
 * The CLI hands them the rest of the command line untouched. Expected exports of @ocx/devcloud:
 *   runDevcloudCommand(argv: string[]): Promise<number | void>   — `ocx devcloud <argv...>`
 */
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { type Passthrough, passthroughTo } from './passthrough.ts';

export const register: RegisterCommands = (program: Command) => {
  program
    .command('devcloud')
    .description('run devcloud, the local multi-cloud OpenStack simulator (see: ocx devcloud --help)');
  program.command('up').description('start devcloud and the federation proxy in front of it (what npm start runs)');
};

export const passthrough: Record<string, Passthrough> = {
  devcloud: (argv: string[], ctx: CliContext) => passthroughTo('@ocx/devcloud', 'runDevcloudCommand', argv, ctx),
  // up.ts loads devcloud, the proxy and fastify: only when `ocx up` runs, not when help lists the command.
  up: async (argv: string[], ctx: CliContext) =>
    (await import('../up.ts')).runUp(argv, { out: ctx.out, err: ctx.err, cwd: ctx.cwd }),
};
