/** Nova flavors: devstack's seeded flavors, list/detail/show with microversion differences, extra specs, admin create/delete. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, Table, TokenInfo } from '../context.ts';
import {
  badRequest,
  bodyOf,
  conflict,
  first,
  forbidden,
  mv,
  NovaError,
  nextLink,
  notFound,
  parseLimit,
  queryOf,
  tokenOf,
} from './http.ts';

export interface FlavorRow {
  id: string;
  name: string;
  ram: number;
  disk: number;
  swap: number;
  ephemeral: number;
  vcpus: number;
  rxtx_factor: number;
  is_public: boolean;
  disabled: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
  /** Projects with access to a private flavor. */
  projects: string[];
}

/** devstack's flavors (ids and sizes as devstack creates them). */
const SEED: [id: string, name: string, ram: number, disk: number, vcpus: number][] = [
  ['1', 'm1.tiny', 512, 1, 1],
  ['2', 'm1.small', 2048, 20, 1],
  ['3', 'm1.medium', 4096, 40, 2],
  ['4', 'm1.large', 8192, 80, 4],
  ['5', 'm1.xlarge', 16384, 160, 8],
  ['42', 'm1.nano', 128, 1, 1],
  ['84', 'm1.micro', 192, 1, 1],
  ['c1', 'cirros256', 256, 1, 1],
  ['d1', 'ds512M', 512, 5, 1],
  ['d2', 'ds1G', 1024, 10, 1],
  ['d3', 'ds2G', 2048, 10, 2],
  ['d4', 'ds4G', 4096, 20, 4],
];

export function flavorTable(ctx: CloudContext): Table<FlavorRow> {
  const t = ctx.store.table<FlavorRow>('nova_flavors');
  if (t.all().length === 0) {
    for (const [id, name, ram, disk, vcpus] of SEED) {
      t.put({
        id,
        name,
        ram,
        disk,
        vcpus,
        swap: 0,
        ephemeral: 0,
        rxtx_factor: 1.0,
        is_public: true,
        disabled: false,
        description: null,
        extra_specs: {},
        projects: [],
      });
    }
  }
  return t;
}

export function flavorVisible(token: TokenInfo, f: FlavorRow): boolean {
  return f.is_public || token.isAdmin || (!!token.projectId && f.projects.includes(token.projectId));
}

/** Resolve a flavorRef (id or URL ending in the id). */
export function flavorIdFromRef(ref: unknown): string {
  const s = String(ref ?? '');
  return s.includes('/') ? (s.split('/').filter(Boolean).pop() ?? '') : s;
}

export function renderFlavorLinks(ctx: CloudContext, id: string) {
  return [
    { rel: 'self', href: `${ctx.baseUrl}/compute/v2.1/flavors/${id}` },
    { rel: 'bookmark', href: `${ctx.baseUrl}/compute/flavors/${id}` },
  ];
}

export function renderFlavor(ctx: CloudContext, req: FastifyRequest, f: FlavorRow, detail: boolean) {
  const v = mv(req);
  const out: Record<string, unknown> = { id: f.id, name: f.name };
  if (detail) {
    out.ram = f.ram;
    out.disk = f.disk;
    // Before 2.75 a zero swap is the empty string.
    out.swap = v < 75 && f.swap === 0 ? '' : f.swap;
    out['OS-FLV-EXT-DATA:ephemeral'] = f.ephemeral;
    out['OS-FLV-DISABLED:disabled'] = f.disabled;
    out.vcpus = f.vcpus;
    out['os-flavor-access:is_public'] = f.is_public;
    out.rxtx_factor = f.rxtx_factor;
  }
  out.links = renderFlavorLinks(ctx, f.id);
  if (v >= 55) out.description = f.description;
  if (detail && v >= 61) out.extra_specs = { ...f.extra_specs };
  return out;
}

export function flavorRoutes(app: FastifyInstance, ctx: CloudContext): void {
  const flavors = flavorTable(ctx);
  const get = (token: TokenInfo, id: string) => {
    const f = flavors.get(id);
    if (!f || !flavorVisible(token, f)) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  };

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const token = tokenOf(req);
    const q = queryOf(req);
    let rows = flavors.filter((f) => flavorVisible(token, f) && !f.disabled);
    const isPublic = first(q.is_public);
    if (isPublic !== undefined && token.isAdmin) {
      const want = isPublic.toLowerCase();
      if (want !== 'none') rows = flavors.filter((f) => f.is_public === (want === 'true' || want === '1'));
    } else if (!token.isAdmin) {
      rows = rows.filter((f) => f.is_public || (token.projectId && f.projects.includes(token.projectId)));
    }
    const minRam = first(q.minRam);
    const minDisk = first(q.minDisk);
    if (minRam !== undefined) rows = rows.filter((f) => f.ram >= Number(minRam));
    if (minDisk !== undefined) rows = rows.filter((f) => f.disk >= Number(minDisk));
    const sortKey = first(q.sort_key) ?? 'flavorid';
    const sortDir = first(q.sort_dir) ?? 'asc';
    const keyOf = (f: FlavorRow): string | number =>
      sortKey === 'flavorid' || sortKey === 'id'
        ? f.id
        : ((f as unknown as Record<string, string | number>)[
            sortKey === 'memory_mb' ? 'ram' : sortKey === 'root_gb' ? 'disk' : sortKey
          ] ?? '');
    rows.sort((a, b) => {
      const x = keyOf(a);
      const y = keyOf(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sortDir === 'desc' ? -c : c;
    });
    const marker = first(q.marker);
    if (marker !== undefined) {
      const i = rows.findIndex((f) => f.id === marker);
      if (i < 0) throw badRequest(`marker [${marker}] not found`);
      rows = rows.slice(i + 1);
    }
    const limit = parseLimit(first(q.limit));
    const body: Record<string, unknown> = {};
    const page = limit !== undefined ? rows.slice(0, limit) : rows;
    body.flavors = page.map((f) => renderFlavor(ctx, req, f, detail));
    if (limit !== undefined && page.length === limit && page.length > 0) {
      body.flavors_links = nextLink(
        ctx,
        `/compute/v2.1/flavors${detail ? '/detail' : ''}`,
        q,
        page[page.length - 1]!.id,
      );
    }
    return body;
  };
  app.get('/v2.1/flavors', list(false));
  app.get('/v2.1/flavors/detail', list(true));

  app.get<{ Params: { id: string } }>('/v2.1/flavors/:id', async (req) => {
    return { flavor: renderFlavor(ctx, req, get(tokenOf(req), req.params.id), true) };
  });

  app.post('/v2.1/flavors', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.");
    const b = bodyOf(req, 'flavor');
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (!name) throw badRequest("Invalid input for field/attribute name. Value: ''. '' is too short");
    const num = (k: string, dflt?: number) => {
      const v = b[k];
      if (v === undefined || v === '') {
        if (dflt === undefined)
          throw badRequest(
            `Invalid input for field/attribute flavor. Value: ${JSON.stringify(b)}. '${k}' is a required property`,
          );
        return dflt;
      }
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(v)}.`);
      return n;
    };
    const id = b.id === undefined || b.id === null || b.id === 'auto' ? crypto.randomUUID() : String(b.id);
    if (flavors.get(id)) throw conflict(`Flavor with ID ${id} already exists.`);
    if (flavors.filter((f) => f.name === name).length) throw conflict(`Flavor with name ${name} already exists.`);
    const f: FlavorRow = {
      id,
      name,
      ram: num('ram'),
      vcpus: num('vcpus'),
      disk: num('disk'),
      swap: num('swap', 0),
      ephemeral: num('OS-FLV-EXT-DATA:ephemeral', 0),
      rxtx_factor: typeof b.rxtx_factor === 'number' ? b.rxtx_factor : 1.0,
      is_public: b['os-flavor-access:is_public'] === undefined ? true : Boolean(b['os-flavor-access:is_public']),
      disabled: false,
      description: typeof b.description === 'string' ? b.description : null,
      extra_specs: {},
      projects: [],
    };
    if (f.ram < 1 || f.vcpus < 1) throw badRequest('Invalid input for field/attribute ram/vcpus: must be at least 1.');
    flavors.put(f);
    return { flavor: renderFlavor(ctx, req, f, true) };
  });

  app.put<{ Params: { id: string } }>('/v2.1/flavors/:id', async (req) => {
    const token = tokenOf(req);
    if (mv(req) < 55) throw new NovaError(405, 'The requested method is not supported before microversion 2.55.');
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-flavor-manage:update to be performed.");
    const f = get(token, req.params.id);
    const b = bodyOf(req, 'flavor');
    if (b.description !== undefined) f.description = b.description === null ? null : String(b.description);
    flavors.put(f);
    return { flavor: renderFlavor(ctx, req, f, true) };
  });

  app.delete<{ Params: { id: string } }>('/v2.1/flavors/:id', async (req, reply) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-flavor-manage:delete to be performed.");
    const f = get(token, req.params.id);
    flavors.delete(f.id);
    return reply.code(202).send();
  });

  // ---- extra specs ---------------------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/v2.1/flavors/:id/os-extra_specs', async (req) => {
    return { extra_specs: { ...get(tokenOf(req), req.params.id).extra_specs } };
  });
  app.get<{ Params: { id: string; key: string } }>('/v2.1/flavors/:id/os-extra_specs/:key', async (req) => {
    const f = get(tokenOf(req), req.params.id);
    const v = f.extra_specs[req.params.key];
    if (v === undefined) throw notFound(`Flavor ${f.id} has no extra specs with key ${req.params.key}.`);
    return { [req.params.key]: v };
  });
  app.post<{ Params: { id: string } }>('/v2.1/flavors/:id/os-extra_specs', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin)
      throw forbidden("Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed.");
    const f = get(token, req.params.id);
    const specs = bodyOf(req, 'extra_specs');
    for (const [k, v] of Object.entries(specs)) f.extra_specs[k] = String(v);
    flavors.put(f);
    return { extra_specs: { ...f.extra_specs } };
  });
  app.put<{ Params: { id: string; key: string } }>('/v2.1/flavors/:id/os-extra_specs/:key', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin)
      throw forbidden("Policy doesn't allow os_compute_api:os-flavor-extra-specs:update to be performed.");
    const f = get(token, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const keys = Object.keys(b);
    if (keys.length !== 1 || keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
    f.extra_specs[req.params.key] = String(b[req.params.key]);
    flavors.put(f);
    return { [req.params.key]: f.extra_specs[req.params.key] };
  });
  app.delete<{ Params: { id: string; key: string } }>('/v2.1/flavors/:id/os-extra_specs/:key', async (req, reply) => {
    const token = tokenOf(req);
    if (!token.isAdmin)
      throw forbidden("Policy doesn't allow os_compute_api:os-flavor-extra-specs:delete to be performed.");
    const f = get(token, req.params.id);
    if (!(req.params.key in f.extra_specs))
      throw notFound(`Flavor ${f.id} has no extra specs with key ${req.params.key}.`);
    delete f.extra_specs[req.params.key];
    flavors.put(f);
    return reply.code(200).send();
  });

  // ---- access (private flavors) --------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/v2.1/flavors/:id/os-flavor-access', async (req) => {
    const token = tokenOf(req);
    const f = get(token, req.params.id);
    if (f.is_public) throw notFound('Access list not available for public flavors.');
    return { flavor_access: f.projects.map((p) => ({ flavor_id: f.id, tenant_id: p })) };
  });
  app.post<{ Params: { id: string } }>('/v2.1/flavors/:id/action', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-flavor-access to be performed.");
    const f = get(token, req.params.id);
    const b = (req.body ?? {}) as Record<string, { tenant?: string } | undefined>;
    if (b.addTenantAccess?.tenant) {
      if (f.is_public) throw conflict('Can not add access to a public flavor.');
      if (f.projects.includes(b.addTenantAccess.tenant))
        throw conflict(
          `Flavor access already exists for flavor ${f.id} and project ${b.addTenantAccess.tenant} combination.`,
        );
      f.projects.push(b.addTenantAccess.tenant);
    } else if (b.removeTenantAccess?.tenant) {
      const t = b.removeTenantAccess.tenant;
      if (!f.projects.includes(t)) throw notFound(`Flavor access not found for ${f.id} / ${t} combination.`);
      f.projects = f.projects.filter((p) => p !== t);
    } else throw badRequest('Invalid flavor action.');
    flavors.put(f);
    return { flavor_access: f.projects.map((p) => ({ flavor_id: f.id, tenant_id: p })) };
  });
}
