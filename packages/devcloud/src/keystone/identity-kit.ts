/** Shared by the identity admin route files: input checks, lookups that 404 and the small bodies several of them render. */
import type { FastifyRequest } from 'fastify';
import { badRequest, notFound } from './errors.ts';
import type { KeystoneRoutes } from './http.ts';
import type { Domain, Group, Role } from './model.ts';

export const optStr = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field '${field}': expected a string.`);
  return v;
};
export const reqStr = (v: unknown, field: string): string => {
  const s = optStr(v, field);
  if (s === undefined || s === '')
    throw badRequest(`Invalid input for field '${field}': '${field.split('/').pop()}' is a required property`);
  return s;
};
export const optBool = (v: unknown, field: string): boolean | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`Invalid input for field '${field}': expected a boolean.`);
  return v;
};
export const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : !['false', '0', 'no', 'off'].includes(v.toLowerCase());
export const params = (req: FastifyRequest) => req.params as Record<string, string>;

export function identityKit(r: KeystoneRoutes) {
  const { ks } = r;
  const v3 = () => r.v3();

  const domainBody = (d: Domain) => ({
    id: d.id,
    name: d.name,
    description: d.description,
    enabled: d.enabled,
    tags: [],
    options: {},
    links: { self: `${v3()}/domains/${d.id}` },
  });
  const roleBody = (x: Role) => ({
    id: x.id,
    name: x.name,
    domain_id: x.domain_id,
    description: x.description ?? null,
    options: {},
    links: { self: `${v3()}/roles/${x.id}` },
  });
  const groupBody = (g: Group) => ({
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description,
    links: { self: `${v3()}/groups/${g.id}` },
  });

  const need = <T>(value: T | undefined, kind: string, id: string): T => {
    if (value === undefined) throw notFound(kind, id);
    return value;
  };
  const domainOf = (id: string) => need(ks.domains.get(id), 'domain', id);
  const projectOf = (id: string) => need(ks.projects.get(id), 'project', id);
  const userOf = (id: string) => need(ks.users.get(id), 'user', id);
  const groupOf = (id: string) => need(ks.groups.get(id), 'group', id);
  const roleOf = (id: string) => need(ks.roles.get(id), 'role', id);
  return { ks, v3, domainBody, roleBody, groupBody, need, domainOf, projectOf, userOf, groupOf, roleOf };
}
