/**
 * Open the proxy database: SQLite through node:sqlite by default (one file, WAL, shareable by several
 * processes on one host), PostgreSQL (`postgres://…`) when replicas on several hosts share state.
 */
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrations } from './migrations.ts';
import type { ProxyDatabase } from './schema.ts';
import { NodeSqliteDatabase } from './sqlite-adapter.ts';

export interface OpenedDatabase {
  db: Kysely<ProxyDatabase>;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export async function openDatabase(spec: string): Promise<OpenedDatabase> {
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
    });
    db = new Kysely<ProxyDatabase>({ dialect: new PostgresDialect({ pool }) });
    kind = 'postgres';
  } else {
    const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
    db = new Kysely<ProxyDatabase>({ dialect: new SqliteDialect({ database: new NodeSqliteDatabase(path) }) });
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
