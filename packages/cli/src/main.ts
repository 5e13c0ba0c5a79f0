#!/usr/bin/env node
/**
 * `ocx`: the OCX command line. `main(argv)` runs one command and returns its exit status; run as a script it
 * uses process.argv and exits with it.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { passthroughOf } from './commands/index.ts';
import type { CliContext } from './context.ts';
import { buildProgram } from './program.ts';

export function processContext(): CliContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (s) => {
      process.stdout.write(s);
    },
    err: (s) => {
      process.stderr.write(s);
    },
    exitCode: 0,
    isTTY: process.stdout.isTTY === true,
    errIsTTY: process.stderr.isTTY === true,
  };
}

/** Run `ocx` with `argv` (without the node and script paths). Resolves to the exit status. */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const first = argv[0];
  const passthrough = first === undefined ? undefined : await passthroughOf(first);
  if (passthrough) return passthrough(argv.slice(1), ctx);
  const program = await buildProgram(ctx, argv);
  if (argv.length === 0) {
    program.outputHelp();
    return 1;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are exit code 0; usage errors were already printed by commander
      return err.exitCode === 0 ? 0 : 2;
    }
    // run.ts brings the SDK: loaded only when something failed.
    (await import('./run.ts')).reportFatal(ctx, err);
    return 1;
  }
  return ctx.exitCode;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // Started by bin/ocx.js in a child process: end with the launcher (its IPC pipe closes even when it is SIGKILLed).
  if (process.env.OCX_LAUNCHER === 'ipc' && process.channel) {
    delete process.env.OCX_LAUNCHER;
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
