/** Neutron's tag sub-resource (`/v2.0/{collection}/{id}/tags[/{tag}]`) for every resource with standard attributes. */
import type { FastifyInstance } from 'fastify';
import type { Table } from '../context.ts';
import { badRequest, NeutronError, tokenOf } from './http.ts';
import type { NeutronModel, StdAttrs } from './model.ts';
import { touch } from './model.ts';

export function tagRoutes(app: FastifyInstance, m: NeutronModel): void {
  const kinds: Record<string, (token: Parameters<NeutronModel['owns']>[0], id: string) => StdAttrs> = {
    networks: (t, id) => m.getNetwork(t, id),
    subnets: (t, id) => m.getSubnet(t, id),
    ports: (t, id) => m.getPort(t, id),
    routers: (t, id) => m.getRouter(t, id),
    floatingips: (t, id) => m.getFloatingIp(t, id),
    'security-groups': (t, id) => m.getSecurityGroup(t, id),
  };
  const tables: Record<string, Table<StdAttrs>> = {
    networks: m.networks as unknown as Table<StdAttrs>,
    subnets: m.subnets as unknown as Table<StdAttrs>,
    ports: m.ports as unknown as Table<StdAttrs>,
    routers: m.routers as unknown as Table<StdAttrs>,
    floatingips: m.floatingips as unknown as Table<StdAttrs>,
    'security-groups': m.securityGroups as unknown as Table<StdAttrs>,
  };
  for (const kind of Object.keys(kinds)) {
    const load = (req: Parameters<typeof tokenOf>[0], id: string) => {
      const token = tokenOf(req);
      const row = kinds[kind]!(token, id);
      if (!m.owns(token, row as { project_id: string })) {
        throw new NeutronError(403, 'PolicyNotAuthorized', 'rule:update_tags is disallowed by policy');
      }
      return row;
    };
    const save = (row: StdAttrs) => {
      touch(row);
      tables[kind]!.put(row);
    };
    app.get<{ Params: { id: string } }>(`/v2.0/${kind}/:id/tags`, async (req) => ({
      tags: load(req, req.params.id).tags,
    }));
    app.get<{ Params: { id: string; tag: string } }>(`/v2.0/${kind}/:id/tags/:tag`, async (req, reply) => {
      const row = load(req, req.params.id);
      if (!row.tags.includes(req.params.tag))
        throw new NeutronError(404, 'TagNotFound', `Tag ${req.params.tag} could not be found.`);
      return reply.code(204).send();
    });
    app.put<{ Params: { id: string } }>(`/v2.0/${kind}/:id/tags`, async (req) => {
      const row = load(req, req.params.id);
      const tags = (req.body as { tags?: unknown } | undefined)?.tags;
      if (!Array.isArray(tags)) throw badRequest("Invalid input for tags. Reason: 'tags' is not a list.");
      row.tags = [...new Set(tags.map(String))];
      save(row);
      return { tags: row.tags };
    });
    app.put<{ Params: { id: string; tag: string } }>(`/v2.0/${kind}/:id/tags/:tag`, async (req, reply) => {
      const row = load(req, req.params.id);
      if (!row.tags.includes(req.params.tag)) row.tags.push(req.params.tag);
      save(row);
      return reply.code(201).send();
    });
    app.delete<{ Params: { id: string } }>(`/v2.0/${kind}/:id/tags`, async (req, reply) => {
      const row = load(req, req.params.id);
      row.tags = [];
      save(row);
      return reply.code(204).send();
    });
    app.delete<{ Params: { id: string; tag: string } }>(`/v2.0/${kind}/:id/tags/:tag`, async (req, reply) => {
      const row = load(req, req.params.id);
      if (!row.tags.includes(req.params.tag))
        throw new NeutronError(404, 'TagNotFound', `Tag ${req.params.tag} could not be found.`);
      row.tags = row.tags.filter((t) => t !== req.params.tag);
      save(row);
      return reply.code(204).send();
    });
  }
}
