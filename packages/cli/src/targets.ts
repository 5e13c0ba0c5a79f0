import {
  type CallFailure,
  type CloudOptions,
  type CloudSpec,
  type CloudsConfig,
  ErrorCode,
  loadCloudsConfig,
  MultiCloud,
  OcxError,
  overridesFromEnv,
} from '@ocx/sdk';
import type { CliContext, GlobalOptions } from './context.ts';
import { diskTokenCache, sessionFactoryWith } from './token-cache.ts';

export interface Targets {
  /** The clouds to talk to. */
  multi: MultiCloud;
  /** What owns the sessions (closing it closes them all). */
  root: MultiCloud;
  /** Failures found while connecting that no call will report again (K2K discovery, home auth). */
  connectFailures: CallFailure[];
  config: CloudsConfig;
  deadlineMs: number;
  concurrency: number;
}

/**
 * The cloud layer as one short-lived command wants it: a server or image named by id is one GET (as OSC does), not
 * a list search, and waits poll once a second.
 */
const CLI_CLOUD_OPTIONS: CloudOptions = { useDirectGet: true, serverListAgeMs: 0, pollIntervalMs: 1000 };

/** Seconds (OSC-style `--timeout`) to a per-cloud deadline in ms; `dflt` when not given. */
function deadlineOf(g: GlobalOptions, dflt = 60_000): number {
  if (g.timeout === undefined) return dflt;
  const s = Number(g.timeout);
  if (!Number.isFinite(s) || s <= 0)
    throw new OcxError(ErrorCode.CONFIG_INVALID, `--timeout expects a number of seconds, got '${g.timeout}'`);
  return Math.round(s * 1000);
}

function concurrencyOf(g: GlobalOptions): number {
  if (g.concurrency === undefined) return 16;
  const n = Number(g.concurrency);
  if (!Number.isInteger(n) || n < 1)
    throw new OcxError(ErrorCode.CONFIG_INVALID, `--concurrency expects a positive integer, got '${g.concurrency}'`);
  return n;
}

/** `--os-*` auth options as the OS_* variables they stand for (python-openstackclient reads one or the other). */
const FLAG_ENV: Array<[keyof GlobalOptions, string]> = [
  ['osAuthUrl', 'OS_AUTH_URL'],
  ['osAuthType', 'OS_AUTH_TYPE'],
  ['osUsername', 'OS_USERNAME'],
  ['osUserId', 'OS_USER_ID'],
  ['osPassword', 'OS_PASSWORD'],
  ['osUserDomainName', 'OS_USER_DOMAIN_NAME'],
  ['osUserDomainId', 'OS_USER_DOMAIN_ID'],
  ['osProjectName', 'OS_PROJECT_NAME'],
  ['osProjectId', 'OS_PROJECT_ID'],
  ['osProjectDomainName', 'OS_PROJECT_DOMAIN_NAME'],
  ['osProjectDomainId', 'OS_PROJECT_DOMAIN_ID'],
  ['osToken', 'OS_TOKEN'],
  ['osApplicationCredentialId', 'OS_APPLICATION_CREDENTIAL_ID'],
  ['osApplicationCredentialSecret', 'OS_APPLICATION_CREDENTIAL_SECRET'],
  ['osInterface', 'OS_INTERFACE'],
  ['osCacert', 'OS_CACERT'],
];

/** The flags given on the command line, as OS_* variables. */
export function flagEnv(g: Partial<GlobalOptions>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, name] of FLAG_ENV) {
    const v = g[flag];
    if (typeof v === 'string' && v !== '') out[name] = v;
  }
  if (g.insecure) out.OS_INSECURE = 'true';
  return out;
}

/** The environment ocx reads clouds from: the process's, with `--os-*` flags winning over OS_* variables. */
export function effectiveEnv(g: Partial<GlobalOptions>, ctx: CliContext): Record<string, string | undefined> {
  return { ...ctx.env, ...flagEnv(g) };
}

export function loadConfig(ctx: CliContext, g: Partial<GlobalOptions> = {}): CloudsConfig {
  return loadCloudsConfig({ env: effectiveEnv(g, ctx), cwd: ctx.cwd });
}

/**
 * Which clouds a command talks to, from the global options, the way python-openstackclient picks one cloud:
 * `--os-cloud NAME` (repeatable) in `--os-region-name` (or OS_REGION_NAME, else the cloud's first region);
 * `--all-clouds`: every cloud × region in clouds.yaml (only `--os-region-name`'s region when given);
 * neither: the default cloud (OS_CLOUD, the OS_* envvars cloud, or the only cloud).
 * `--os-service-provider SP` (repeatable) reaches SP through the chosen (home) cloud's Keystone by K2K instead.
 */
export async function connectTargets(
  g: GlobalOptions,
  ctx: CliContext,
  defaults: { deadlineMs?: number | undefined } = {},
): Promise<Targets> {
  const config = loadConfig(ctx, g);
  const deadlineMs = deadlineOf(g, defaults.deadlineMs);
  const concurrency = concurrencyOf(g);
  const region = g.osRegionName ?? ctx.env.OS_REGION_NAME ?? undefined;
  const disk = diskTokenCache(g, ctx);
  const sessionFactory = disk ? sessionFactoryWith(disk) : undefined;
  let specs: CloudSpec[];
  if (g.allClouds) {
    if (g.osCloud.length > 0)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'use either --os-cloud or --all-clouds, not both');
    specs = [];
    for (const name of config.cloudNames()) {
      const regions = config.regionsOf(name);
      if (g.osRegionName !== undefined) {
        if (regions.length === 0 || regions.includes(g.osRegionName))
          specs.push({ cloud: name, region: g.osRegionName });
      } else if (regions.length === 0) specs.push({ cloud: name });
      else for (const r of regions) specs.push({ cloud: name, region: r });
    }
    if (specs.length === 0) {
      throw new OcxError(
        ErrorCode.CONFIG_INVALID,
        config.cloudNames().length === 0
          ? 'no clouds are configured (no clouds.yaml found and no OS_* variables set)'
          : `no cloud has region '${g.osRegionName}'`,
      );
    }
  } else {
    const names = g.osCloud.length > 0 ? g.osCloud : [config.defaultCloud ?? ''];
    if (names[0] === '') {
      // Let the loader explain (no clouds at all, or several and none chosen).
      config.getCloud();
    }
    // As python-openstackclient does for its one cloud, OS_* variables and --os-* flags are laid over the chosen
    // cloud (they win over clouds.yaml). Over several clouds only the explicit flags are: one OS_AUTH_URL left in
    // the environment must not point every cloud at the same Keystone.
    const envKey = ctx.env.OS_CLOUD_NAME || 'envvars';
    const overrides = names.length === 1 ? overridesFromEnv(effectiveEnv(g, ctx)) : overridesFromEnv(flagEnv(g));
    specs = names.map((name) => ({ cloud: name, region, overrides: name === envKey ? undefined : overrides }));
  }

  if (g.osServiceProvider.length > 0) {
    if (specs.length !== 1)
      throw new OcxError(
        ErrorCode.CONFIG_INVALID,
        '--os-service-provider needs exactly one home cloud (--os-cloud NAME): the Keystone that is the identity provider',
      );
    const home = specs[0] as { cloud: string; region?: string };
    const homeConfig = config.getCloud(home.cloud, home.region ? { region: home.region } : {});
    const all = await MultiCloud.connect({
      config,
      home: homeConfig,
      clouds: [],
      k2k: {
        serviceProviders: g.osServiceProvider,
        remoteProjectName: g.osRemoteProjectName,
        remoteProjectId: g.osRemoteProjectId,
        remoteProjectDomainName: g.osRemoteProjectDomainName,
        remoteProjectDomainId: g.osRemoteProjectDomainId,
      },
      authenticate: false,
      deadlineMs,
      sessionFactory,
      cloudOptions: CLI_CLOUD_OPTIONS,
    });
    // Like `openstack --os-service-provider`, talk to the service providers only, not to the home cloud.
    const multi = all.select({ where: (c) => c.via === 'k2k' });
    // Service providers that could not be set up, and a home cloud that could not authenticate, are reported once.
    const failures = all.connectFailures.filter((f) => !multi.names().includes(f.name));
    return { multi, root: all, connectFailures: failures, config, deadlineMs, concurrency };
  }

  const multi = await MultiCloud.connect({
    config,
    clouds: specs,
    authenticate: false,
    deadlineMs,
    sessionFactory,
    cloudOptions: CLI_CLOUD_OPTIONS,
  });
  return { multi, root: multi, connectFailures: [], config, deadlineMs, concurrency };
}

/** Close the sessions of a Targets' root MultiCloud (select() views own none, so close via the root). */
export async function closeTargets(t: Targets): Promise<void> {
  await t.root.close();
}
