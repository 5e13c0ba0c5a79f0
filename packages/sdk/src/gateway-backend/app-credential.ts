/**
 * For scripts that hold only an application credential and the gateway's address (clouds.yaml
 * `auth_type: v3applicationcredential` with `gateway:` and no `auth_url`): the gateway's
 * `ocx.auth.v1.AuthService/ExchangeApplicationCredential` turns the credential into a home-Keystone token (the
 * one RPC callable without a bearer). The session caches the token like any other until shortly before expiry.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { hashKey } from '../auth/cache.ts';
import type { AccessInfo, AuthContext, AuthPlugin } from '../auth/types.ts';
import type { CloudConfig, GatewayConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { AuthService } from '../gen/ocx/auth/v1/auth_service_pb.ts';
import { resolveDeadline } from '../transport/cancel.ts';
import { tlsOptions } from './client.ts';

/** Whether this cloud logs in through its gateway: an application credential and no Keystone URL of its own. */
export function exchangesThroughGateway(cloud: CloudConfig): boolean {
  return (
    !!cloud.gateway &&
    (cloud.authType === 'v3applicationcredential' || cloud.authType === 'applicationcredential') &&
    !cloud.auth.auth_url
  );
}

export class GatewayApplicationCredentialAuth implements AuthPlugin {
  readonly kind = 'v3applicationcredential';
  readonly #gateway: GatewayConfig;
  readonly #cloud: string;
  readonly #id: string;
  readonly #secret: string;

  constructor(cloud: CloudConfig) {
    const id = cloud.auth.application_credential_id;
    const secret = cloud.auth.application_credential_secret;
    if (!cloud.gateway || !id || !secret) {
      throw new OcxError(
        ErrorCode.CONFIG_INVALID,
        `cloud '${cloud.name}': an application credential is exchanged through the gateway only by its id and secret`,
        { cloud: cloud.name, key: 'auth.application_credential_id' },
      );
    }
    this.#gateway = cloud.gateway;
    this.#cloud = cloud.name;
    this.#id = id;
    this.#secret = secret;
  }

  cacheKey(): string {
    return hashKey(['gateway-app-cred', this.#gateway.url, this.#id, this.#secret]);
  }

  async authenticate(ctx: AuthContext): Promise<AccessInfo> {
    const deadline = resolveDeadline(ctx, 60_000);
    const sessions = new Http2SessionManager(this.#gateway.url, {}, tlsOptions(this.#gateway, this.#cloud));
    try {
      const auth = createClient(
        AuthService,
        createGrpcTransport({ baseUrl: this.#gateway.url, sessionManager: sessions }),
      );
      const r = await auth.exchangeApplicationCredential(
        { id: this.#id, secret: this.#secret },
        { signal: ctx.signal, timeoutMs: Math.max(1, deadline - Date.now()) },
      );
      return {
        token: r.token,
        expiresAt: new Date(Number(r.expiresAt)),
        methods: ['application_credential'],
        user: { id: r.userId },
        project: r.projectId ? { id: r.projectId, name: r.projectName } : undefined,
        roles: [],
        catalog: [],
        serviceProviders: [],
        identityUrl: '',
        unscoped: !r.projectId,
      };
    } catch (err) {
      throw OcxError.from(err, { cloud: this.#cloud, step: 'auth.gateway-exchange', signal: ctx.signal, deadline });
    } finally {
      sessions.abort();
    }
  }
}
