/**
 * Stand-in for `@ocx/sdk`'s TokenValidator (packages/sdk/src/auth/token-validator.ts, being written by the SDK
 * core work), with exactly its interface; the gateway switches to the SDK's once it lands on main.
 * Validates a user's token against the home Keystone with the gateway's service account:
 * `GET /v3/auth/tokens` with X-Auth-Token (the service account's) and X-Subject-Token (the user's).
 */
import {
  accessInfoFromTokenBody,
  type CloudConfig,
  createSession,
  ErrorCode,
  hashKey,
  OcxError,
  type Session,
} from '@ocx/sdk';

export interface ValidatedToken {
  userId: string;
  userName: string;
  userDomainId: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  roles: string[];
  /** Epoch ms. */
  expiresAt: number;
  methods: string[];
  catalog: unknown[];
  serviceProviders: { id: string; authUrl: string; spUrl: string }[];
}

export interface TokenValidatorOptions {
  /** The service account on the home Keystone. */
  cloud: CloudConfig;
  /** How long a validation is reused (never past the token's expiry). Default 30 s. */
  cacheTtlMs?: number;
  /** Budget of one validation. Default 30 s. */
  timeoutMs?: number;
}

export class TokenValidator {
  readonly #session: Session;
  readonly #ttl: number;
  readonly #timeoutMs: number;
  readonly #cache = new Map<string, { value: ValidatedToken; until: number }>();

  constructor(opts: TokenValidatorOptions) {
    this.#session = createSession(opts.cloud);
    this.#ttl = opts.cacheTtlMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async validate(subjectToken: string, opts: { signal?: AbortSignal } = {}): Promise<ValidatedToken> {
    if (!subjectToken) throw new OcxError(ErrorCode.AUTH_FAILED, 'no token given');
    const key = hashKey(subjectToken);
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.value;
    if (hit) this.#cache.delete(key);
    let body: unknown;
    try {
      const res = await this.#session.client('identity').get('/auth/tokens', {
        headers: { 'x-subject-token': subjectToken },
        signal: opts.signal,
        timeoutMs: this.#timeoutMs,
      });
      body = await res.json();
    } catch (err) {
      if (err instanceof OcxError && (err.code === ErrorCode.NOT_FOUND || err.status === 401)) {
        throw new OcxError(ErrorCode.AUTH_FAILED, 'the token is not valid (expired, revoked or unknown)');
      }
      throw err;
    }
    const access = accessInfoFromTokenBody(body, subjectToken, '');
    const value: ValidatedToken = {
      userId: access.user.id,
      userName: access.user.name ?? '',
      userDomainId: access.user.domain?.id ?? '',
      roles: access.roles.map((r) => r.name ?? r.id ?? '').filter(Boolean),
      expiresAt: access.expiresAt.getTime(),
      methods: access.methods,
      catalog: access.catalog,
      serviceProviders: access.serviceProviders.map((sp) => ({ id: sp.id, authUrl: sp.auth_url, spUrl: sp.sp_url })),
    };
    if (access.project) {
      value.projectId = access.project.id;
      if (access.project.name) value.projectName = access.project.name;
      if (access.project.domain?.id) value.projectDomainId = access.project.domain.id;
    }
    if (value.expiresAt <= now) throw new OcxError(ErrorCode.AUTH_FAILED, 'the token has expired');
    this.#cache.set(key, { value, until: Math.min(now + this.#ttl, value.expiresAt) });
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    return value;
  }

  async close(): Promise<void> {
    this.#cache.clear();
    await this.#session.close();
  }
}
