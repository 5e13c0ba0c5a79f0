import { Command } from 'commander';
import { COMMANDS } from './commands/index.ts';
import type { CliContext } from './context.ts';

function collectValues(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The `ocx` program: python-openstackclient's global options (accepted before or after the command, as OSC does),
 * plus --all-clouds, then every registered command.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ocx')
    .description('Open Cloud eXchange: use many OpenStack clouds as one')
    .option('--os-cloud <name>', 'cloud name in clouds.yaml (repeatable: the command runs on each)', collectValues, [])
    .option('--all-clouds', 'run the command on every cloud (and region) in clouds.yaml')
    .option('--os-region-name <region>', 'region of the cloud(s) (default: OS_REGION_NAME, else the first region)')
    .option(
      '--os-service-provider <id>',
      'reach this Keystone-to-Keystone service provider through the --os-cloud (home) Keystone (repeatable)',
      collectValues,
      [],
    )
    .option('--os-remote-project-name <name>', 'project name at the service provider')
    .option('--os-remote-project-id <id>', 'project id at the service provider')
    .option('--os-remote-project-domain-name <name>', 'domain name of the project at the service provider')
    .option('--os-remote-project-domain-id <id>', 'domain id of the project at the service provider')
    .option('--timeout <seconds>', 'give up on a cloud after this many seconds (default 60)')
    .option('--concurrency <n>', 'how many clouds to talk to at once (default 16)')
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => ctx.out(s),
      writeErr: (s) => ctx.err(s),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
