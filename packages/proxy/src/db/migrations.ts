/**
 * Schema migrations (kysely Migrator). Written with the schema builder only, so the same steps run on
 * SQLite and PostgreSQL. Steps are idempotent (IF NOT EXISTS) because two replicas may start at once.
 */
import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

const m001: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('token_mappings')
      .ifNotExists()
      .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('target_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('local_project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('remote_project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('remote_token_enc', 'text', (c) => c.notNull())
      .addColumn('endpoints', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('token_mappings_pk', ['token_hash', 'target_id'])
      .execute();
    await db.schema
      .createIndex('token_mappings_expires')
      .ifNotExists()
      .on('token_mappings')
      .column('expires_at')
      .execute();
    await db.schema
      .createTable('resource_mappings')
      .ifNotExists()
      .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('resource_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('target_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_mappings_pk', ['resource_type', 'resource_id'])
      .execute();
    await db.schema
      .createTable('project_mappings')
      .ifNotExists()
      .addColumn('local_project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('target_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('remote_project_id', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_mappings_pk', ['local_project_id', 'target_id'])
      .execute();
    await db.schema
      .createTable('proxy_meta')
      .ifNotExists()
      .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    for (const t of ['proxy_meta', 'project_mappings', 'resource_mappings', 'token_mappings']) {
      await db.schema.dropTable(t).ifExists().execute();
    }
  },
};

/** Service providers' service roots, so a restarted proxy (or another replica) answers version lookups at once. */
const m002: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('sp_service_roots')
      .ifNotExists()
      .addColumn('sp_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('service_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('root_url', 'text', (c) => c.notNull())
      .addColumn('learned_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sp_service_roots_pk', ['sp_id', 'service_type'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('sp_service_roots').ifExists().execute();
  },
};

/**
 * Resource mappings scoped by project (issue 12): a mapping learned or injected under one project is never
 * followed for another's request. The old table was keyed by (type, id) alone; its rows are only a cache of where
 * things live (every miss is answered by asking the targets again), so it is dropped rather than converted.
 */
const m003: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('project_resource_mappings')
      .ifNotExists()
      .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('resource_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('target_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_resource_mappings_pk', ['project_id', 'resource_type', 'resource_id'])
      .execute();
    await db.schema.dropTable('resource_mappings').ifExists().execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('project_resource_mappings').ifExists().execute();
  },
};

export const migrations: MigrationProvider = {
  async getMigrations() {
    return { '001_initial': m001, '002_sp_service_roots': m002, '003_project_resource_mappings': m003 };
  },
};
