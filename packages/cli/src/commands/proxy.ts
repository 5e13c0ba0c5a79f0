/**
 * `ocx proxy ...`: implemented by @ocx/proxy (the proxy engineer owns what it does). Expected export:
 *   runProxyCommand(argv: string[]): Promise<number | void>
 */
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { type Passthrough, passthroughTo } from './passthrough.ts';

export const register: RegisterCommands = (program: Command) => {
  program.command('proxy').description('run the OCX federation proxy (see: ocx proxy --help)');
};

export const passthrough: Record<string, Passthrough> = {
  proxy: (argv: string[], ctx: CliContext) => passthroughTo('@ocx/proxy', 'runProxyCommand', argv, ctx),
};
