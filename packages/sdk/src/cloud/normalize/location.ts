/** Where a normalized resource lives: cloud, region, zone and project (openstacksdk's `location`). */
import type { Location, LocationProject } from '../types.ts';

/** The cloud/region/current-project facts a Location is built from. */
export interface LocationBase {
  cloud: string;
  region: string | null;
  /** The token's project, used to fill in name and domain when a resource's project id matches it. */
  project: LocationProject;
}

export function makeLocation(base: LocationBase, projectId?: string | null, zone?: string | null): Location {
  let project: LocationProject;
  if (!projectId || projectId === base.project.id) project = { ...base.project };
  else project = { id: projectId, name: null, domain_id: null, domain_name: null };
  return { cloud: base.cloud, region: base.region, zone: zone || null, project };
}
