/**
 * `ocx up` (what `npm start` runs): the main job on its embedded default — devcloud (three clouds federated by
 * K2K) with the federation proxy in front of its home cloud (SQLite state), the proxy registered in the home
 * Keystone's catalog as region `ocx-proxy`, and a clouds.yaml entry `idp-proxy` that reaches every cloud through it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { banner, DEVCLOUD_USAGE, type Devcloud, parseDevcloudArgs, startDevcloud, stopSignals } from '@ocx/devcloud';
import { type Gateway, gatewayBanner, startGateway } from '@ocx/gateway';
import { findNginx, type RunningProxy, registerProxyRegion, startProxy } from '@ocx/proxy';
import { loadCloudsConfig } from '@ocx/sdk';
import { parse, stringify } from 'yaml';

export interface UpIo {
  out(text: string): void;
  err(text: string): void;
  cwd: string;
  /** Resolves when `up` should stop (default: SIGINT or SIGTERM). */
  untilStopped?: Promise<unknown>;
}

export const UP_USAGE = `Usage: ocx up [options]

Start the main job on its embedded default: devcloud (idp, sp1, sp2 federated by K2K) and the federation proxy
in front of idp (SQLite state). The proxy is registered in idp's catalog as region 'ocx-proxy', and clouds.yaml
gets a cloud 'idp-proxy' (user demo) that reaches every cloud through it. Runs until Ctrl-C.

Proxy options:
  --proxy-listen HOST:PORT  where the proxy listens (default 127.0.0.1:9913)
  --proxy-db PATH           proxy state (SQLite file or postgres://...); default: next to --state, else temporary
  --no-proxy                no federation proxy

gRPC gateway options:
  --gateway-listen HOST:PORT  gRPC (h2c) port; Connect + gRPC-Web on PORT+1 (default 127.0.0.1:9914)
  --no-gateway                no gRPC gateway

${DEVCLOUD_USAGE.replace(/^Usage: .*\n\n[^\n]*\n[^\n]*\n\n/, 'devcloud options (as ocx devcloud):\n')}`;

interface UpOptions {
  proxyListen: string;
  proxyDb?: string | undefined;
  proxy: boolean;
  gatewayListen: string;
  gateway: boolean;
  devcloudArgv: string[];
}

function splitArgs(argv: string[]): UpOptions {
  const out: UpOptions = {
    proxyListen: '127.0.0.1:9913',
    proxy: true,
    gatewayListen: '127.0.0.1:9914',
    gateway: true,
    devcloudArgv: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--proxy-listen') out.proxyListen = value();
    else if (flag === '--proxy-db') out.proxyDb = value();
    else if (flag === '--no-proxy') out.proxy = false;
    else if (flag === '--gateway-listen') out.gatewayListen = value();
    else if (flag === '--no-gateway') out.gateway = false;
    else out.devcloudArgv.push(a);
  }
  return out;
}

/** Add the `idp-proxy` cloud (the home cloud's demo user, region ocx-proxy) to devcloud's clouds.yaml. */
function addProxyCloud(cloudsYamlPath: string, home: string, region: string): string {
  const doc = parse(readFileSync(cloudsYamlPath, 'utf8')) as { clouds: Record<string, Record<string, unknown>> };
  const base = doc.clouds[home];
  if (!base) throw new Error(`clouds.yaml has no cloud '${home}'`);
  const name = `${home}-proxy`;
  doc.clouds[name] = { ...structuredClone(base), region_name: region };
  writeFileSync(cloudsYamlPath, stringify(doc));
  return name;
}

/**
 * Add `<cloud>-gw` for every devcloud cloud: the home cloud's demo user, reaching that cloud through the gRPC
 * gateway (clouds.yaml `gateway:`), so `ocx --os-cloud sp1-gw server list` uses the SDK's gateway backend.
 */
function addGatewayClouds(cloudsYamlPath: string, home: string, clouds: readonly string[], url: string): string[] {
  const doc = parse(readFileSync(cloudsYamlPath, 'utf8')) as { clouds: Record<string, Record<string, unknown>> };
  const base = doc.clouds[home];
  if (!base) throw new Error(`clouds.yaml has no cloud '${home}'`);
  const names = clouds.map((cloud) => {
    const name = `${cloud}-gw`;
    doc.clouds[name] = { ...structuredClone(base), gateway: { url, cloud } };
    return name;
  });
  writeFileSync(cloudsYamlPath, stringify(doc));
  return names;
}

export async function runUp(argv: string[], io: UpIo): Promise<number> {
  let opts: UpOptions;
  let dcOpts: ReturnType<typeof parseDevcloudArgs>;
  try {
    opts = splitArgs(argv);
    dcOpts = parseDevcloudArgs(opts.devcloudArgv, io.cwd);
  } catch (err) {
    io.err(`ocx up: ${(err as Error).message}\n\n${UP_USAGE}`);
    return 2;
  }
  if (dcOpts.help) {
    io.out(UP_USAGE);
    return 0;
  }
  const sig = io.untilStopped ? undefined : stopSignals();
  let dc: Devcloud | undefined;
  let proxy: RunningProxy | undefined;
  let gateway: Gateway | undefined;
  let tempDir: string | undefined;
  try {
    dc = await startDevcloud(dcOpts);
    io.out(banner(dc, dcOpts.statePath).replace(/\nCtrl-C stops it\.\n*$/, '\n'));
    if (opts.proxy && dc.clouds.length > 1 && dc.cloudsYamlPath) {
      const home = dc.clouds[0]!.name;
      let db = opts.proxyDb;
      if (!db) {
        if (dcOpts.statePath) {
          db = `${resolve(io.cwd, dcOpts.statePath)}.proxy.sqlite`;
          mkdirSync(dirname(db), { recursive: true });
        } else {
          tempDir = mkdtempSync(join(tmpdir(), 'ocx-up-'));
          db = join(tempDir, 'proxy.sqlite');
        }
      }
      proxy = await startProxy({
        homeCloud: `${home}-admin`,
        cloudsFile: dc.cloudsYamlPath,
        listen: opts.proxyListen,
        db,
        logLevel: process.env.OCX_LOG_LEVEL ?? 'warn',
        // As `ocx proxy`: nginx in front (the native lane) when it is installed, else the engine alone.
        dataPlane: process.env.OCX_PROXY_DATA_PLANE === 'node' || !findNginx() ? 'node' : 'nginx',
      });
      const admin = loadCloudsConfig({
        files: { clouds: [dc.cloudsYamlPath], secure: [], publicClouds: [] },
        loadEnv: false,
      }).getCloud(`${home}-admin`);
      const { region } = await registerProxyRegion(admin, proxy.url);
      const viaProxy = addProxyCloud(dc.cloudsYamlPath, home, region);
      io.out(
        [
          `federation proxy: ${proxy.url} (home cloud ${home}; state ${db.startsWith('postgres') ? 'PostgreSQL' : db})`,
          `  in ${home}'s catalog as region '${region}'; clouds.yaml cloud '${viaProxy}' (user demo) uses it:`,
          `  openstack --os-cloud ${viaProxy} server list        # servers of every cloud in one list`,
          `  ocx --os-cloud ${viaProxy} image list`,
          `  curl ${proxy.url}/metrics`,
          '',
        ].join('\n'),
      );
    }
    if (opts.gateway && dc.cloudsYamlPath) {
      const home = dc.clouds[0]!.name;
      const i = opts.gatewayListen.lastIndexOf(':');
      const port = Number(opts.gatewayListen.slice(i + 1));
      gateway = await startGateway({
        home: loadCloudsConfig({
          files: { clouds: [dc.cloudsYamlPath], secure: [], publicClouds: [] },
          loadEnv: false,
        }).getCloud(`${home}-admin`),
        homeName: home,
        host: opts.gatewayListen.slice(0, i),
        port,
        httpPort: port === 0 ? 0 : port + 1,
      });
      io.out(gatewayBanner(gateway, home));
      const viaGateway = addGatewayClouds(
        dc.cloudsYamlPath,
        home,
        dc.clouds.map((c) => c.name),
        gateway.grpcUrl,
      );
      io.out(
        `  clouds.yaml clouds ${viaGateway.join(', ')} (user demo) reach them through it (the SDK over gRPC):\n` +
          `  ocx --os-cloud ${viaGateway[viaGateway.length - 1]} server list\n\n`,
      );
    }
    io.out('Ctrl-C stops it.\n');
  } catch (err) {
    sig?.dispose();
    const e = err as NodeJS.ErrnoException;
    io.err(
      `ocx up: could not start: ${e.code === 'EADDRINUSE' ? `port in use (${e.message}); pick another --proxy-listen, --gateway-listen or --base-port` : e.message}\n`,
    );
    await gateway?.close().catch(() => {});
    await proxy?.stop().catch(() => {});
    await dc?.stop().catch(() => {});
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    return 1;
  }
  await (io.untilStopped ?? sig?.promise);
  sig?.dispose();
  io.out('ocx up: stopping\n');
  await gateway?.close();
  await proxy?.stop();
  await dc.stop();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  return 0;
}
