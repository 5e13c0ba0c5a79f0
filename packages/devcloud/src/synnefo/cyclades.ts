/**
 * Cyclades compute, network and volume: OpenStack-shaped resources plus Synnefo's project handling. A create takes
 * an optional `project` (default: the user's default project) and is charged to it by one commission (413
 * overLimit when it does not fit); answers carry the project as `tenant_id` with `shared_to_project`; POST
 * `<resource>/<id>/action {"reassign": {"project": P}}` moves the resource and its charges in one commission.
 * Shapes per snf-cyclades-app synnefo/api/{servers,networks,floating_ips}.py and synnefo/volume/views.py.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { badRequest, forbidden, itemNotFound, jsonBody, SnfFault, userOf } from './http.ts';
import { OverLimit, type SynnefoModel } from './model.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Flavors named as Synnefo names them: C<cpus>R<ram MiB>D<disk GiB><disk template>. */
export const SNF_FLAVORS = [
  { id: 1, vcpus: 1, ram: 1024, disk: 20 },
  { id: 2, vcpus: 1, ram: 2048, disk: 40 },
  { id: 3, vcpus: 2, ram: 2048, disk: 40 },
  { id: 4, vcpus: 4, ram: 4096, disk: 80 },
].map((f) => ({ ...f, name: `C${f.vcpus}R${f.ram}D${f.disk}drbd`, 'SNF:disk_template': 'drbd' }));

interface Held {
  id: string;
  kind: Kind;
  user: string;
  project: string;
  charges: Record<string, number>;
  view: Record<string, unknown>;
}

type Kind = 'server' | 'network' | 'floatingip' | 'volume';

interface KindSpec {
  kind: Kind;
  prefix: string;
  collection: string;
  createStatus: number;
  /** What a create costs, from its body; throws badRequest for a bad body. */
  charges(body: Record<string, unknown>): Record<string, number>;
  view(body: Record<string, unknown>, id: string): Record<string, unknown>;
}

const KINDS: KindSpec[] = [
  {
    kind: 'server',
    prefix: '/cyclades/compute/v2.0',
    collection: 'servers',
    createStatus: 202,
    charges(b) {
      const f = SNF_FLAVORS.find((x) => String(x.id) === String(b.flavorRef));
      if (!f) throw badRequest(`Flavor ${String(b.flavorRef)} not found`);
      if (typeof b.imageRef !== 'string') throw badRequest("Missing 'imageRef' attribute.");
      return { 'cyclades.vm': 1, 'cyclades.cpu': f.vcpus, 'cyclades.ram': f.ram * MiB, 'cyclades.disk': f.disk * GiB };
    },
    view: (b, id) => ({
      id,
      name: String(b.name ?? ''),
      status: 'ACTIVE',
      flavor: { id: Number(b.flavorRef) },
      image: { id: String(b.imageRef) },
      metadata: {},
      addresses: {},
      attachments: [],
      created: new Date().toISOString(),
    }),
  },
  {
    kind: 'network',
    prefix: '/cyclades/network/v2.0',
    collection: 'networks',
    createStatus: 201,
    charges(b) {
      if (typeof b.type !== 'string') throw badRequest("Missing 'type' attribute.");
      return { 'cyclades.network.private': 1 };
    },
    view: (b, id) => ({
      id,
      name: String(b.name ?? ''),
      type: String(b.type),
      status: 'ACTIVE',
      public: false,
      'router:external': false,
      admin_state_up: true,
      subnets: [],
    }),
  },
  {
    kind: 'floatingip',
    prefix: '/cyclades/network/v2.0',
    collection: 'floatingips',
    createStatus: 200,
    charges: () => ({ 'cyclades.floating_ip': 1 }),
    view: (b, id) => ({
      id,
      floating_ip_address: `192.0.2.${(Number.parseInt(id.slice(0, 2), 16) % 250) + 2}`,
      floating_network_id: String(b.floating_network_id ?? 'public'),
      fixed_ip_address: null,
      instance_id: null,
      port_id: null,
      deleted: false,
    }),
  },
  {
    kind: 'volume',
    prefix: '/cyclades/volume/v2.0',
    collection: 'volumes',
    createStatus: 202,
    charges(b) {
      const size = Number(b.size);
      if (!Number.isInteger(size) || size <= 0) throw badRequest('Volume size must be a positive integer');
      return { 'cyclades.disk': size * GiB };
    },
    view: (b, id) => ({
      id,
      display_name: String(b.display_name ?? b.name ?? ''),
      size: Number(b.size),
      status: 'available',
      volume_type: String(b.volume_type ?? '1'),
      attachments: [],
      created_at: new Date().toISOString(),
    }),
  },
];

const SINGULAR: Record<Kind, string> = {
  server: 'server',
  network: 'network',
  floatingip: 'floatingip',
  volume: 'volume',
};

/** Cyclades' own face of a quota failure (the quotaholder's message in `details`). */
function overLimitCyclades(err: OverLimit): SnfFault {
  return new SnfFault(413, 'overLimit', 'Resource Limit Exceeded for your account.', err.message);
}

export function cycladesRoutes(app: FastifyInstance, model: SynnefoModel): { held: Map<string, Held> } {
  const held = new Map<string, Held>();
  const render = (h: Held) => ({
    ...h.view,
    user_id: h.user,
    tenant_id: h.project,
    shared_to_project: false,
  });

  app.get('/cyclades/compute/v2.0/flavors', async () => ({
    flavors: SNF_FLAVORS.map((f) => ({ id: f.id, name: f.name })),
  }));
  app.get('/cyclades/compute/v2.0/flavors/detail', async () => ({ flavors: SNF_FLAVORS }));

  for (const spec of KINDS) {
    const base = `${spec.prefix}/${spec.collection}`;
    const one = SINGULAR[spec.kind];
    const find = (user: string, id: string): Held => {
      const h = held.get(id);
      if (!h || h.kind !== spec.kind || h.user !== user) throw itemNotFound(`${one} ${id} not found`);
      return h;
    };
    const list = async (req: Parameters<typeof userOf>[1]) => {
      const user = userOf(model, req);
      return {
        [spec.collection]: [...held.values()].filter((h) => h.kind === spec.kind && h.user === user.uuid).map(render),
      };
    };
    app.get(base, list);
    app.get(`${base}/detail`, list);
    app.get<{ Params: { id: string } }>(`${base}/:id`, async (req) => ({
      [one]: render(find(userOf(model, req).uuid, req.params.id)),
    }));
    app.post(base, async (req, reply) => {
      const user = userOf(model, req);
      const body = jsonBody(req)[one] as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object') throw badRequest(`Missing '${one}' attribute.`);
      const project = typeof body.project === 'string' ? body.project : user.defaultProject;
      if (!model.isMember(user.uuid, project)) throw forbidden(`Not a member of project ${project}`);
      const charges = spec.charges(body);
      const id = spec.kind === 'server' ? String(100000 + held.size) : randomUUID();
      try {
        model.commission(
          `create ${one}`,
          Object.entries(charges).map(([resource, quantity]) => ({ user: user.uuid, project, resource, quantity })),
        );
      } catch (err) {
        if (err instanceof OverLimit) throw overLimitCyclades(err);
        throw err;
      }
      const h: Held = { id, kind: spec.kind, user: user.uuid, project, charges, view: spec.view(body, id) };
      held.set(id, h);
      return reply.code(spec.createStatus).send({ [one]: render(h) });
    });
    app.delete<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
      const user = userOf(model, req);
      const h = find(user.uuid, req.params.id);
      model.commission(
        `delete ${one}`,
        Object.entries(h.charges).map(([resource, q]) => ({
          user: user.uuid,
          project: h.project,
          resource,
          quantity: -q,
        })),
      );
      held.delete(h.id);
      return reply.code(204).send();
    });
    app.post<{ Params: { id: string } }>(`${base}/:id/action`, async (req, reply) => {
      const user = userOf(model, req);
      const h = find(user.uuid, req.params.id);
      const body = jsonBody(req);
      const r = body.reassign as Record<string, unknown> | undefined;
      if (!r || typeof r !== 'object') throw badRequest('Unknown action');
      if (typeof r.project !== 'string') throw badRequest("Missing 'project' attribute.");
      if (r.shared_to_project === true) throw forbidden('Sharing resources to a project is not permitted');
      if (!model.isMember(user.uuid, r.project)) throw forbidden(`Not a member of project ${r.project}`);
      if (r.project !== h.project) {
        try {
          model.reassign(`reassign ${one} ${h.id}`, user.uuid, h.project, r.project, h.charges);
        } catch (err) {
          if (err instanceof OverLimit) throw overLimitCyclades(err);
          throw err;
        }
        h.project = r.project;
      }
      return reply.code(200).send('');
    });
  }
  return { held };
}
