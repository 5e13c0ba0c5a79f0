// Public exports of quotas/: "my projects" and quota rows across clouds and projects.

export { listProjects, listQuotas, projectQuotas, projectsOf, QUOTA_SERVICES } from './across.ts';
export { type ContainerMoveProgress, moveContainer } from './containers.ts';
export { OPENSTACK_READERS } from './openstack.ts';
export { listMyProjects, projectLocation, selectProjects } from './projects.ts';
export {
  connectionInProject,
  type ReassignKind,
  reassign,
  reassignVolume,
  resolveProject,
} from './reassign.ts';
export { connectionForProject } from './scoped.ts';
export type * from './types.ts';
