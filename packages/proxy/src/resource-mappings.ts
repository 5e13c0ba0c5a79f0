/**
 * Resource mappings: (resource type, id) → target. Learned from create responses, aggregated lists and
 * flooding; forgotten on DELETE. Misses are remembered briefly (in process) so a burst of requests for an
 * unknown id floods once.
 */
import type { Kysely } from 'kysely';
import type { ProxyDatabase } from './db/schema.ts';
import type { ProxyMetrics } from './metrics.ts';

export interface LearnedResource {
  type: string;
  id: string;
  targetId: string;
  projectId: string;
}

const MEMORY_TTL_MS = 30_000;
const MEMORY_MAX = 50_000;

export class ResourceMappings {
  private readonly db: Kysely<ProxyDatabase>;
  private readonly metrics: ProxyMetrics;
  private readonly missTtlMs: number;
  private readonly memory = new Map<string, { targetId: string; until: number }>();
  private readonly misses = new Map<string, number>();

  constructor(opts: { db: Kysely<ProxyDatabase>; metrics: ProxyMetrics; missTtlMs: number }) {
    this.db = opts.db;
    this.metrics = opts.metrics;
    this.missTtlMs = opts.missTtlMs;
  }

  async find(type: string, id: string): Promise<string | undefined> {
    const key = `${type}|${id}`;
    const m = this.memory.get(key);
    if (m && m.until > Date.now()) {
      this.metrics.mappingLookup('resource', 'hit');
      return m.targetId;
    }
    const row = await this.db
      .selectFrom('resource_mappings')
      .select('target_id')
      .where('resource_type', '=', type)
      .where('resource_id', '=', id)
      .executeTakeFirst();
    if (row) {
      this.metrics.mappingLookup('resource', 'hit');
      this.remember(key, row.target_id);
      return row.target_id;
    }
    this.metrics.mappingLookup('resource', 'miss');
    return undefined;
  }

  recentlyMissed(type: string, id: string): boolean {
    const until = this.misses.get(`${type}|${id}`);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.misses.delete(`${type}|${id}`);
    return false;
  }

  noteMiss(type: string, id: string): void {
    if (this.missTtlMs <= 0) return;
    if (this.misses.size > MEMORY_MAX) this.misses.clear();
    this.misses.set(`${type}|${id}`, Date.now() + this.missTtlMs);
  }

  async record(items: LearnedResource[]): Promise<void> {
    const fresh = items.filter((it) => {
      const m = this.memory.get(`${it.type}|${it.id}`);
      return !(m && m.targetId === it.targetId && m.until > Date.now());
    });
    if (fresh.length === 0) return;
    const now = Date.now();
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < fresh.length; i += 200) {
        const chunk = fresh.slice(i, i + 200);
        await tx
          .insertInto('resource_mappings')
          .values(
            chunk.map((it) => ({
              resource_type: it.type,
              resource_id: it.id,
              target_id: it.targetId,
              project_id: it.projectId,
              updated_at: now,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['resource_type', 'resource_id']).doUpdateSet((eb) => ({
              target_id: eb.ref('excluded.target_id'),
              project_id: eb.ref('excluded.project_id'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    });
    for (const it of fresh) {
      this.misses.delete(`${it.type}|${it.id}`);
      this.remember(`${it.type}|${it.id}`, it.targetId);
    }
  }

  async forget(type: string, id: string): Promise<void> {
    this.memory.delete(`${type}|${id}`);
    await this.db
      .deleteFrom('resource_mappings')
      .where('resource_type', '=', type)
      .where('resource_id', '=', id)
      .execute();
  }

  private remember(key: string, targetId: string): void {
    if (this.memory.size > MEMORY_MAX) this.memory.clear();
    this.memory.set(key, { targetId, until: Date.now() + MEMORY_TTL_MS });
  }
}
