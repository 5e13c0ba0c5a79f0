import type { Command } from 'commander';

/** What every command gets: where to write, the environment, and where to put the exit status. */
export interface CliContext {
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** The process exit status main() returns (commands set it; 0 by default). */
  exitCode: number;
  /** stdout is a terminal a person looks at (commands may draw extras such as usage bars). Default false. */
  readonly isTTY?: boolean | undefined;
  /** stderr is a terminal: progress lines may be drawn there (never otherwise). */
  readonly errIsTTY?: boolean;
}

/** A command module registers its subcommands on the root program (see commands/index.ts). */
export type RegisterCommands = (program: Command, ctx: CliContext) => void;

/** The global (python-openstackclient style) options, as parsed. */
export interface GlobalOptions {
  osCloud: string[];
  allClouds?: boolean;
  osRegionName?: string;
  osServiceProvider: string[];
  osRemoteProjectName?: string;
  osRemoteProjectId?: string;
  osRemoteProjectDomainName?: string;
  osRemoteProjectDomainId?: string;
  osAuthUrl?: string;
  osAuthType?: string;
  osUsername?: string;
  osUserId?: string;
  osPassword?: string;
  osUserDomainName?: string;
  osUserDomainId?: string;
  osProjectName?: string;
  osProjectId?: string;
  osProjectDomainName?: string;
  osProjectDomainId?: string;
  osToken?: string;
  osApplicationCredentialId?: string;
  osApplicationCredentialSecret?: string;
  osInterface?: string;
  osCacert?: string;
  insecure?: boolean;
  /** Per-cloud deadline in seconds. */
  timeout?: string;
  concurrency?: string;
  debug?: boolean;
  /** False with --no-token-cache. */
  tokenCache?: boolean;
}
