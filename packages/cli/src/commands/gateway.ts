/**
 * `ocx gateway ...`: implemented by @ocx/gateway (runGatewayCommand: the gRPC gateway's own options and usage).
 */
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { type Passthrough, passthroughTo } from './passthrough.ts';

export const register: RegisterCommands = (program: Command) => {
  program.command('gateway').description('run the OCX gRPC gateway (see: ocx gateway --help)');
};

export const passthrough: Record<string, Passthrough> = {
  gateway: (argv: string[], ctx: CliContext) => passthroughTo('@ocx/gateway', 'runGatewayCommand', argv, ctx),
};
