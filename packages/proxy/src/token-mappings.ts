/**
 * Token mappings: (local token, local project) → target → (remote token, remote project, endpoints).
 * Rows live in the shared database keyed by HMAC(local token) with the remote token sealed under a key derived
 * from the local token (crypto.ts). A small in-process cache avoids the database on the hot path; the database
 * is what replicas share. A row's lifetime is the shorter of the two tokens' lifetimes.
 */
import { ErrorCode, OcxError } from '@ocx/sdk';
import type { Kysely } from 'kysely';
import { openRemoteToken, sealRemoteToken, tokenHash } from './crypto.ts';
import { isDatabaseUnavailable } from './db/errors.ts';
import type { ProxyDatabase } from './db/schema.ts';
import type { RemoteTokenSource } from './k2k.ts';
import type { ServiceProviderRef, ValidatedToken } from './keystone.ts';
import type { ProxyMetrics } from './metrics.ts';

export interface RemoteCredential {
  targetId: string;
  token: string;
  projectId: string;
  localProjectId: string;
  endpoints: Record<string, string>;
  expiresAt: number;
}

/** Wait for `p` until `deadline` (TIMEOUT) or `signal` (CANCELLED); `p` itself keeps running. */
function raceDeadline<T>(p: Promise<T>, deadline: number, signal: AbortSignal | undefined, who: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new OcxError(ErrorCode.TIMEOUT, `K2K to ${who} did not finish before the deadline`, { cloud: who })),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(new OcxError(ErrorCode.CANCELLED, `K2K to ${who} cancelled`, { cloud: who }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Refresh a mapping this long before it expires. */
const EARLY_MS = 60_000;

export class TokenMappings {
  private readonly db: Kysely<ProxyDatabase>;
  private readonly pepper: Buffer;
  private readonly source: RemoteTokenSource;
  private readonly metrics: ProxyMetrics;
  private readonly memory = new Map<string, RemoteCredential>();
  private readonly inflight = new Map<string, Promise<RemoteCredential>>();
  private readonly k2kTimeoutMs: number;

  constructor(opts: {
    db: Kysely<ProxyDatabase>;
    pepper: Buffer;
    source: RemoteTokenSource;
    metrics: ProxyMetrics;
    k2kTimeoutMs?: number;
  }) {
    this.k2kTimeoutMs = opts.k2kTimeoutMs ?? 60_000;
    this.db = opts.db;
    this.pepper = opts.pepper;
    this.source = opts.source;
    this.metrics = opts.metrics;
  }

  private readonly hashes = new Map<string, string>();

  hash(localToken: string): string {
    let h = this.hashes.get(localToken);
    if (h === undefined) {
      h = tokenHash(this.pepper, localToken);
      if (this.hashes.size >= 10_000) this.hashes.clear();
      this.hashes.set(localToken, h);
    }
    return h;
  }

  /** A configured remote project for (local project, target), if the operator set one. */
  async configuredProject(localProjectId: string, targetId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('project_mappings')
      .select('remote_project_id')
      .where('local_project_id', '=', localProjectId)
      .where('target_id', '=', targetId)
      .executeTakeFirst();
    return row?.remote_project_id;
  }

  async setProjectMapping(localProjectId: string, targetId: string, remoteProjectId: string): Promise<void> {
    await this.db
      .insertInto('project_mappings')
      .values({ local_project_id: localProjectId, target_id: targetId, remote_project_id: remoteProjectId })
      .onConflict((oc) =>
        oc.columns(['local_project_id', 'target_id']).doUpdateSet({ remote_project_id: remoteProjectId }),
      )
      .execute();
  }

  /** Remote credential for this user at an SP: memory, then database, then K2K (one K2K per key at a time). */
  async forSp(args: {
    localToken: string;
    hash: string;
    user: ValidatedToken;
    sp: ServiceProviderRef;
    explicitProjectId?: string | undefined;
    deadline: number;
    signal?: AbortSignal | undefined;
  }): Promise<RemoteCredential> {
    const localProjectId = args.user.projectId ?? '';
    const rowTarget = args.explicitProjectId ? `${args.sp.id}#${args.explicitProjectId}` : args.sp.id;
    const key = `${args.hash}|${rowTarget}`;
    const now = Date.now();
    const cached = this.memory.get(key);
    if (cached && cached.expiresAt - EARLY_MS > now) {
      this.metrics.mappingLookup('token', 'hit');
      return cached;
    }
    const stored = await this.load(args.localToken, args.hash, rowTarget);
    this.metrics.tokenStep(args.sp.id, 'mapping.load', (Date.now() - now) / 1000);
    if (stored && stored.expiresAt - EARLY_MS > now) {
      this.metrics.mappingLookup('token', 'hit');
      this.memory.set(key, stored);
      return stored;
    }
    this.metrics.mappingLookup('token', 'miss');
    let p = this.inflight.get(key);
    if (!p) {
      p = (async () => {
        // The operator's project mapping matters only for a new exchange: a credential in hand was made with it
        // (every warm request to an SP used to read it from the database first).
        const configured = args.explicitProjectId ?? (await this.configuredProject(localProjectId, args.sp.id));
        const t0 = Date.now();
        const remote = await this.source.obtain({
          localToken: args.localToken,
          localProjectId: args.user.projectId,
          localProjectName: args.user.projectName,
          localProjectDomainName: args.user.projectDomainName,
          localUserId: args.user.userId,
          localExpiresAt: args.user.expiresAt,
          sp: args.sp,
          remoteProjectId: configured,
          // The exchange runs to its own deadline, not the first caller's: a slow SP then serves later requests.
          deadline: Date.now() + this.k2kTimeoutMs,
        });
        // The whole exchange as this request waited for it (less than its steps when it began beside validation).
        this.metrics.tokenStep(args.sp.id, 'mapping.k2k-wait', (Date.now() - t0) / 1000);
        const cred: RemoteCredential = {
          targetId: args.sp.id,
          token: remote.token,
          projectId: remote.projectId,
          localProjectId,
          endpoints: remote.endpoints,
          expiresAt: Math.min(remote.expiresAt.getTime(), args.user.expiresAt.getTime()),
        };
        // Stored so other replicas (and this one after a restart) need no K2K of their own; with the database
        // away (restarting, locked elsewhere) the credential still serves from this replica's memory.
        const t1 = Date.now();
        await this.store(args.localToken, args.hash, rowTarget, cred).catch((err: unknown) => {
          if (!isDatabaseUnavailable(err)) throw err;
        });
        this.metrics.tokenStep(args.sp.id, 'mapping.store', (Date.now() - t1) / 1000);
        this.memory.set(key, cred);
        return cred;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
      p.catch(() => undefined);
    }
    return raceDeadline(p, args.deadline, args.signal, args.sp.id);
  }

  /**
   * A token not validated yet may soon need K2K to `sps`: let the source start what needs only the token (beside the
   * validation). SPs this replica already holds a mapping for (or is making one for) are left out.
   */
  prefetch(localToken: string, hash: string, sps: ServiceProviderRef[]): void {
    if (!this.source.prefetch) return;
    const now = Date.now();
    const wanted = sps.filter((sp) => {
      const key = `${hash}|${sp.id}`;
      const m = this.memory.get(key);
      return !(m && m.expiresAt - EARLY_MS > now) && !this.inflight.has(key);
    });
    if (wanted.length) this.source.prefetch(localToken, wanted, now + this.k2kTimeoutMs);
  }

  /** An injected mapping (from a peer proxy) or any stored one, by target id. */
  async forTarget(localToken: string, hash: string, targetId: string): Promise<RemoteCredential | undefined> {
    const key = `${hash}|${targetId}`;
    const cached = this.memory.get(key);
    if (cached && cached.expiresAt > Date.now()) {
      this.metrics.mappingLookup('token', 'hit');
      return cached;
    }
    const stored = await this.load(localToken, hash, targetId);
    if (stored && stored.expiresAt > Date.now()) {
      this.metrics.mappingLookup('token', 'hit');
      this.memory.set(key, stored);
      return stored;
    }
    this.metrics.mappingLookup('token', 'miss');
    return undefined;
  }

  /** Store a mapping handed to us (token injection). */
  async inject(localToken: string, cred: RemoteCredential): Promise<void> {
    const hash = this.hash(localToken);
    await this.store(localToken, hash, cred.targetId, cred);
    this.memory.set(`${hash}|${cred.targetId}`, cred);
  }

  private async load(localToken: string, hash: string, targetId: string): Promise<RemoteCredential | undefined> {
    const row = await this.db
      .selectFrom('token_mappings')
      .selectAll()
      .where('token_hash', '=', hash)
      .where('target_id', '=', targetId)
      .executeTakeFirst();
    if (!row) return undefined;
    const token = openRemoteToken(localToken, row.remote_token_enc, `${hash}|${targetId}`);
    if (!token) return undefined;
    return {
      targetId: targetId.split('#')[0]!,
      token,
      projectId: row.remote_project_id,
      localProjectId: row.local_project_id,
      endpoints: JSON.parse(row.endpoints) as Record<string, string>,
      expiresAt: Number(row.expires_at),
    };
  }

  private async store(localToken: string, hash: string, targetId: string, cred: RemoteCredential): Promise<void> {
    const values = {
      token_hash: hash,
      target_id: targetId,
      local_project_id: cred.localProjectId,
      remote_project_id: cred.projectId,
      remote_token_enc: sealRemoteToken(localToken, cred.token, `${hash}|${targetId}`),
      endpoints: JSON.stringify(cred.endpoints),
      expires_at: cred.expiresAt,
      created_at: Date.now(),
    };
    await this.db
      .insertInto('token_mappings')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['token_hash', 'target_id']).doUpdateSet({
          local_project_id: values.local_project_id,
          remote_project_id: values.remote_project_id,
          remote_token_enc: values.remote_token_enc,
          endpoints: values.endpoints,
          expires_at: values.expires_at,
          created_at: values.created_at,
        }),
      )
      .execute();
  }

  /** The local token is no longer valid (revoked or expired): every mapping made from it goes. */
  async dropForToken(hash: string): Promise<number> {
    for (const k of this.memory.keys()) if (k.startsWith(`${hash}|`)) this.memory.delete(k);
    const r = await this.db.deleteFrom('token_mappings').where('token_hash', '=', hash).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Delete expired rows (called periodically). */
  async sweep(now = Date.now()): Promise<number> {
    for (const [k, v] of this.memory) if (v.expiresAt <= now) this.memory.delete(k);
    const r = await this.db.deleteFrom('token_mappings').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Forget one cached credential (e.g. the SP answered 401 with it). */
  async invalidate(hash: string, targetId: string): Promise<void> {
    this.memory.delete(`${hash}|${targetId}`);
    await this.db
      .deleteFrom('token_mappings')
      .where('token_hash', '=', hash)
      .where('target_id', '=', targetId)
      .execute();
  }
}
