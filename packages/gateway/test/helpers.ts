/** A gateway on an in-process devcloud (idp + sp1 + sp2, K2K wired), the demo user's token, and clients. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type CloudsConfig, createSession, loadCloudsConfig } from '@ocx/sdk';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { type Gateway, type GatewayOptions, startGateway } from '../src/server.ts';

export interface Env {
  dc: Devcloud;
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
