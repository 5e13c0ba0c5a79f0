/** Default quota limits per service (OpenStack's own defaults) and per-project overrides kept in the store. */
import type { StateStore } from './context.ts';

export type QuotaService = 'compute' | 'volume' | 'network';

export const DEFAULT_QUOTAS: Record<QuotaService, Record<string, number>> = {
  compute: {
    instances: 10,
    cores: 20,
    ram: 51200,
    key_pairs: 100,
    metadata_items: 128,
    server_groups: 10,
    server_group_members: 10,
    injected_files: 5,
    injected_file_content_bytes: 10240,
    injected_file_path_bytes: 255,
  },
  volume: {
    volumes: 10,
    gigabytes: 1000,
    snapshots: 10,
    backups: 10,
    backup_gigabytes: 1000,
    per_volume_gigabytes: -1,
    groups: 10,
  },
  network: {
    network: 100,
    subnet: 100,
    port: 500,
    router: 10,
    floatingip: 50,
    security_group: 10,
    security_group_rule: 100,
    subnetpool: -1,
    rbac_policy: 10,
  },
};

interface OverrideRow {
  id: string;
  limits: Record<string, number>;
}

export class Quotas {
  private readonly overrides;
  private readonly defaults: Record<QuotaService, Record<string, number>>;
  constructor(store: StateStore, defaults?: Partial<Record<QuotaService, Record<string, number>>>) {
    this.overrides = store.table<OverrideRow>('quota_overrides');
    this.defaults = {
      compute: { ...DEFAULT_QUOTAS.compute, ...defaults?.compute },
      volume: { ...DEFAULT_QUOTAS.volume, ...defaults?.volume },
      network: { ...DEFAULT_QUOTAS.network, ...defaults?.network },
    };
  }
  limit(service: QuotaService, projectId: string, resource: string): number {
    const o = this.overrides.get(`${service}:${projectId}`)?.limits[resource];
    if (o !== undefined) return o;
    return this.defaults[service][resource] ?? -1;
  }
  /** All limits of a service for a project (defaults merged with overrides). */
  limits(service: QuotaService, projectId: string): Record<string, number> {
    return { ...this.defaults[service], ...this.overrides.get(`${service}:${projectId}`)?.limits };
  }
  set(service: QuotaService, projectId: string, resource: string, limit: number): void {
    const id = `${service}:${projectId}`;
    const row = this.overrides.get(id) ?? { id, limits: {} };
    row.limits[resource] = limit;
    this.overrides.put(row);
  }
  reset(service: QuotaService, projectId: string): void {
    this.overrides.delete(`${service}:${projectId}`);
  }
}
