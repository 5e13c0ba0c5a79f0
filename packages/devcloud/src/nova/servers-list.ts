/** GET /servers and /servers/detail: filters, sorting, `limit`/`marker` + `servers_links`, `changes-since`. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext } from '../context.ts';
import { flavorIdFromRef } from './flavors.ts';
import { badRequest, first, forbidden, mv, nextLink, parseLimit, queryOf, tokenOf } from './http.ts';
import { type NovaModel, type ServerRow, STATUS_FILTER, statusOf } from './model.ts';
import { addressesOf, renderServer, renderServerSummary } from './render.ts';
import { imageIdFromRef } from './server-common.ts';

function parseIsoTime(raw: string, name: string): number {
  const t = Date.parse(raw.includes('T') || raw.includes(' ') ? raw : `${raw}T00:00:00Z`);
  if (Number.isNaN(t)) {
    throw badRequest(`Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a 'date-time'`);
  }
  return t;
}

export function listServerRoutes(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const token = tokenOf(req);
    const q = queryOf(req);
    const allTenantsRaw = first(q.all_tenants);
    const allTenants =
      allTenantsRaw !== undefined && !['0', 'false', 'False', 'f', 'off', 'no'].includes(allTenantsRaw);
    if (allTenants && !token.isAdmin) {
      throw forbidden("Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.");
    }
    const changesSince = first(q['changes-since']);
    const changesBefore = first(q['changes-before']);
    const since = changesSince !== undefined ? parseIsoTime(changesSince, 'changes-since') : undefined;
    const before = changesBefore !== undefined ? parseIsoTime(changesBefore, 'changes-before') : undefined;
    if (since !== undefined && before !== undefined && since > before) {
      throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    }
    const deletedRaw = first(q.deleted);
    const includeDeleted = since !== undefined || before !== undefined || (token.isAdmin && deletedRaw === 'true');
    let rows = m.settleAll(m.servers.all());
    if (!includeDeleted) rows = rows.filter((s) => !s.deleted);
    else if (deletedRaw === 'true' && token.isAdmin) rows = rows.filter((s) => s.deleted);

    const project = first(q.project_id) ?? first(q.tenant_id);
    if (allTenants) {
      if (project) rows = rows.filter((s) => s.project_id === project);
    } else {
      rows = rows.filter((s) => s.project_id === token.projectId);
    }
    if (since !== undefined) rows = rows.filter((s) => s.updated >= since);
    if (before !== undefined) rows = rows.filter((s) => s.updated <= before);

    const name = first(q.name);
    if (name !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(name);
      } catch {
        re = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      rows = rows.filter((s) => re.test(s.name));
    }
    const statuses =
      q.status === undefined ? [] : (Array.isArray(q.status) ? q.status : [q.status]).map((x) => x.toUpperCase());
    if (statuses.length) {
      for (const st of statuses) {
        if (!STATUS_FILTER[st]) throw badRequest(`Invalid status value`);
      }
      rows = rows.filter((s) => statuses.includes(statusOf(s)) || (statuses.includes('DELETED') && s.deleted));
    }
    const image = first(q.image);
    if (image !== undefined) rows = rows.filter((s) => s.image_id === imageIdFromRef(image));
    const flavor = first(q.flavor);
    if (flavor !== undefined) rows = rows.filter((s) => s.flavor.id === flavorIdFromRef(flavor));
    const az = first(q.availability_zone);
    if (az !== undefined) rows = rows.filter((s) => s.availability_zone === az);
    const keyName = first(q.key_name);
    if (keyName !== undefined) rows = rows.filter((s) => s.key_name === keyName);
    const locked = first(q.locked);
    if (locked !== undefined && mv(req) >= 73)
      rows = rows.filter((s) => s.locked === (locked.toLowerCase() === 'true'));
    const ip = first(q.ip) ?? first(q.ip6);
    if (ip !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(ip);
      } catch {
        re = new RegExp(ip.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      rows = rows.filter((s) =>
        Object.values(addressesOf(ctx, s.id)).some((list) => list.some((a) => re.test(a.addr))),
      );
    }
    const tagFilter = (key: string, pred: (have: Set<string>, want: string[]) => boolean) => {
      const raw = first(q[key]);
      if (raw === undefined) return;
      const want = raw.split(',').filter(Boolean);
      rows = rows.filter((s) => pred(new Set(s.tags), want));
    };
    tagFilter('tags', (h, w) => w.every((t) => h.has(t)));
    tagFilter('tags-any', (h, w) => w.some((t) => h.has(t)));
    tagFilter('not-tags', (h, w) => !w.every((t) => h.has(t)));
    tagFilter('not-tags-any', (h, w) => !w.some((t) => h.has(t)));

    // Sort: Nova's default is created_at desc (then id), any of its sort keys otherwise.
    const keys = q.sort_key === undefined ? ['created_at'] : Array.isArray(q.sort_key) ? q.sort_key : [q.sort_key];
    const dirs = q.sort_dir === undefined ? [] : Array.isArray(q.sort_dir) ? q.sort_dir : [q.sort_dir];
    const value = (s: ServerRow, key: string): string | number => {
      switch (key) {
        case 'created_at':
          return s.created;
        case 'updated_at':
          return s.updated;
        case 'launched_at':
          return s.launched_at ?? 0;
        case 'display_name':
        case 'name':
          return s.name;
        case 'uuid':
        case 'id':
          return s.id;
        case 'vm_state':
          return s.vm_state;
        case 'task_state':
          return s.task_state ?? '';
        case 'power_state':
          return s.power_state;
        case 'key_name':
          return s.key_name ?? '';
        case 'availability_zone':
          return s.availability_zone;
        case 'instance_type_id':
        case 'flavor':
          return s.flavor.id;
        case 'image_ref':
          return s.image_id;
        case 'project_id':
          return s.project_id;
        case 'user_id':
          return s.user_id;
        case 'hostname':
          return s.hostname;
        default:
          throw badRequest(`Invalid input for query parameters sort_key. Value: ${key}.`);
      }
    };
    rows.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const x = value(a, keys[i]!);
        const y = value(b, keys[i]!);
        const c = x < y ? -1 : x > y ? 1 : 0;
        if (c !== 0) return (dirs[i] ?? 'desc') === 'asc' ? c : -c;
      }
      return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
    });

    const marker = first(q.marker);
    if (marker !== undefined) {
      const i = rows.findIndex((s) => s.id === marker);
      if (i < 0) throw badRequest(`marker [${marker}] not found`);
      rows = rows.slice(i + 1);
    }
    // Nova caps every page at its max_limit (1000) and links to the rest, with or without `limit`.
    const limit = parseLimit(first(q.limit)) ?? (rows.length > 1000 ? 1000 : undefined);
    if (limit !== undefined) rows = rows.slice(0, limit);
    const body: Record<string, unknown> = {
      servers: rows.map((s) => (detail ? renderServer(ctx, req, token, s) : renderServerSummary(ctx, s))),
    };
    if (limit !== undefined && limit > 0 && rows.length === limit) {
      body.servers_links = nextLink(
        ctx,
        `/compute/v2.1/servers${detail ? '/detail' : ''}`,
        q,
        rows[rows.length - 1]!.id,
      );
    }
    return body;
  };
  app.get('/v2.1/servers', list(false));
  app.get('/v2.1/servers/detail', list(true));
}
