/** A gateway on an in-process devcloud (idp + sp1 + sp2, K2K wired), the demo user's token, and clients. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type CloudsConfig, createSession, loadCloudsConfig } from '@ocx/sdk';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import type { UploadImageRequest } from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
import { type Gateway, type GatewayOptions, startGateway } from '../src/server.ts';

export interface Env {
  dc: Devcloud;
  /** devcloud's clouds.yaml (idp, idp-admin, sp1, sp2). */
  cloudsYaml: string;
  config: CloudsConfig;
  gw: Gateway;
  /** The demo user's token on idp. */
  token: string;
  grpc: Transport;
  client: Client<typeof CloudService>;
  /** Call options carrying the bearer token. */
  auth: { headers: { authorization: string } };
  stop(): Promise<void>;
}

export async function startEnv(opts: Partial<GatewayOptions> = {}, clouds = ['idp', 'sp1', 'sp2']): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-gw-'));
  const cloudsYamlPath = join(dir, 'clouds.yaml');
  const dc = await startDevcloud({ clouds, cloudsYamlPath, transitionMs: 300, logLevel: 'silent' });
  const config = loadCloudsConfig({
    files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
    loadEnv: false,
  });
  const gw = await startGateway({
    home: config.getCloud('idp-admin'),
    homeName: 'idp',
    watchIntervalMs: 100,
    cloudOptions: { pollIntervalMs: 100, serverListAgeMs: 0 },
    ...opts,
  });
  const session = createSession(config.getCloud('idp'));
  const token = await session.getToken();
  await session.close();
  const grpc = createGrpcTransport({ baseUrl: gw.grpcUrl });
  return {
    dc,
    cloudsYaml: cloudsYamlPath,
    config,
    gw,
    token,
    grpc,
    client: createClient(CloudService, grpc),
    auth: { headers: { authorization: `Bearer ${token}` } },
    async stop() {
      // devcloud first: requests a test left hanging on it end, so the gateway's pools close at once.
      await dc.stop();
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function connectTransport(gw: Gateway): Transport {
  return createConnectTransport({ baseUrl: gw.httpUrl, httpVersion: '1.1' });
}

export function grpcWebTransport(gw: Gateway): Transport {
  return createGrpcWebTransport({ baseUrl: gw.httpUrl, httpVersion: '1.1' });
}

/**
 * A clouds.yaml (in `dir`) whose entries log in to idp as its demo user (or `as` another idp entry's user): with
 * `url`, reached through the gateway at `url` as its cloud `cloud` (clouds.yaml `gateway:`); without, idp over REST.
 */
export function gatewayCloudsYaml(
  env: Env,
  dir: string,
  entries: Record<string, { url?: string; cloud?: string; as?: string }>,
): CloudsConfig {
  const path = join(dir, `clouds-${Object.keys(entries).join('-')}.yaml`);
  const body = Object.entries(entries)
    .map(([name, g]) => {
      const idp = env.config.getCloud(g.as ?? 'idp');
      return `  ${name}:
    auth:
      auth_url: "${idp.auth.auth_url}"
      username: "${idp.auth.username}"
      password: "${idp.auth.password}"
      project_name: "${idp.auth.project_name}"
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
${g.url ? `    gateway:\n      url: "${g.url}"\n      cloud: ${g.cloud}\n` : ''}`;
    })
    .join('');
  writeFileSync(path, `clouds:\n${body}`);
  return loadCloudsConfig({ files: { clouds: [path], secure: [], publicClouds: [] }, loadEnv: false });
}

/** A new token of a user of idp (a password login of its own, never a cached one). */
export async function passwordToken(
  env: Env,
  user = 'demo',
  password = 'demo-secret',
  project = 'demo',
): Promise<string> {
  const base = String(env.config.getCloud('idp').auth.auth_url).replace(/\/+$/, '');
  const authUrl = /\/v3$/.test(base) ? base : `${base}/v3`;
  const r = await fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`login of ${user} failed: ${r.status} ${await r.text()}`);
  return r.headers.get('x-subject-token') ?? '';
}

export type UploadInit = Omit<UploadImageRequest, '$typeName' | '$unknown'>;

/** UploadImage's messages: the metadata for `name` in sp1 (sha256 of `data` unless given), then `data` in `chunk`s. */
export async function* uploadParts(
  name: string,
  data: Buffer,
  chunk: number,
  sha256?: string,
): AsyncGenerator<UploadInit> {
  yield {
    part: {
      case: 'metadata',
      value: {
        $typeName: 'ocx.cloud.v1.UploadImageMetadata',
        location: { $typeName: 'ocx.cloud.v1.Location', cloud: 'sp1', region: '', zone: '' },
        name,
        diskFormat: 'raw',
        containerFormat: 'bare',
        visibility: '',
        meta: {},
        sha256: sha256 ?? createHash('sha256').update(data).digest('hex'),
        size: BigInt(data.byteLength),
        wait: true,
        allowDuplicates: false,
      },
    },
  };
  for (let off = 0; off < data.byteLength; off += chunk) {
    yield { part: { case: 'chunk', value: data.subarray(off, off + chunk) } };
  }
}
