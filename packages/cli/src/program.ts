import { Command } from 'commander';
import { entriesFor } from './commands/index.ts';
import type { CliContext } from './context.ts';

function collectValues(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The `ocx` program: python-openstackclient's global options (accepted before or after the command, as OSC does),
 * plus --all-clouds, then the commands. With `argv`, only the module of the command it names is loaded (help, an
 * unknown command or none loads them all), so start-up pays only for what runs.
 */
export async function buildProgram(ctx: CliContext, argv?: readonly string[]): Promise<Command> {
  const program = globalProgram(ctx);
  const entries = entriesFor(argv ? commandName(program, argv) : undefined);
  const modules = await Promise.all(entries.map((e) => e.load()));
  for (const mod of modules) mod.register(program, ctx);
  return program;
}

/**
 * The top-level command `argv` names: its first word that is neither an option nor the value of a global option
 * (`ocx --os-cloud sp1 server list` names `server`). Undefined when there is none.
 */
export function commandName(program: Command, argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return argv[i + 1];
    if (!arg.startsWith('-') || arg === '-') return arg;
    if (arg.includes('=')) continue;
    const opt = program.options.find((o) => o.long === arg || o.short === arg);
    if (opt && (opt.required || opt.optional)) i++;
  }
  return undefined;
}

/** The root program with the global options only (no command registered). */
function globalProgram(ctx: CliContext): Command {
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
    .option('--os-auth-url <url>', 'authentication URL (env OS_AUTH_URL)')
    .option('--os-auth-type <type>', 'password, token, v3applicationcredential, ... (env OS_AUTH_TYPE)')
    .option('--os-username <name>', 'user name (env OS_USERNAME)')
    .option('--os-user-id <id>', 'user id (env OS_USER_ID)')
    .option('--os-password <password>', 'password (env OS_PASSWORD)')
    .option('--os-user-domain-name <name>', 'domain of the user (env OS_USER_DOMAIN_NAME)')
    .option('--os-user-domain-id <id>', 'domain id of the user (env OS_USER_DOMAIN_ID)')
    .option('--os-project-name <name>', 'project to scope to (env OS_PROJECT_NAME)')
    .option('--os-project-id <id>', 'project id to scope to (env OS_PROJECT_ID)')
    .option('--os-project-domain-name <name>', 'domain of the project (env OS_PROJECT_DOMAIN_NAME)')
    .option('--os-project-domain-id <id>', 'domain id of the project (env OS_PROJECT_DOMAIN_ID)')
    .option('--os-token <token>', 'an existing token (env OS_TOKEN)')
    .option('--os-application-credential-id <id>', 'application credential id (env OS_APPLICATION_CREDENTIAL_ID)')
    .option('--os-application-credential-secret <secret>', 'application credential secret')
    .option('--os-interface <interface>', 'public, internal or admin (env OS_INTERFACE)')
    .option('--os-cacert <path>', 'CA bundle to verify TLS with (env OS_CACERT)')
    .option('--insecure', 'do not verify TLS certificates')
    .option('--timeout <seconds>', 'give up on a cloud after this many seconds (default 60)')
    .option('--concurrency <n>', 'how many clouds to talk to at once (default 16)')
    .option('--no-token-cache', 'do not keep tokens in ~/.cache/ocx (also OCX_TOKEN_CACHE=0)')
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => ctx.out(s),
      writeErr: (s) => ctx.err(s),
    })
    .exitOverride();
  return program;
}
