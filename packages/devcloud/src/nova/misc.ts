/** Nova version documents, limits, quota sets, availability zones, services and hypervisors. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { badRequest, bodyOf, forbidden, isoMicro, MAX_VERSION, MIN_VERSION, mv, notFound, tokenOf } from './http.ts';
import { keypairTable } from './keypairs.ts';
import { HOST, type NovaModel } from './model.ts';

const UPDATED = '2013-07-23T11:33:21Z';

function v21(ctx: CloudContext) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: UPDATED,
    links: [{ rel: 'self', href: `${ctx.baseUrl}/compute/v2.1/` }],
  };
}

/** Quota resources by microversion: 2.36 dropped the network proxies, 2.57 the injected files. */
function quotaResources(req: FastifyRequest): string[] {
  const v = mv(req);
  const out = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_group_members', 'server_groups'];
  if (v < 36) out.push('fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups');
  if (v < 57) out.push('injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files');
  return out.sort();
}

/** Network-proxy quotas Nova reports as unlimited when Neutron is in use. */
const NEUTRON_PROXIED = new Set(['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups']);

export function miscRoutes(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  app.get('/', async () => ({
    versions: [
      {
        id: 'v2.0',
        status: 'SUPPORTED',
        version: '',
        min_version: '',
        updated: '2011-01-21T11:33:21Z',
        links: [{ rel: 'self', href: `${ctx.baseUrl}/compute/v2/` }],
      },
      v21(ctx),
    ],
  }));
  app.get('/v2.1', async () => ({
    version: {
      ...v21(ctx),
      links: [
        { rel: 'self', href: `${ctx.baseUrl}/compute/v2.1/` },
        { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
      ],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
    },
  }));

  // ---- quotas --------------------------------------------------------------------------------------------
  const usage = (projectId: string, userId?: string): Record<string, number> => {
    const u = m.usage(projectId);
    return {
      ...u,
      key_pairs: userId ? keypairTable(ctx).filter((k) => k.user_id === userId).length : 0,
      metadata_items: 0,
      server_groups: 0,
      server_group_members: 0,
    };
  };
  const limit = (projectId: string, r: string) =>
    NEUTRON_PROXIED.has(r) ? -1 : ctx.quotaLimit('compute', projectId, r);
  const canRead = (token: TokenInfo, projectId: string) => {
    if (!token.isAdmin && token.projectId !== projectId) {
      throw forbidden("Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
    }
  };

  app.get('/v2.1/limits', async (req) => {
    const token = tokenOf(req);
    const q = (req.query ?? {}) as Record<string, string>;
    let projectId = token.projectId ?? '';
    if (q.tenant_id && q.tenant_id !== projectId) {
      if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:limits:other_project to be performed.");
      projectId = q.tenant_id;
    }
    const u = usage(projectId, token.userId);
    const L = (r: string) => ctx.quotaLimit('compute', projectId, r);
    const absolute: Record<string, number> = {
      maxTotalInstances: L('instances'),
      maxTotalCores: L('cores'),
      maxTotalRAMSize: L('ram'),
      maxServerMeta: L('metadata_items'),
    };
    if (mv(req) < 39) absolute.maxImageMeta = L('metadata_items');
    if (mv(req) < 57) {
      absolute.maxPersonality = L('injected_files');
      absolute.maxPersonalitySize = L('injected_file_content_bytes');
    }
    absolute.maxTotalKeypairs = L('key_pairs');
    absolute.maxServerGroups = L('server_groups');
    absolute.maxServerGroupMembers = L('server_group_members');
    if (mv(req) < 36) {
      absolute.maxTotalFloatingIps = -1;
      absolute.maxSecurityGroups = -1;
      absolute.maxSecurityGroupRules = -1;
    }
    absolute.totalRAMUsed = u.ram ?? 0;
    absolute.totalCoresUsed = u.cores ?? 0;
    absolute.totalInstancesUsed = u.instances ?? 0;
    if (mv(req) < 36) {
      absolute.totalFloatingIpsUsed = 0;
      absolute.totalSecurityGroupsUsed = 0;
    }
    absolute.totalServerGroupsUsed = 0;
    return { limits: { rate: [], absolute } };
  });

  app.get<{ Params: { project: string } }>('/v2.1/os-quota-sets/:project', async (req) => {
    const token = tokenOf(req);
    canRead(token, req.params.project);
    const quota_set: Record<string, unknown> = { id: req.params.project };
    for (const r of quotaResources(req)) quota_set[r] = limit(req.params.project, r);
    return { quota_set };
  });
  app.get<{ Params: { project: string } }>('/v2.1/os-quota-sets/:project/defaults', async (req) => {
    tokenOf(req);
    const quota_set: Record<string, unknown> = { id: req.params.project };
    // Defaults: what a project without overrides gets.
    for (const r of quotaResources(req)) quota_set[r] = limit('\u0000defaults', r);
    return { quota_set };
  });
  app.get<{ Params: { project: string } }>('/v2.1/os-quota-sets/:project/detail', async (req) => {
    const token = tokenOf(req);
    canRead(token, req.params.project);
    const u = usage(req.params.project, token.projectId === req.params.project ? token.userId : undefined);
    const quota_set: Record<string, unknown> = { id: req.params.project };
    for (const r of quotaResources(req)) {
      quota_set[r] = { limit: limit(req.params.project, r), in_use: u[r] ?? 0, reserved: 0 };
    }
    return { quota_set };
  });
  app.put<{ Params: { project: string } }>('/v2.1/os-quota-sets/:project', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.");
    const b = bodyOf(req, 'quota_set');
    const known = quotaResources(req);
    const u = usage(req.params.project);
    const force = b.force === true || b.force === 'True' || b.force === 'true';
    for (const [k, v] of Object.entries(b)) {
      if (k === 'force' || k === 'id') continue;
      if (!known.includes(k)) {
        throw badRequest(
          `Invalid input for field/attribute quota_set. Value: ${JSON.stringify(b)}. Additional properties are not allowed ('${k}' was unexpected)`,
        );
      }
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1)
        throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(v)}.`);
      if (!force && n >= 0 && (u[k] ?? 0) > n) {
        throw badRequest(
          `Quota limit ${n} for ${k} must be greater than or equal to already used and reserved ${u[k]}.`,
        );
      }
      if (!NEUTRON_PROXIED.has(k)) ctx.setQuotaLimit('compute', req.params.project, k, n);
    }
    const quota_set: Record<string, unknown> = {};
    for (const r of known) quota_set[r] = limit(req.params.project, r);
    return { quota_set };
  });
  app.delete<{ Params: { project: string } }>('/v2.1/os-quota-sets/:project', async (req, reply) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed.");
    ctx.resetQuotaLimits('compute', req.params.project);
    return reply.code(202).send();
  });

  // ---- availability zones, services, hypervisors ---------------------------------------------------------
  app.get('/v2.1/os-availability-zone', async (req) => {
    tokenOf(req);
    return { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }] };
  });
  app.get('/v2.1/os-availability-zone/detail', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin)
      throw forbidden("Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.");
    const now = isoMicro(Date.now());
    const svc = (active = true) => ({ available: true, active, updated_at: now });
    return {
      availabilityZoneInfo: [
        {
          zoneName: 'internal',
          zoneState: { available: true },
          hosts: { [HOST]: { 'nova-conductor': svc(), 'nova-scheduler': svc() } },
        },
        { zoneName: 'nova', zoneState: { available: true }, hosts: { [HOST]: { 'nova-compute': svc() } } },
      ],
    };
  });

  const services = () => {
    const now = isoMicro(Date.now());
    return [
      ['nova-conductor', 'internal'],
      ['nova-scheduler', 'internal'],
      ['nova-compute', 'nova'],
    ].map(([binary, zone], i) => ({
      id: i + 1,
      binary,
      disabled_reason: null,
      host: HOST,
      state: 'up',
      status: 'enabled',
      updated_at: now,
      forced_down: false,
      zone,
    }));
  };
  app.get('/v2.1/os-services', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-services:list to be performed.");
    const q = (req.query ?? {}) as Record<string, string>;
    return {
      services: services().filter((s) => (!q.binary || s.binary === q.binary) && (!q.host || s.host === q.host)),
    };
  });

  const hypervisor = (detail: boolean) => {
    const base: Record<string, unknown> = { id: 1, hypervisor_hostname: HOST, state: 'up', status: 'enabled' };
    if (!detail) return base;
    return {
      ...base,
      host_ip: '127.0.0.1',
      hypervisor_type: 'fake',
      hypervisor_version: 1000,
      service: { host: HOST, id: 3, disabled_reason: null },
      vcpus: 1000,
      memory_mb: 8_000_000,
      local_gb: 600_000,
      vcpus_used: 0,
      memory_mb_used: 0,
      local_gb_used: 0,
      running_vms: m.servers.filter((s) => !s.deleted).length,
      free_ram_mb: 8_000_000,
      free_disk_gb: 600_000,
      current_workload: 0,
      disk_available_least: 600_000,
      cpu_info: '{}',
    };
  };
  const hypervisorsAllowed = (req: FastifyRequest) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.");
  };
  app.get('/v2.1/os-hypervisors', async (req) => {
    hypervisorsAllowed(req);
    return { hypervisors: [hypervisor(false)] };
  });
  app.get('/v2.1/os-hypervisors/detail', async (req) => {
    hypervisorsAllowed(req);
    return { hypervisors: [hypervisor(true)] };
  });
  app.get<{ Params: { id: string } }>('/v2.1/os-hypervisors/:id', async (req) => {
    hypervisorsAllowed(req);
    if (req.params.id !== '1' && req.params.id !== HOST)
      throw notFound(`Hypervisor with ID ${req.params.id} could not be found.`);
    return { hypervisor: hypervisor(true) };
  });

  app.get('/v2.1/os-server-groups', async (req) => {
    tokenOf(req);
    return { server_groups: [] };
  });
}
