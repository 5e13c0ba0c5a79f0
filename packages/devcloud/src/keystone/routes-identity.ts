/**
 * Keystone's identity admin API: domains, projects, users, groups, roles, grants, role assignments, services,
 * endpoints, regions, application credentials. Policy follows Keystone's defaults in spirit: project-admin
 * tokens may do everything, other tokens may read themselves, their projects and their own credentials.
 */
import type { FastifyInstance } from 'fastify';
import type { KeystoneRoutes } from './http.ts';
import type { Keystone } from './model.ts';
import { appCredentialRoutes } from './routes-app-credentials.ts';
import { catalogRoutes } from './routes-catalog.ts';
import { domainRoutes } from './routes-domains.ts';
import { roleRoutes } from './routes-roles.ts';
import { userRoutes } from './routes-users.ts';

/** Registers every identity admin route file, in the order they were always registered. */
export function identityRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  domainRoutes(app, r);
  userRoutes(app, r);
  roleRoutes(app, r);
  catalogRoutes(app, r);
  appCredentialRoutes(app, r);
}

export type { Keystone };
