/**
 * Resource mappings: (project, resource type, id) → target. Learned from create responses, aggregated lists and
 * flooding; forgotten on DELETE. Every lookup, memory and miss is scoped by the requesting project: what one
 * project's requests taught the proxy (or a peer injected for it) never steers another project's requests, which
 * find their own way by asking the targets with their own credentials. Misses are remembered briefly (in process)
 * so a burst of one project's requests for an unknown id floods once.
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

function keyOf(projectId: string, type: string, id: string): string {
  return `${projectId}|${type}|${id}`;
}
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

  async find(projectId: string, type: string, id: string): Promise<string | undefined> {
    const key = keyOf(projectId, type, id);
    const m = this.memory.get(key);
    if (m && m.until > Date.now()) {
      this.metrics.mappingLookup('resource', 'hit');
      return m.targetId;
    }
    const row = await this.db
      .selectFrom('project_resource_mappings')
      .select('target_id')
      .where('project_id', '=', projectId)
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

  recentlyMissed(projectId: string, type: string, id: string): boolean {
    const key = keyOf(projectId, type, id);
    const until = this.misses.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.misses.delete(key);
    return false;
  }

  noteMiss(projectId: string, type: string, id: string): void {
    if (this.missTtlMs <= 0) return;
    if (this.misses.size > MEMORY_MAX) this.misses.clear();
    this.misses.set(keyOf(projectId, type, id), Date.now() + this.missTtlMs);
  }

  async record(items: LearnedResource[]): Promise<void> {
    const fresh = items.filter((it) => {
      const m = this.memory.get(keyOf(it.projectId, it.type, it.id));
      return !(m && m.targetId === it.targetId && m.until > Date.now());
    });
    if (fresh.length === 0) return;
    const now = Date.now();
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < fresh.length; i += 200) {
        const chunk = fresh.slice(i, i + 200);
        await tx
          .insertInto('project_resource_mappings')
          .values(
            chunk.map((it) => ({
              project_id: it.projectId,
              resource_type: it.type,
              resource_id: it.id,
              target_id: it.targetId,
              updated_at: now,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['project_id', 'resource_type', 'resource_id']).doUpdateSet((eb) => ({
              target_id: eb.ref('excluded.target_id'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
    });
    for (const it of fresh) {
      const key = keyOf(it.projectId, it.type, it.id);
      this.misses.delete(key);
      this.remember(key, it.targetId);
    }
  }

  /** The project's own mapping goes (another project that knows the id keeps its own, and is told 404 there). */
  async forget(projectId: string, type: string, id: string): Promise<void> {
    this.memory.delete(keyOf(projectId, type, id));
    await this.db
      .deleteFrom('project_resource_mappings')
      .where('project_id', '=', projectId)
      .where('resource_type', '=', type)
      .where('resource_id', '=', id)
      .execute();
  }

  private remember(key: string, targetId: string): void {
    if (this.memory.size > MEMORY_MAX) this.memory.clear();
    this.memory.set(key, { targetId, until: Date.now() + MEMORY_TTL_MS });
  }
}
