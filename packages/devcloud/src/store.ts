/**
 * StateStore implementations: in memory (default) or SQLite through node:sqlite (`--state PATH`).
 *
 * Rows are plain JSON values (no Date, Map or class instances): the SQLite store persists `JSON.stringify(row)`.
 * Both stores keep the live objects in memory; always call `put()` after changing a row so it is persisted.
 * One SQLite file holds every cloud: each cloud's tables are namespaced `<cloud>__<table>`.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StateStore, Table } from './context.ts';

class MemoryTable<T extends { id: string }> implements Table<T> {
  protected readonly rows = new Map<string, T>();
  get(id: string): T | undefined {
    return this.rows.get(id);
  }
  put(row: T): void {
    this.rows.set(row.id, row);
  }
  delete(id: string): boolean {
    return this.rows.delete(id);
  }
  all(): T[] {
    return [...this.rows.values()];
  }
  filter(pred: (row: T) => boolean): T[] {
    const out: T[] = [];
    for (const row of this.rows.values()) if (pred(row)) out.push(row);
    return out;
  }
}

export class MemoryStore implements StateStore {
  private readonly tables = new Map<string, MemoryTable<{ id: string }>>();
  table<T extends { id: string }>(name: string): Table<T> {
    let t = this.tables.get(name);
    if (!t) {
      t = new MemoryTable();
      this.tables.set(name, t);
    }
    return t as unknown as Table<T>;
  }
}

class SqliteTable<T extends { id: string }> extends MemoryTable<T> {
  private readonly upsert;
  private readonly remove;
  constructor(db: DatabaseSync, sqlName: string) {
    super();
    const q = `"${sqlName.replaceAll('"', '""')}"`;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${q} (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL)`,
    );
    for (const r of db.prepare(`SELECT data FROM ${q} ORDER BY seq`).all()) {
      const row = JSON.parse(String((r as { data: unknown }).data)) as T;
      this.rows.set(row.id, row);
    }
    this.upsert = db.prepare(
      `INSERT INTO ${q} (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data`,
    );
    this.remove = db.prepare(`DELETE FROM ${q} WHERE id = ?`);
  }
  override put(row: T): void {
    this.upsert.run(row.id, JSON.stringify(row));
    super.put(row);
  }
  override delete(id: string): boolean {
    this.remove.run(id);
    return super.delete(id);
  }
}

/** One SQLite database shared by all clouds of a devcloud; `forCloud(name)` gives that cloud's StateStore. */
export class SqliteDatabase {
  readonly db: DatabaseSync;
  /** The database file (undefined for `:memory:`). */
  readonly path: string | undefined;
  constructor(path: string) {
    this.path = path === ':memory:' || path === '' ? undefined : resolve(path);
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000');
  }
  /** A cloud's file directory beside the database: `<dir>/<file>.data/<cloud>` (undefined for `:memory:`). */
  dataDirFor(cloud: string): string | undefined {
    if (!this.path) return undefined;
    return join(dirname(this.path), `${basename(this.path)}.data`, cloud.replace(/[^A-Za-z0-9_-]/g, '_'));
  }
  forCloud(cloud: string): StateStore {
    const tables = new Map<string, SqliteTable<{ id: string }>>();
    const db = this.db;
    const dataDir = this.dataDirFor(cloud);
    return {
      ...(dataDir ? { dataDir } : {}),
      table<T extends { id: string }>(name: string): Table<T> {
        let t = tables.get(name);
        if (!t) {
          t = new SqliteTable(db, `${cloud}__${name}`);
          tables.set(name, t);
        }
        return t as unknown as Table<T>;
      },
    };
  }
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
