/**
 * The registration list: every command module of `ocx`, in help order, loaded only when its command runs (a cold
 * `ocx server list` must not pay for devcloud, the proxy or fastify). To add commands, write a module in this folder
 * exporting `register: RegisterCommands` (and, for commands that parse their own arguments,
 * `passthrough: Record<name, Passthrough>`), then add it here under the top-level command name(s) it registers.
 */
import type { RegisterCommands } from '../context.ts';
import type { Passthrough } from './passthrough.ts';

export interface CommandModule {
  register: RegisterCommands;
  passthrough?: Record<string, Passthrough>;
}

export interface CommandEntry {
  /** The top-level command names the module registers (`ocx NAME ...`). */
  readonly names: readonly string[];
  readonly load: () => Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { names: ['cloud'], load: () => import('./cloud.ts') },
  { names: ['token'], load: () => import('./token.ts') },
  { names: ['server'], load: () => import('./server.ts') },
  { names: ['image'], load: () => import('./image.ts') },
  { names: ['flavor'], load: () => import('./flavor.ts') },
  { names: ['keypair'], load: () => import('./keypair.ts') },
  { names: ['network'], load: () => import('./network.ts') },
  { names: ['subnet'], load: () => import('./subnet.ts') },
  { names: ['router'], load: () => import('./router.ts') },
  { names: ['volume'], load: () => import('./volume.ts') },
  { names: ['project'], load: () => import('./project.ts') },
  { names: ['quota'], load: () => import('./quota.ts') },
  { names: ['container'], load: () => import('./container.ts') },
  { names: ['object'], load: () => import('./object.ts') },
  { names: ['floating', 'server'], load: () => import('./floating.ts') },
  { names: ['limits'], load: () => import('./limits.ts') },
  // After the modules that make these groups: reassign (and create --project) adds subcommands to them.
  {
    names: ['volume', 'server', 'network', 'image', 'container', 'floating'],
    load: () => import('./reassign.ts'),
  },
  { names: ['devcloud', 'up'], load: () => import('./devcloud.ts') },
  { names: ['proxy'], load: () => import('./proxy.ts') },
  { names: ['gateway'], load: () => import('./gateway.ts') },
  { names: ['completion'], load: () => import('./completion.ts') },
];

/** Commands handed their raw argv (they own their options): `ocx devcloud|up|proxy|gateway ...`. */
export const PASSTHROUGH_NAMES: ReadonlySet<string> = new Set(['devcloud', 'up', 'proxy', 'gateway']);

/**
 * The modules to load for top-level command `name`: the ones that register it (several modules may add subcommands
 * to one command), or every one when no module names it (help, a typo: commander then lists or suggests commands).
 */
export function entriesFor(name: string | undefined): readonly CommandEntry[] {
  const own = name === undefined ? [] : COMMANDS.filter((e) => e.names.includes(name));
  return own.length > 0 ? own : COMMANDS;
}

/** The passthrough function of `name`, loading only its module. */
export async function passthroughOf(name: string): Promise<Passthrough | undefined> {
  if (!PASSTHROUGH_NAMES.has(name)) return undefined;
  const entry = COMMANDS.find((e) => e.names.includes(name));
  const mod = entry ? await entry.load() : undefined;
  return mod?.passthrough?.[name];
}
