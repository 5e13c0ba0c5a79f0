/**
 * Validate user tokens against a home Keystone (`GET /v3/auth/tokens` with `X-Subject-Token`), the way
 * keystonemiddleware does: the caller is a service account (admin or service role) whose own token comes from the
 * SDK's auth (password or application credential from its CloudConfig, cached and refreshed by cachedAccess), and
 * every call goes through the SDK's transport (deadline, retry, logging with tokens masked).
 */
import { createHash } from 'node:crypto';
import type { CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { CloudSession } from '../session/session.ts';
import { SharedFlight } from '../transport/shared-flight.ts';
import { createTransport } from '../transport/transport.ts';
import type { Transport } from '../transport/types.ts';
import { MemoryTokenCache, type TokenStore } from './cache.ts';
import type { AccessInfo } from './types.ts';

/** What a validated user token says, in the names the proxy and the gateway use. */
export interface ValidatedToken {
  userId: string;
  userName: string;
  userDomainId: string;
  projectId?: string | undefined;
  projectName?: string | undefined;
  projectDomainId?: string | undefined;
  /** Not part of the gateway's contract; the proxy's native lane keys on it. */
  projectDomainName?: string | undefined;
  roles: string[];
  /** Epoch ms. */
  expiresAt: number;
  methods: string[];
  /** The token's catalog exactly as Keystone sent it. */
  catalog: unknown[];
  serviceProviders: { id: string; authUrl: string; spUrl: string }[];
}

export interface TokenValidatorOptions {
  /** A service account (admin or service role) on the home Keystone. */
  cloud: CloudConfig;
  /** How long a validation result is reused (default 15000 ms); never past the token's own expiry. */
  cacheTtlMs?: number | undefined;
  /** Budget of one validation, service login included (default: the cloud's api_timeout, else 60 s). */
  timeoutMs?: number | undefined;
  /** Share a transport (it is then not closed by close()). */
  transport?: Transport | undefined;
  /** Where the service account's token is kept (default: a store of this validator's own). */
  tokenCache?: TokenStore | undefined;
  /**
   * Whether the answer should carry the token's catalog (default true). A caller that never reads it asks
   * `?nocatalog` as keystonemiddleware's include_service_catalog = false does: Keystone then skips building it
   * (the service providers still come).
   */
  withCatalog?: boolean | undefined;
}

/** `err.step` of an AUTH_FAILED that refuses the user's token (as opposed to the service account's own login). */
export const SUBJECT_TOKEN_STEP = 'validate';
/** `err.step` of any failure of the service account's own login. */
export const SERVICE_LOGIN_STEP = 'service-login';

/** Entries kept at most; the oldest go first. Bounds memory when many distinct tokens arrive. */
const MAX_CACHED = 10_000;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Parse a Keystone v3 token body (`{"token": {...}}`) into a ValidatedToken. */
export function validatedTokenFromBody(body: unknown): ValidatedToken {
  const t = obj(obj(body)?.token);
  const user = obj(t?.user);
  const expires = Date.parse(str(t?.expires_at) ?? '');
  if (!t || !user || !str(user.id) || Number.isNaN(expires)) {
    throw new OcxError(ErrorCode.INVALID_RESPONSE, 'Keystone token response lacks token.user or token.expires_at', {
      service: 'identity',
    });
  }
  const project = obj(t.project);
  const providers = Array.isArray(t.service_providers) ? t.service_providers : [];
  return {
    userId: str(user.id) ?? '',
    userName: str(user.name) ?? '',
    userDomainId: str(obj(user.domain)?.id) ?? '',
    projectId: str(project?.id),
    projectName: str(project?.name),
    projectDomainId: str(obj(project?.domain)?.id),
    projectDomainName: str(obj(project?.domain)?.name),
    roles: (Array.isArray(t.roles) ? t.roles : []).flatMap((r) => str(obj(r)?.name) ?? []),
    expiresAt: expires,
    methods: (Array.isArray(t.methods) ? t.methods : []).filter((m): m is string => typeof m === 'string'),
    catalog: Array.isArray(t.catalog) ? t.catalog : [],
    serviceProviders: providers.flatMap((p) => {
      const o = obj(p);
      const id = str(o?.id);
      const authUrl = str(o?.auth_url);
      const spUrl = str(o?.sp_url);
      return id && authUrl && spUrl ? [{ id, authUrl, spUrl }] : [];
    }),
  };
}

export class TokenValidator {
  readonly #session: CloudSession;
  readonly #ttl: number;
  readonly #timeoutMs: number | undefined;
  readonly #withCatalog: boolean;
  readonly #ownedTransport: Transport | undefined;
  readonly #results = new Map<string, { value: ValidatedToken; until: number }>();
  readonly #inflight = new Map<string, SharedFlight<ValidatedToken>>();

  constructor(opts: TokenValidatorOptions) {
    this.#ttl = opts.cacheTtlMs ?? 15_000;
    this.#timeoutMs = opts.timeoutMs;
    this.#withCatalog = opts.withCatalog ?? true;
    const c = opts.cloud;
    this.#ownedTransport = opts.transport
      ? undefined
      : createTransport({
          timeoutMs: opts.timeoutMs,
          tls: { verify: c.verify, cert: c.cert, key: c.key },
        });
    this.#session = new CloudSession(c, {
      transport: opts.transport ?? this.#ownedTransport,
      tokenCache: opts.tokenCache ?? new MemoryTokenCache(),
    });
  }

  /** The name of the home cloud (for logs and error context). */
  get cloudName(): string {
    return this.#session.cloud.name;
  }

  /** The transport every call of this validator goes through. */
  get transport(): Transport {
    return this.#session.transport;
  }

  /**
   * The service account's own token (cached, refreshed before expiry; `force` logs in again, e.g. after a target
   * refused it). The proxy uses it as its service token and for its home catalog.
   */
  serviceAccess(opts: { signal?: AbortSignal | undefined; force?: boolean | undefined } = {}): Promise<AccessInfo> {
    const deadline = this.#timeoutMs === undefined ? undefined : Date.now() + this.#timeoutMs;
    return this.#login(opts.signal, deadline, opts.force === true);
  }

  async #login(signal: AbortSignal | undefined, deadline: number | undefined, force: boolean): Promise<AccessInfo> {
    try {
      return await this.#session.getAccess({ signal, deadline, forceRefresh: force });
    } catch (err) {
      // Tell the service account's failure apart from a refused user token: a caller must not answer "bad token".
      throw OcxError.from(err, {}).withContext({ step: SERVICE_LOGIN_STEP });
    }
  }

  /**
   * What Keystone says about `subjectToken`. AUTH_FAILED with step `validate` when Keystone refuses it (unknown,
   * expired, revoked); UNREACHABLE / TIMEOUT / CANCELLED when Keystone could not be asked; any failure of the service
   * account's own login carries step `service-login` (an AUTH_FAILED there is our configuration, not the user's token). A valid answer is reused for `cacheTtlMs`.
   */
  async validate(subjectToken: string, opts: { signal?: AbortSignal | undefined } = {}): Promise<ValidatedToken> {
    const key = createHash('sha256').update(subjectToken).digest('base64url');
    const now = Date.now();
    const hit = this.#results.get(key);
    if (hit && hit.until > now) return hit.value;
    if (hit) this.#results.delete(key);
    // Concurrent validations of one token ask Keystone once (a burst of calls with a fresh token).
    let flight = this.#inflight.get(key);
    if (!flight) {
      const created: SharedFlight<ValidatedToken> = new SharedFlight(
        (signal) => this.#ask(subjectToken, signal),
        () => drop(),
      );
      const drop = () => {
        if (this.#inflight.get(key) === created) this.#inflight.delete(key);
      };
      created.promise.then(drop, drop);
      this.#inflight.set(key, created);
      flight = created;
    }
    const deadline = this.#timeoutMs === undefined ? undefined : Date.now() + this.#timeoutMs;
    const value = await flight.join(opts.signal, deadline, { cloud: this.cloudName, service: 'identity' });
    const until = Math.min(Date.now() + this.#ttl, value.expiresAt);
    if (until > Date.now()) {
      if (this.#results.size >= MAX_CACHED) {
        const oldest = this.#results.keys().next().value;
        if (oldest !== undefined) this.#results.delete(oldest);
      }
      this.#results.set(key, { value, until });
    }
    return value;
  }

  async #ask(subjectToken: string, signal: AbortSignal | undefined): Promise<ValidatedToken> {
    const deadline = this.#timeoutMs === undefined ? undefined : Date.now() + this.#timeoutMs;
    const cloud = this.#session.cloud.name;
    for (let attempt = 0; attempt < 2; attempt++) {
      const access = await this.#login(signal, deadline, attempt > 0);
      const url = `${access.identityUrl}/auth/tokens${this.#withCatalog ? '' : '?nocatalog'}`;
      const res = await this.#session.transport.request({
        method: 'GET',
        url,
        headers: { accept: 'application/json', 'x-auth-token': access.token, 'x-subject-token': subjectToken },
        signal,
        deadline,
        timeoutMs: this.#timeoutMs,
        context: { cloud, service: 'identity', operation: 'auth.validate' },
      });
      if (res.status === 200) return validatedTokenFromBody(await res.json());
      const text = await res.text().catch(() => '');
      // 401 on the first try: our own service token went stale (revoked, Keystone restarted with new keys).
      if (res.status === 401 && attempt === 0) continue;
      const answer = { status: res.status, body: text, requestId: res.requestId };
      const err = OcxError.from(answer, { cloud, service: 'identity', method: 'GET', url });
      if (res.status === 404 || res.status === 401) {
        throw new OcxError(
          ErrorCode.AUTH_FAILED,
          `Keystone refused the token: ${err.message}`,
          { ...err.context(), step: SUBJECT_TOKEN_STEP },
          { cause: err },
        );
      }
      throw err;
    }
    throw new OcxError(ErrorCode.AUTH_FAILED, 'Keystone refused the token', {
      cloud,
      service: 'identity',
      step: SUBJECT_TOKEN_STEP,
    });
  }

  /** Forget every cached result (e.g. after a revocation event). */
  clear(): void {
    this.#results.clear();
  }

  async close(): Promise<void> {
    this.#results.clear();
    await this.#session.close();
    await this.#ownedTransport?.close();
  }
}
