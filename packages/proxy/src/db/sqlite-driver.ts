/**
 * A Kysely driver on Node's built-in node:sqlite that never holds the event loop while another process has the
 * database's write lock. node:sqlite is synchronous: with a busy_timeout, SQLite sleeps inside the call and the
 * whole proxy stalls (a 2 s lock held elsewhere made every request wait 2 s). Here busy_timeout is 0: a statement
 * that meets the lock fails at once with SQLITE_BUSY and is tried again after an asynchronous backoff (1 ms doubling
 * to 50 ms), for at most `busyWaitMs` in all; past that the caller gets SQLITE_BUSY (an OcxError UNREACHABLE
 * of service `proxy-database` once GuardedDriver has converted it).
 *
 * Two connections to the file: the writer (transactions and writes, one at a time behind a queue; a transaction
 * starts with BEGIN IMMEDIATE so it takes the write lock up front, while it can still be retried whole) and a
 * reader for plain SELECTs outside transactions — in WAL mode readers never wait for a writer, so lookups go on
 * while a write waits for the lock.
 */
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SelectQueryNode,
  SqliteDialect,
} from 'kysely';
import { GuardedDriver, isSqliteBusy } from './errors.ts';

function toSqlValue(v: unknown): SQLInputValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || v instanceof Uint8Array) return v;
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/** One caller at a time on the writer (a transaction keeps it until commit or rollback). */
class Queue {
  #tail: Promise<void> = Promise.resolve();
  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const prev = this.#tail;
    this.#tail = prev.then(() => next);
    await prev;
    return release;
  }
}

function open(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  // WAL: several proxy processes may share one file; readers never block the writer.
  // synchronous=NORMAL in WAL mode loses nothing on a process crash (kill -9), only on power loss.
  // busy_timeout=0: never sleep inside a call (see above); the journal-mode switch itself may meet a lock.
  db.exec('PRAGMA busy_timeout = 0');
  for (let i = 0; ; i++) {
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
      return db;
    } catch (err) {
      if (!isSqliteBusy(err) || i > 2000) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // at start-up only, before serving
    }
  }
}

export interface NodeSqliteOptions {
  /** Longest time one statement waits (asynchronously) for another process's write lock. Default 5 000 ms. */
  busyWaitMs?: number;
}

class NodeSqliteDriver implements Driver {
  readonly #path: string;
  readonly #busyWaitMs: number;
  readonly #queue = new Queue();
  #writer: DatabaseSync | undefined;
  #reader: DatabaseSync | undefined;
  constructor(path: string, opts: NodeSqliteOptions) {
    this.#path = path;
    this.#busyWaitMs = opts.busyWaitMs ?? 5_000;
  }
  async init(): Promise<void> {
    this.#writer = open(this.#path);
    // An in-memory database is private to its connection: reads must go to the writer.
    this.#reader = this.#path === ':memory:' || this.#path === '' ? this.#writer : open(this.#path);
  }

  /** Run `fn` until it does not meet the lock, sleeping between tries; SQLITE_BUSY after busyWaitMs. */
  async #retry<T>(fn: () => T): Promise<T> {
    const until = Date.now() + this.#busyWaitMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        return fn();
      } catch (err) {
        if (!isSqliteBusy(err) || Date.now() >= until) throw err;
      }
      await sleep(Math.min(delay, Math.max(1, until - Date.now())));
    }
  }

  #run<R>(db: DatabaseSync, q: CompiledQuery): QueryResult<R> {
    const stmt = db.prepare(q.sql);
    const params = q.parameters.map(toSqlValue);
    if (stmt.columns().length > 0) return { rows: stmt.all(...params) as R[] };
    const r = stmt.run(...params);
    return { numAffectedRows: BigInt(r.changes), insertId: BigInt(r.lastInsertRowid), rows: [] };
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new NodeSqliteConnection(this);
  }
  /** A statement outside a transaction: SELECTs on the reader, anything else on the writer in its turn. */
  async execute<R>(q: CompiledQuery, inTransaction: boolean): Promise<QueryResult<R>> {
    if (inTransaction) return this.#retry(() => this.#run<R>(this.#writer!, q));
    if (SelectQueryNode.is(q.query)) return this.#retry(() => this.#run<R>(this.#reader!, q));
    const release = await this.#queue.lock();
    try {
      return await this.#retry(() => this.#run<R>(this.#writer!, q));
    } finally {
      release();
    }
  }
  async begin(conn: NodeSqliteConnection): Promise<void> {
    const release = await this.#queue.lock();
    try {
      await this.#retry(() => this.#writer!.exec('BEGIN IMMEDIATE'));
    } catch (err) {
      release();
      throw err;
    }
    conn.release = release;
  }
  /**
   * Commit or roll back the transaction `conn` holds, then hand the writer on. Only the holder acts: a rollback
   * Kysely sends after a failed commit finds the writer already handed on and must not touch the next holder's
   * transaction. A commit that fails is rolled back before the writer is handed on.
   */
  async end(conn: NodeSqliteConnection, sql: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const release = conn.release;
    if (!release) return;
    conn.release = undefined;
    const w = this.#writer!;
    try {
      if (sql === 'COMMIT') {
        try {
          await this.#retry(() => w.exec('COMMIT'));
        } catch (err) {
          if (w.isTransaction) w.exec('ROLLBACK');
          throw err;
        }
      } else if (w.isTransaction) w.exec('ROLLBACK');
    } finally {
      release();
    }
  }
  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await this.begin(c as NodeSqliteConnection);
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await this.end(c as NodeSqliteConnection, 'COMMIT');
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await this.end(c as NodeSqliteConnection, 'ROLLBACK');
  }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    // Still holding the writer here means the transaction was never ended: nothing of it may reach the next one.
    await this.end(c as NodeSqliteConnection, 'ROLLBACK');
  }
  async destroy(): Promise<void> {
    if (this.#reader !== this.#writer && this.#reader?.isOpen) this.#reader.close();
    if (this.#writer?.isOpen) this.#writer.close();
  }
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #driver: NodeSqliteDriver;
  /** Set while this connection holds the writer for a transaction. */
  release: (() => void) | undefined;
  constructor(driver: NodeSqliteDriver) {
    this.#driver = driver;
  }
  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    return this.#driver.execute<R>(q, this.release !== undefined);
  }
  // biome-ignore lint/correctness/useYield: nothing to stream; the proxy reads whole (small) results
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the proxy database');
  }
}

/** Kysely's SQLite dialect (compiler, adapter, introspector) on the driver above, its errors converted. */
export class NodeSqliteDialect extends SqliteDialect {
  readonly #path: string;
  readonly #opts: NodeSqliteOptions;
  constructor(path: string, opts: NodeSqliteOptions = {}) {
    super({ database: {} as never });
    this.#path = path;
    this.#opts = opts;
  }
  override createDriver(): Driver {
    return new GuardedDriver(new NodeSqliteDriver(this.#path, this.#opts), 'sqlite');
  }
}
