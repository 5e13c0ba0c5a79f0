/** `ocx completion bash|zsh`: print a completion script generated from every command of this build. */
import { type Command, InvalidArgumentError } from 'commander';
import { bashScript, SHELLS, type Shell, zshScript } from '../completion.ts';
import type { CliContext, RegisterCommands } from '../context.ts';

function shellOf(value: string): Shell {
  if ((SHELLS as readonly string[]).includes(value)) return value as Shell;
  throw new InvalidArgumentError(`expected one of ${SHELLS.join(', ')}`);
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  program
    .command('completion')
    .description('Print a shell completion script: source <(ocx completion bash)')
    .argument('<shell>', `the shell: ${SHELLS.join(' or ')}`, shellOf)
    .action(async (shell: Shell) => {
      // The script covers every command, so the whole program is built here (not only this module).
      const { buildProgram } = await import('../program.ts');
      const full = await buildProgram(ctx);
      ctx.out(shell === 'bash' ? bashScript(full) : zshScript(full));
    });
};
