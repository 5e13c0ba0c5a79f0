/**
 * `ocx devcloud [options]` and `ocx up`: start devcloud in the foreground, write clouds.yaml, print what to try,
 * stop cleanly on SIGINT/SIGTERM. The CLI package hands these functions the raw argv.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FaultSpec } from './context.ts';
import { type Devcloud, type DevcloudOptions, startDevcloud } from './devcloud.ts';
import { parseFaultSpec } from './faults.ts';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Resolves when the command should stop (default: SIGINT or SIGTERM). */
  untilStopped?: Promise<unknown>;
  cwd?: string;
}

const defaultIo = (): CliIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});

export const DEVCLOUD_USAGE = `Usage: ocx devcloud [options]

Start devcloud: several OpenStack clouds on 127.0.0.1 (Keystone, and the services built in), federated with
Keystone-to-Keystone (the first cloud is the identity provider of the others). Runs until Ctrl-C.

Options:
  --clouds-yaml PATH   where to write clouds.yaml (default ./clouds.yaml)
  --state PATH         keep state in this SQLite file (survives restarts); default: in memory
  --clouds N|NAMES     number of clouds (idp, sp1, ... spN-1) or a comma list of names (default 3)
  --base-port PORT     cloud i listens on PORT+i (default: free ports)
  --transition-ms MS   how long BUILD/creating states last (default 1000)
  --token-ttl SECONDS  token lifetime (default 3600)
  --faults FILE        JSON {"<cloud>": {"<service or *>": {latencyMs, jitterMs, errorRate, errorStatus,
                       down, hang, slowBodyBytesPerSec}}} applied at start
  -h, --help           show this help
`;

/** Parse `ocx devcloud` options into startDevcloud options (throws Error with a usage message on bad input). */
export function parseDevcloudArgs(argv: string[], cwd = process.cwd()): DevcloudOptions & { help?: boolean } {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      'clouds-yaml': { type: 'string' },
      state: { type: 'string' },
      clouds: { type: 'string' },
      'base-port': { type: 'string' },
      'transition-ms': { type: 'string' },
      'token-ttl': { type: 'string' },
      faults: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const int = (v: string | undefined, name: string, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
    return n;
  };
  let clouds: string[] | undefined;
  if (values.clouds !== undefined) {
    if (/^\d+$/.test(values.clouds)) {
      const n = int(values.clouds, 'clouds', 1, 50) as number;
      clouds = ['idp', ...Array.from({ length: n - 1 }, (_, i) => `sp${i + 1}`)];
    } else {
      clouds = values.clouds
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
  }
  let faults: Record<string, Record<string, FaultSpec>> | undefined;
  if (values.faults) {
    const raw = JSON.parse(readFileSync(resolve(cwd, values.faults), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    faults = {};
    for (const [cloud, byService] of Object.entries(raw)) {
      faults[cloud] = {};
      for (const [service, spec] of Object.entries(byService))
        (faults[cloud] as Record<string, FaultSpec>)[service] = parseFaultSpec(spec);
    }
  }
  const basePort = int(values['base-port'], 'base-port', 1, 65000);
  const transitionMs = int(values['transition-ms'], 'transition-ms', 0, 3_600_000);
  const tokenTtlSeconds = int(values['token-ttl'], 'token-ttl', 1, 31_536_000);
  return {
    cloudsYamlPath: resolve(cwd, values['clouds-yaml'] ?? 'clouds.yaml'),
    ...(values.state ? { statePath: resolve(cwd, values.state) } : {}),
    ...(clouds ? { clouds } : {}),
    ...(basePort !== undefined ? { basePort } : {}),
    ...(transitionMs !== undefined ? { transitionMs } : {}),
    ...(tokenTtlSeconds !== undefined ? { tokenTtlSeconds } : {}),
    ...(faults ? { faults } : {}),
  };
}

/** What `ocx devcloud` prints once it is up. */
export function banner(dc: Devcloud, statePath?: string): string {
  const idp = dc.clouds[0];
  const sps = dc.clouds.slice(1);
  const width = Math.max(...dc.clouds.map((c) => c.name.length));
  const lines = [
    `devcloud is running: ${dc.clouds.length} cloud(s)${sps.length > 0 ? `, K2K federation ${idp?.name} -> ${sps.map((s) => s.name).join(', ')}` : ''}`,
    ...dc.clouds.map(
      (c) =>
        `  ${c.name.padEnd(width)}  ${c.baseUrl}  (Keystone ${c.baseUrl}/identity${c.role === 'idp' && sps.length > 0 ? ', identity provider' : ''})`,
    ),
    `clouds.yaml: ${dc.cloudsYamlPath ?? '(not written)'} — clouds ${dc.clouds.map((c) => c.name).join(', ')} (user demo) and ${dc.clouds
      .map((c) => `${c.name}-admin`)
      .join(', ')} (user admin)`,
    ...dc.synnefo.map(
      (c) =>
        `  ${c.name.padEnd(width)}  ${c.baseUrl}  (Synnefo: Astakos ${c.astakosUrl}, Cyclades, Pithos; clouds.yaml '${c.name}', user ${c.user.email}; in memory)`,
    ),
    `state: ${statePath ?? 'in memory (use --state FILE to keep it)'}`,
    '',
    'Try:',
    `  export OS_CLIENT_CONFIG_FILE=${dc.cloudsYamlPath ?? 'clouds.yaml'}`,
    `  ocx --os-cloud ${idp?.name} token issue`,
    '  ocx cloud list',
    `  openstack --os-cloud ${idp?.name} token issue`,
  ];
  if (sps[0]) {
    lines.push(
      `  openstack --os-cloud ${idp?.name} --os-service-provider ${sps[0].name} --os-remote-project-name demo --os-remote-project-domain-name Default token issue`,
      `  curl -X PUT ${idp?.baseUrl}/_devcloud/faults -H 'content-type: application/json' -d '{"cloud":"${sps[0].name}","service":"*","latencyMs":500}'`,
      `  curl -X DELETE '${idp?.baseUrl}/_devcloud/faults?cloud=${sps[0].name}'`,
    );
  }
  lines.push('', 'Ctrl-C stops it.', '');
  return lines.join('\n');
}

/** Resolves on the first SIGINT or SIGTERM; dispose() removes the handlers (also used by `ocx up`). */
export function stopSignals(): { promise: Promise<string>; dispose(): void } {
  let handler: (sig: string) => void = () => {};
  const promise = new Promise<string>((res) => {
    handler = res;
  });
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Start devcloud with parsed options; returns the running devcloud (the caller stops it). */
export async function runDevcloud(opts: DevcloudOptions, io: CliIo = defaultIo()): Promise<Devcloud> {
  const dc = await startDevcloud(opts);
  io.out(banner(dc, opts.statePath));
  return dc;
}

/** `ocx devcloud ...`: runs in the foreground until SIGINT/SIGTERM (or `io.untilStopped`). Exit status. */
export async function runDevcloudCommand(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let opts: ReturnType<typeof parseDevcloudArgs>;
  try {
    opts = parseDevcloudArgs(argv, io.cwd);
  } catch (err) {
    io.err(`ocx devcloud: ${(err as Error).message}\n\n${DEVCLOUD_USAGE}`);
    return 2;
  }
  if (opts.help) {
    io.out(DEVCLOUD_USAGE);
    return 0;
  }
  const sig = io.untilStopped ? undefined : stopSignals();
  let dc: Devcloud;
  try {
    dc = await runDevcloud(opts, io);
  } catch (err) {
    sig?.dispose();
    const e = err as NodeJS.ErrnoException;
    io.err(
      `ocx devcloud: could not start: ${e.code === 'EADDRINUSE' ? `port in use (${e.message}); pick another --base-port` : e.message}\n`,
    );
    return 1;
  }
  await (io.untilStopped ?? sig?.promise);
  sig?.dispose();
  io.out('devcloud: stopping\n');
  await dc.stop();
  return 0;
}
