/**
 * The gateway server: one Connect-ES router serving gRPC, gRPC-Web and Connect. Cleartext (loopback): an h2c
 * listener (gRPC) plus an HTTP/1.1 listener (Connect, gRPC-Web), since Node's cleartext HTTP/2 server refuses
 * HTTP/1.1. With TLS: one port for all three (`allowHTTP1`), `clientCa` for mTLS. A non-loopback address needs
 * TLS or an explicit `insecure`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type CloudConfig, type CloudOptions, ErrorCode, OcxError, TokenValidator } from '@ocx/sdk';
import { file_grpc_health_v1_health, Health } from '@ocx/sdk/gen/grpc/health/v1/health_pb';
import { file_grpc_reflection_v1_reflection, ServerReflection } from '@ocx/sdk/gen/grpc/reflection/v1/reflection_pb';
import { AuthService, file_ocx_auth_v1_auth_service } from '@ocx/sdk/gen/ocx/auth/v1/auth_service_pb';
import { CloudService, file_ocx_cloud_v1_cloud_service } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { file_ocx_cloud_v1_quota_service, QuotaService } from '@ocx/sdk/gen/ocx/cloud/v1/quota_service_pb';
import { file_ocx_cloud_v1_transfer_service, TransferService } from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
import { gatewayNodeAdapter } from './adapter.ts';
import { authInterceptor } from './auth/interceptor.ts';
import { UserClouds } from './auth/user-clouds.ts';
import type { GatewayDeps } from './context.ts';
import { healthService } from './health.ts';
import { http1Options, http2Settings, type ListenerLimits, limitHttp1, limitHttp2 } from './limits.ts';
import { reflectionService } from './reflection.ts';
import { ansibleHandlers } from './services/ansible.ts';
import { authHandlers } from './services/auth.ts';
import { capabilityHandlers } from './services/capabilities.ts';
import { containerHandlers } from './services/containers.ts';
import { floatingIpHandlers } from './services/floating-ips.ts';
import { networkWriteHandlers } from './services/network-write.ts';
import { objectHandlers } from './services/objects.ts';
import { portGroupHandlers } from './services/ports-groups.ts';
import { quotaHandlers } from './services/quotas.ts';
import { resourceHandlers } from './services/resources.ts';
import { serverActionHandlers } from './services/server-actions.ts';
import { serverHandlers } from './services/servers.ts';
import { transferHandlers } from './services/transfers.ts';
import { volumeWriteHandlers } from './services/volume-write.ts';
import { ServerWatchHub } from './watch/hub.ts';

export interface GatewayTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA bundle for client certificates: clients must present one it signed (mTLS). */
  clientCa?: string | Buffer | undefined;
}

export interface GatewayOptions {
  /** The home cloud: a service account on the Keystone that validates callers' tokens (and is K2K's IdP). */
  home: CloudConfig;
  /** The home cloud's name in locations (default: home.name). */
  homeName?: string | undefined;
  /** Reach the home Keystone's service providers by K2K in the caller's name (default true). */
  k2k?: boolean | undefined;
  serviceProviders?: readonly string[] | undefined;
  /**
   * Clouds this gateway reaches through other OCX gateways (clouds.yaml entries with `gateway:`), served to every
   * caller with the caller's own token forwarded (see auth/user-clouds.ts).
   */
  gatewayClouds?: readonly CloudConfig[] | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** gRPC (h2c) port, or the one TLS port. Default 0 (ephemeral). */
  port?: number | undefined;
  /** Cleartext only: the HTTP/1.1 port for Connect and gRPC-Web. Default 0. */
  httpPort?: number | undefined;
  tls?: GatewayTls | undefined;
  /** Allow cleartext on a non-loopback address. */
  insecure?: boolean | undefined;
  /** How long a validated token is reused (ms, never past its expiry). Default 30 s. */
  tokenCacheTtlMs?: number | undefined;
  /** Budget of one token validation at the home Keystone (ms, service login included). Default 10 000. */
  validateTimeoutMs?: number | undefined;
  /** How often a long-lived stream re-checks its caller's token with Keystone (ms, default 60 000). */
  streamRecheckMs?: number | undefined;
  /** Budget of one cloud within a call over many clouds (ms). Default 30 s. */
  perCloudDeadlineMs?: number | undefined;
  /** Pause between the shared server polls of one (cloud, project) (ms). Default 2000. */
  watchIntervalMs?: number | undefined;
  cloudOptions?: CloudOptions | undefined;
  /** Connection caps and head / idle deadlines of the listeners (limits.ts). */
  limits?: ListenerLimits | undefined;
  /** The largest request message taken, after decompression (bytes). Default 4 MiB, gRPC's own default. */
  readMaxBytes?: number | undefined;
}

/** gRPC's default limit on a received message (grpc-go, grpcio): larger ones are RESOURCE_EXHAUSTED. */
export const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

export interface Gateway {
  /** Where gRPC clients connect (h2c, or https with TLS). */
  readonly grpcUrl: string;
  /** Where Connect and gRPC-Web clients connect (the same as grpcUrl with TLS). */
  readonly httpUrl: string;
  readonly hub: ServerWatchHub;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const SERVED = [
  CloudService.typeName,
  TransferService.typeName,
  QuotaService.typeName,
  AuthService.typeName,
  Health.typeName,
  ServerReflection.typeName,
];

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.tls && !opts.insecure) {
    throw new OcxError(
      ErrorCode.CONFIG_INVALID,
      `the gateway listens on ${host} (not loopback) only with TLS (--tls-cert/--tls-key) or --insecure`,
    );
  }
  const closing = new AbortController();
  const validator = new TokenValidator({
    cloud: opts.home,
    cacheTtlMs: opts.tokenCacheTtlMs ?? 30_000,
    timeoutMs: opts.validateTimeoutMs ?? 10_000,
  });
  const clouds = new UserClouds({
    home: opts.home,
    homeName: opts.homeName,
    k2k: opts.k2k,
    serviceProviders: opts.serviceProviders,
    gatewayClouds: opts.gatewayClouds,
    cloudOptions: opts.cloudOptions,
  });
  const hub = new ServerWatchHub({ intervalMs: opts.watchIntervalMs });
  const deps: GatewayDeps = {
    validator,
    clouds,
    perCloudDeadlineMs: opts.perCloudDeadlineMs ?? 30_000,
    streamRecheckMs: opts.streamRecheckMs ?? 60_000,
  };

  const handler = gatewayNodeAdapter({
    interceptors: [
      authInterceptor(validator, new Set([CloudService.typeName, TransferService.typeName, QuotaService.typeName])),
    ],
    shutdownSignal: closing.signal,
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    routes(router) {
      router.service(CloudService, {
        ...resourceHandlers(deps),
        ...serverHandlers(deps, hub),
        ...capabilityHandlers(deps),
        ...ansibleHandlers(deps),
        ...networkWriteHandlers(deps),
        ...portGroupHandlers(deps),
        ...floatingIpHandlers(deps),
        ...volumeWriteHandlers(deps),
        ...serverActionHandlers(deps),
        ...containerHandlers(deps),
      });
      // Blob streams: no compression (every chunk would be gzipped for grpcio, which offers gzip).
      router.service(
        TransferService,
        { ...transferHandlers(deps), ...objectHandlers(deps) },
        { acceptCompression: [] },
      );
      router.service(QuotaService, quotaHandlers(deps));
      router.service(AuthService, authHandlers(opts.home));
      router.service(
        Health,
        healthService(() => SERVED, closing.signal),
      );
      router.service(
        ServerReflection,
        reflectionService(
          [
            file_ocx_cloud_v1_cloud_service,
            file_ocx_cloud_v1_transfer_service,
            file_ocx_cloud_v1_quota_service,
            file_ocx_auth_v1_auth_service,
            file_grpc_health_v1_health,
            file_grpc_reflection_v1_reflection,
          ],
          () => SERVED,
        ),
      );
    },
  });

  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (s: http2.Http2Server | http2.Http2SecureServer) =>
    s.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
  const listen = (server: http.Server | http2.Http2Server | http2.Http2SecureServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const limits = opts.limits ?? {};

  const servers: (http.Server | http2.Http2Server | http2.Http2SecureServer)[] = [];
  let grpcUrl: string;
  let httpUrl: string;
  try {
    if (opts.tls) {
      const tls = opts.tls;
      const secure = http2.createSecureServer(
        {
          cert: tls.cert,
          key: tls.key,
          allowHTTP1: true,
          settings: http2Settings(limits),
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      );
      track(secure);
      limitHttp2(secure, limits);
      servers.push(secure);
      grpcUrl = `https://${urlHost}:${await listen(secure, opts.port ?? 0)}`;
      httpUrl = grpcUrl;
    } else {
      const h2c = http2.createServer({ settings: http2Settings(limits) }, handler);
      track(h2c);
      limitHttp2(h2c, limits);
      servers.push(h2c);
      grpcUrl = `http://${urlHost}:${await listen(h2c, opts.port ?? 0)}`;
      const h1 = http.createServer(http1Options(limits), handler);
      limitHttp1(h1, limits);
      servers.push(h1);
      httpUrl = `http://${urlHost}:${await listen(h1, opts.httpPort ?? 0)}`;
    }
  } catch (err) {
    for (const s of servers) s.close();
    await Promise.allSettled([validator.close(), clouds.close()]);
    throw new OcxError(ErrorCode.CONFIG_INVALID, `the gateway could not listen on ${host}: ${(err as Error).message}`);
  }

  let closed: Promise<void> | undefined;
  return {
    grpcUrl,
    httpUrl,
    hub,
    close() {
      closed ??= (async () => {
        closing.abort();
        hub.close();
        const done = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
        for (const s of servers) if (s instanceof http.Server) s.closeAllConnections();
        for (const session of sessions) session.close();
        const timer = setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, 2000);
        await Promise.all(done);
        clearTimeout(timer);
        // A cloud that never answered an abandoned request must not hold the shutdown for its socket timeout.
        const bound = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
        await Promise.race([Promise.allSettled([validator.close(), clouds.close()]), bound]);
      })();
      return closed;
    },
  };
}
