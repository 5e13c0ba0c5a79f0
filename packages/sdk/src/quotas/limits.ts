/**
 * Keystone unified limits as a quota source: `GET /v3/registered_limits` (the deployment's default per service,
 * region and resource) and `GET /v3/limits` (a project's own override; Keystone shows a non-admin token only its own
 * project's). Rows are `limits.<service>.<resource>` (service from the catalog entry whose id the limit names:
 * compute, volume, network, image, object, else the catalog type or the service id) with the effective limit and
 * `usage: null`: Keystone holds limits only, the services count usage. A cloud with no registered limit gives no
 * rows, with one call: the registered limits change rarely and are remembered for a minute per connection.
 */
import { ErrorCode } from '../errors/codes.ts';
import { isOcxError } from '../errors/ocx-error.ts';
import type { Connection } from '../multicloud/types.ts';
import { canonicalServiceType } from '../wire/service-types.ts';
import type { ServiceReader } from './openstack.ts';
import type { QuotaRow } from './types.ts';

interface LimitWire {
  service_id?: unknown;
  region_id?: unknown;
  resource_name?: unknown;
  project_id?: unknown;
  default_limit?: unknown;
  resource_limit?: unknown;
}

const MiB = 1024 * 1024;
/** Resources whose limits are sizes, and their unit (Glance's in MiB; Nova's placement classes). */
const SIZE_SCALE: Record<string, number> = {
  image_size_total: MiB,
  image_stage_total: MiB,
  'class:MEMORY_MB': MiB,
  'class:DISK_GB': 1024 * MiB,
};
const PREFIX: Record<string, string> = {
  compute: 'compute',
  'block-storage': 'volume',
  network: 'network',
  image: 'image',
  'object-store': 'object',
};
/** How long the registered limits (the same for every project of a cloud) are reused. */
export const REGISTERED_LIMITS_TTL_MS = 60_000;

/** Per (project-scoped) connection, so a new connection (a new login) asks again. */
const registeredCache = new WeakMap<Connection, { at: number; list: LimitWire[] }>();

const isStr = (v: unknown): v is string => typeof v === 'string' && v !== '';

export const readLimits: ServiceReader = async (conn, projectId, location, ctx) => {
  const opts = { signal: ctx.signal, timeoutMs: ctx.timeoutMs };
  const access = await conn.session.getAccess({ signal: ctx.signal });
  const base = access.identityUrl.replace(/\/+$/, '');
  const identity = conn.client('identity');
  const get = async (path: string, key: string): Promise<LimitWire[]> => {
    try {
      const body = await identity.getJson<Record<string, unknown>>(`${base}${path}`, opts);
      const list = body[key];
      return Array.isArray(list) ? (list as LimitWire[]) : [];
    } catch (err) {
      // A Keystone older than Queens has no unified limits: nothing to report.
      if (isOcxError(err) && err.code === ErrorCode.NOT_FOUND) return [];
      throw err;
    }
  };
  let hit = registeredCache.get(conn);
  if (!hit || Date.now() - hit.at > REGISTERED_LIMITS_TTL_MS) {
    hit = { at: Date.now(), list: await get('/registered_limits', 'registered_limits') };
    registeredCache.set(conn, hit);
  }
  const region = conn.region || null;
  const inRegion = (l: LimitWire) => !isStr(l.region_id) || region === null || l.region_id === region;
  const registered = hit.list.filter((l) => isStr(l.service_id) && isStr(l.resource_name) && inRegion(l));
  if (registered.length === 0) return [];
  const own = (await get('/limits', 'limits')).filter((l) => l.project_id === projectId && inRegion(l));

  const serviceName = (id: string) => {
    const entry = access.catalog.find((e) => e.id === id);
    if (!entry) return id;
    const type = canonicalServiceType(entry.type);
    return PREFIX[type] ?? type;
  };
  const key = (l: LimitWire) => `${l.service_id}\u0000${l.resource_name}`;
  const override = new Map(own.map((l) => [key(l), l.resource_limit]));
  const rows: QuotaRow[] = registered.map((l) => {
    const resource = l.resource_name as string;
    const scale = SIZE_SCALE[resource] ?? 1;
    const raw = override.get(key(l)) ?? l.default_limit;
    const limit = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw * scale : null;
    return {
      location,
      service: 'limits',
      resource: `limits.${serviceName(l.service_id as string)}.${resource}`,
      usage: null,
      limit,
      reserved: 0,
      unit: scale === 1 ? 'count' : 'bytes',
    };
  });
  return rows.sort((a, b) => a.resource.localeCompare(b.resource));
};
