/**
 * Open the proxy database: SQLite through node:sqlite by default (one file, WAL, shareable by several
 * processes on one host), PostgreSQL (`postgres://…`) when replicas on several hosts share state.
 */
import { type Driver, Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { GuardedDriver } from './errors.ts';
import { migrations } from './migrations.ts';
import type { ProxyDatabase } from './schema.ts';
import { NodeSqliteDialect, type NodeSqliteOptions } from './sqlite-driver.ts';

/** PostgreSQL through node-postgres, its "server away" failures converted (db/errors.ts). */
class GuardedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new GuardedDriver(super.createDriver(), 'postgres');
  }
}

export interface OpenedDatabase {
  db: Kysely<ProxyDatabase>;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export interface DatabaseOptions extends NodeSqliteOptions {
  /** Called when an idle PostgreSQL connection fails (the server restarted); the pool drops it either way. */
  onIdleError?: (err: Error) => void;
}

export async function openDatabase(spec: string, opts: DatabaseOptions = {}): Promise<OpenedDatabase> {
  let db: Kysely<ProxyDatabase>;
  let kind: OpenedDatabase['kind'];
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { default: pg } = await import('pg');
    const Pool = pg.Pool;
    const pool = new Pool({
      connectionString: spec,
      max: 10,
      connectionTimeoutMillis: 10_000,
      statement_timeout: 10_000,
      // The client's own deadline on every query: statement_timeout is the server's and does not cover a
      // server that went away without closing the connection.
      query_timeout: 15_000,
    });
    // An idle connection the server closed (a restart) is an 'error' event on the pool; unhandled, it would end
    // the process. The pool replaces the connection; the next query connects anew.
    pool.on('error', (err: Error) => opts.onIdleError?.(err));
    // A connection checked out when the server goes (between two statements of a transaction, say) gets the
    // same 'error' event with no pool listener on it: its next query fails instead, and the pool drops it.
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    db = new Kysely<ProxyDatabase>({ dialect: new GuardedPostgresDialect({ pool }) });
    kind = 'postgres';
  } else {
    const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
    db = new Kysely<ProxyDatabase>({ dialect: new NodeSqliteDialect(path, opts) });
    kind = 'sqlite';
  }
  await migrate(db);
  return { db, kind, close: () => db.destroy() };
}

async function migrate(db: Kysely<ProxyDatabase>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrations });
  // Two replicas starting together may race on the migration bookkeeping; the steps are idempotent,
  // so a second attempt after the other finished sees them done.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error) return;
    lastError = error;
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
  throw lastError instanceof Error ? lastError : new Error(`database migration failed: ${String(lastError)}`);
}
