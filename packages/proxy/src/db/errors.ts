/**
 * The database being away for a while — SQLite's write lock held past the wait, PostgreSQL restarting or
 * unreachable — is one error whatever the engine: an OcxError UNREACHABLE whose service is `proxy-database`
 * (`isDatabaseUnavailable`). The proxy answers it 503 in the service's error shape and retries the writes that must
 * not be lost (engine/learn.ts). Anything else from the database (a constraint, a bug) stays what it was.
 */
import { ErrorCode, OcxError } from '@ocx/sdk';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult } from 'kysely';

export const DATABASE_SERVICE = 'proxy-database';

export function databaseUnavailable(kind: 'sqlite' | 'postgres', detail: string): OcxError {
  const name = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  return new OcxError(ErrorCode.UNREACHABLE, `the proxy's ${name} database is unavailable (${detail})`, {
    service: DATABASE_SERVICE,
    retryable: true,
  });
}

export function isDatabaseUnavailable(err: unknown): err is OcxError {
  return err instanceof OcxError && err.code === ErrorCode.UNREACHABLE && err.service === DATABASE_SERVICE;
}

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

/** node:sqlite's "database is locked / busy" (primary result code, extended codes included). */
export function isSqliteBusy(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown };
  if (e?.code !== 'ERR_SQLITE_ERROR' || typeof e.errcode !== 'number') return false;
  const primary = e.errcode & 0xff;
  return primary === SQLITE_BUSY || primary === SQLITE_LOCKED;
}

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
// SQLSTATE classes and codes that mean "the server is (re)starting, the connection went, or try again": 08 connection
// exception, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections,
// 57014 query_canceled (statement_timeout), 40001 serialization_failure, 40P01 deadlock_detected.
const PG_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '40001', '40P01']);
// What node-postgres says itself when a connection dies or a connect/query times out (it sets no code).
const PG_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|not queryable/i;

export function isPostgresUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && (NET_CODES.has(e.code) || PG_STATES.has(e.code) || e.code.startsWith('08')))
    return true;
  return typeof e?.message === 'string' && PG_MESSAGES.test(e.message);
}

function convert(kind: 'sqlite' | 'postgres', err: unknown): unknown {
  if (isDatabaseUnavailable(err)) return err;
  const unavailable = kind === 'sqlite' ? isSqliteBusy(err) : isPostgresUnavailable(err);
  if (!unavailable) return err;
  const e = err as { code?: unknown; message?: unknown };
  const detail = kind === 'sqlite' ? 'busy: another connection holds its write lock' : String(e.code ?? e.message);
  return databaseUnavailable(kind, detail);
}

/**
 * A Kysely driver whose every failure that means "the database is away" comes out as databaseUnavailable().
 * Connections are wrapped; the inner driver always gets its own connection objects back.
 */
export class GuardedDriver implements Driver {
  readonly #inner: Driver;
  readonly #kind: 'sqlite' | 'postgres';
  readonly #own = new WeakMap<DatabaseConnection, DatabaseConnection>();
  constructor(inner: Driver, kind: 'sqlite' | 'postgres') {
    this.#inner = inner;
    this.#kind = kind;
  }
  async #guard<T>(p: () => Promise<T>): Promise<T> {
    try {
      return await p();
    } catch (err) {
      throw convert(this.#kind, err);
    }
  }
  #unwrap(c: DatabaseConnection): DatabaseConnection {
    return this.#own.get(c) ?? c;
  }
  init() {
    return this.#guard(() => this.#inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#guard(() => this.#inner.acquireConnection());
    const wrapped: DatabaseConnection = {
      executeQuery: <R>(q: CompiledQuery): Promise<QueryResult<R>> => this.#guard(() => inner.executeQuery<R>(q)),
      streamQuery: <R>(q: CompiledQuery, n: number) => inner.streamQuery<R>(q, n),
    };
    this.#own.set(wrapped, inner);
    return wrapped;
  }
  beginTransaction(c: DatabaseConnection, s: Parameters<Driver['beginTransaction']>[1]) {
    return this.#guard(() => this.#inner.beginTransaction(this.#unwrap(c), s));
  }
  commitTransaction(c: DatabaseConnection) {
    return this.#guard(() => this.#inner.commitTransaction(this.#unwrap(c)));
  }
  rollbackTransaction(c: DatabaseConnection) {
    return this.#guard(() => this.#inner.rollbackTransaction(this.#unwrap(c)));
  }
  releaseConnection(c: DatabaseConnection) {
    return this.#inner.releaseConnection(this.#unwrap(c));
  }
  destroy() {
    return this.#inner.destroy();
  }
}
