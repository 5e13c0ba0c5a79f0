/**
 * `ocx proxy --home-cloud NAME [--listen 127.0.0.1:9913] [--db PATH|postgres://…]` (the CLI hands its argv here).
 * Prints `listening <url>` on stdout once ready and runs until SIGINT/SIGTERM. Exit status: 0 after a clean stop,
 * 2 on bad usage, 1 when the proxy cannot start.
 */
import { parseArgs } from 'node:util';
import { isOcxError } from '@ocx/sdk';
import { findNginx } from './native/lane.ts';
import { startProxy } from './start.ts';

const USAGE = `usage: ocx proxy --home-cloud NAME [--listen HOST:PORT] [--db PATH|postgres://...] [--data-plane auto|node|nginx]

Run the federation proxy: compute, block storage, image, network and object storage of the home cloud and of
every Keystone-to-Keystone service provider its Keystone lists, behind one set of endpoints:
  /compute/v2.1  /volume/v3/<project_id>  /image  /network  /object-store/v1/AUTH_<project_id>

  --home-cloud NAME   clouds.yaml entry: the proxy's service account on the home Keystone (required)
  --listen HOST:PORT  where to listen (default 127.0.0.1:9913)
  --db PATH|URL       SQLite file (default ./ocx-proxy.sqlite), or postgres://... for replicas sharing state
  --clouds-file PATH  clouds.yaml to read (default: openstacksdk's search path)
  --log-level LEVEL   pino level (default info; env OCX_LOG_LEVEL)
  --data-plane PLANE  who listens: nginx (Debian's, with libnginx-mod-http-lua) answering repeated pass-through
                      GET/HEAD itself in front of the engine, or node (the engine alone); auto (default, env
                      OCX_PROXY_DATA_PLANE) picks nginx when it is installed
  --peer-user NAME    a user of the home Keystone (name or id) whose proxy may inject mappings here (token
                      injection); repeatable. Without it every injection is refused (403)
  --peer-role ROLE    the role a peer user must hold at the home Keystone (default service)
  --peer-account SP=CLOUD
                      clouds.yaml entry this proxy logs in with at service provider SP, to inject mappings into
                      the proxy in front of SP's services (it must be a --peer-user there); repeatable
`;

export async function runProxyCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'home-cloud': { type: 'string' },
        listen: { type: 'string', default: '127.0.0.1:9913' },
        db: { type: 'string', default: 'ocx-proxy.sqlite' },
        'clouds-file': { type: 'string' },
        'log-level': { type: 'string' },
        'data-plane': { type: 'string', default: process.env.OCX_PROXY_DATA_PLANE || 'auto' },
        'peer-user': { type: 'string', multiple: true },
        'peer-role': { type: 'string' },
        'peer-account': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof values['home-cloud'] !== 'string') {
    process.stderr.write(`--home-cloud is required\n${USAGE}`);
    return 2;
  }
  const plane = values['data-plane'];
  if (plane !== 'auto' && plane !== 'node' && plane !== 'nginx') {
    process.stderr.write(`--data-plane must be auto, node or nginx (got ${String(plane)})\n${USAGE}`);
    return 2;
  }
  const peerAccounts: Record<string, string> = {};
  for (const a of (values['peer-account'] as string[] | undefined) ?? []) {
    const i = a.indexOf('=');
    if (i <= 0 || i === a.length - 1) {
      process.stderr.write(`--peer-account must be SP=CLOUD (got ${a})\n${USAGE}`);
      return 2;
    }
    peerAccounts[a.slice(0, i)] = a.slice(i + 1);
  }
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  try {
    proxy = await startProxy({
      homeCloud: values['home-cloud'],
      listen: values.listen as string,
      db: values.db as string,
      cloudsFile: values['clouds-file'] as string | undefined,
      logLevel: values['log-level'] as string | undefined,
      dataPlane: plane === 'auto' ? (findNginx() ? 'nginx' : 'node') : plane,
      peerUsers: values['peer-user'] as string[] | undefined,
      peerRole: values['peer-role'] as string | undefined,
      peerAccounts,
    });
  } catch (err) {
    process.stderr.write(`ocx proxy: ${isOcxError(err) ? err.summary() : (err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`listening ${proxy.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      proxy.stop().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
