/**
 * `ocx gateway --home-cloud NAME [...]` (the CLI hands its argv here). Prints where it listens and a ready-to-run
 * `buf curl` example, then runs until SIGINT/SIGTERM. Exit status: 0 after a clean stop, 2 on bad usage, 1 when
 * the gateway cannot start.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadCloudsConfig } from '@ocx/sdk';
import { type Gateway, type GatewayOptions, startGateway } from './server.ts';

export const GATEWAY_USAGE = `usage: ocx gateway --home-cloud NAME [--listen HOST:PORT] [--http-port PORT] [TLS options]

Run the gRPC gateway: nodepool's surface of every cloud the caller reaches (the home cloud, and its Keystone's
service providers by K2K in the caller's name) over gRPC, gRPC-Web and Connect. Callers send
'authorization: Bearer <Keystone token of the home cloud>'.

  --home-cloud NAME       clouds.yaml entry: the gateway's service account on the home Keystone (required)
  --home-name NAME        the home cloud's name in locations (default: NAME without a trailing -admin)
  --listen HOST:PORT      gRPC (h2c), or the one TLS port (default 127.0.0.1:9914)
  --http-port PORT        cleartext only: HTTP/1.1 port for Connect and gRPC-Web (default: listen port + 1)
  --tls-cert PATH         serve TLS (one port for gRPC, gRPC-Web and Connect)
  --tls-key PATH
  --client-ca PATH        require client certificates signed by this CA (mTLS)
  --insecure              allow cleartext on a non-loopback address
  --no-k2k                only the home cloud
  --service-provider ID   only these K2K service providers (repeatable; default: all the caller's token lists)
  --gateway-cloud NAME    also serve this clouds.yaml entry, which has \`gateway:\` (a cloud behind another OCX
                          gateway; the caller's token is forwarded there) (repeatable)
  --clouds-file PATH      clouds.yaml to read (default: openstacksdk's search path)
  --max-connections N     open connections per listener at most (default 4096)
  --headers-timeout S     seconds for an HTTP/1.1 head or a new HTTP/2 connection's first stream (default 20)
  --idle-timeout S        seconds before an HTTP/2 connection with no open stream gets GOAWAY (default 300)
`;

/** A positive number of the option, or undefined when absent. */
function positive(values: Record<string, unknown>, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not '${String(v)}'`);
  return n;
}

function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad HOST:PORT '${s}'`);
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

/** What `ocx gateway` and `ocx up` print once the gateway listens. */
export function gatewayBanner(gw: Gateway, home: string): string {
  const h2c = gw.grpcUrl.startsWith('http:') ? ' --http2-prior-knowledge' : '';
  return [
    `gRPC gateway: gRPC ${gw.grpcUrl}${gw.httpUrl !== gw.grpcUrl ? `; Connect + gRPC-Web (HTTP/1.1) ${gw.httpUrl}` : ''}`,
    `  callers send a ${home} token: TOKEN=$(ocx --os-cloud ${home} token issue -f value -c id)`,
    `  npx buf curl --protocol grpc${h2c} -H "authorization: Bearer $TOKEN" -d '{}' \\`,
    `    ${gw.grpcUrl}/ocx.cloud.v1.CloudService/ListFlavors`,
    `  npx buf curl${h2c} --list-services ${gw.grpcUrl}     # reflection: no schema needed`,
    '',
  ].join('\n');
}

export async function runGatewayCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'home-cloud': { type: 'string' },
        'home-name': { type: 'string' },
        listen: { type: 'string', default: '127.0.0.1:9914' },
        'http-port': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'client-ca': { type: 'string' },
        insecure: { type: 'boolean' },
        'no-k2k': { type: 'boolean' },
        'service-provider': { type: 'string', multiple: true },
        'gateway-cloud': { type: 'string', multiple: true },
        'clouds-file': { type: 'string' },
        'max-connections': { type: 'string' },
        'headers-timeout': { type: 'string' },
        'idle-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${GATEWAY_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(GATEWAY_USAGE);
    return 0;
  }
  const homeCloud = values['home-cloud'];
  if (typeof homeCloud !== 'string') {
    process.stderr.write(`--home-cloud is required\n${GATEWAY_USAGE}`);
    return 2;
  }
  if (!!values['tls-cert'] !== !!values['tls-key']) {
    process.stderr.write(`--tls-cert and --tls-key go together\n${GATEWAY_USAGE}`);
    return 2;
  }
  let limits: GatewayOptions['limits'];
  try {
    const seconds = (name: string) => {
      const n = positive(values, name);
      return n === undefined ? undefined : n * 1000;
    };
    limits = {
      maxConnections: positive(values, 'max-connections'),
      headersTimeoutMs: seconds('headers-timeout'),
      idleTimeoutMs: seconds('idle-timeout'),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${GATEWAY_USAGE}`);
    return 2;
  }
  let gw: Gateway;
  const homeName = (values['home-name'] as string | undefined) ?? homeCloud.replace(/-admin$/, '');
  try {
    const { host, port } = splitHostPort(values.listen as string);
    const files = values['clouds-file']
      ? { files: { clouds: [values['clouds-file'] as string], secure: [], publicClouds: [] } }
      : {};
    const clouds = loadCloudsConfig(files);
    const gatewayClouds = ((values['gateway-cloud'] as string[] | undefined) ?? []).map((name) => {
      const cfg = clouds.getCloud(name);
      if (!cfg.gateway) throw new Error(`--gateway-cloud ${name}: that clouds.yaml entry has no gateway: setting`);
      return cfg;
    });
    const opts: GatewayOptions = {
      home: clouds.getCloud(homeCloud),
      gatewayClouds,
      homeName,
      host,
      port,
      httpPort: values['http-port'] ? Number(values['http-port']) : port === 0 ? 0 : port + 1,
      insecure: values.insecure === true,
      k2k: values['no-k2k'] !== true,
      serviceProviders: values['service-provider'] as string[] | undefined,
      limits,
    };
    if (values['tls-cert']) {
      opts.tls = {
        cert: readFileSync(values['tls-cert'] as string),
        key: readFileSync(values['tls-key'] as string),
        clientCa: values['client-ca'] ? readFileSync(values['client-ca'] as string) : undefined,
      };
    }
    gw = await startGateway(opts);
  } catch (err) {
    process.stderr.write(`ocx gateway: could not start: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(gatewayBanner(gw, homeName));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await gw.close();
  return 0;
}
