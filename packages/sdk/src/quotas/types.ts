import type { OcxError } from '../errors/ocx-error.ts';
import type { FanOutOptions } from '../multicloud/fanout.ts';
import type { ItemLocation } from '../multicloud/types.ts';

/** A project the user can reach on one cloud (Keystone `/v3/auth/projects`; Astakos projects on Synnefo). */
export interface MyProject {
  id: string;
  name: string;
  domain: { id: string | null; name: string | null };
  enabled: boolean;
  /** The project the connection's own token is scoped to. */
  current: boolean;
  /** Where it is: cloud, region and the project itself (shade-style location). */
  location: ItemLocation;
}

/** 'count' for numbers of things, 'bytes' for sizes (Nova MiB, Cinder GiB and Glance MiB are converted). */
export type QuotaUnit = 'count' | 'bytes';

/** One resource of one project of one cloud. */
export interface QuotaRow {
  location: ItemLocation;
  /** The service that reported it: compute, volume, network, image, object, limits (Keystone). */
  service: string;
  /** `<service>.<resource>`: compute.instances, volume.gigabytes, network.floatingip, object.bytes, … */
  resource: string;
  /** null: the source publishes limits only (Keystone unified limits, `limits.*` rows). */
  usage: number | null;
  /** null = unlimited (OpenStack's -1) or no limit published. */
  limit: number | null;
  /** Reserved/pending amounts (Nova/Cinder/Neutron `reserved`); 0 when the service has none. */
  reserved: number;
  unit: QuotaUnit;
  /** Synnefo only: the whole project's limit and usage (all members); `limit`/`usage` are the user's share. */
  projectLimit?: number | null | undefined;
  projectUsage?: number | undefined;
}

/**
 * A part of the answer that could not be had: one (cloud, project, service), or a whole project (service null:
 * no token for it), or a whole cloud (project id null: its projects could not be listed).
 */
export interface QuotaFailure {
  location: ItemLocation;
  service: string | null;
  error: OcxError;
}

export interface ProjectsOutcome {
  projects: MyProject[];
  failures: QuotaFailure[];
}

export interface QuotasOutcome {
  /** The projects asked about, in connection order. */
  projects: MyProject[];
  /** In connection order, then project order, then service order (compute, volume, network, image, object). */
  rows: QuotaRow[];
  failures: QuotaFailure[];
}

export interface QuotaQueryOptions extends FanOutOptions {
  /** Only these projects (ids or names); default every project the user can reach. */
  projects?: readonly string[] | undefined;
  /** Only these services (compute, volume, network, image, object); default all. */
  services?: readonly string[] | undefined;
  /** How many projects of one cloud are read at once (default 8). */
  projectConcurrency?: number | undefined;
}
