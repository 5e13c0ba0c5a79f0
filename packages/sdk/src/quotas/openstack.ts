/**
 * Quota rows of one project on one OpenStack cloud, one reader per service: Nova `os-quota-sets/{p}/detail`
 * (falling back to `/limits` when policy refuses the detail), Cinder `os-quota-sets/{p}?usage=true`, Neutron
 * `quotas/{p}/details`, Glance `/v2/info/usage` (only where Glance has it enabled), Swift account headers, Keystone
 * unified limits where registered (limits.ts).
 * Sizes become bytes (Nova ram MiB, Cinder gigabytes GiB, Glance MiB); -1 becomes null (unlimited).
 */
import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, type OcxError } from '../errors/ocx-error.ts';
import type { Connection, ItemLocation } from '../multicloud/types.ts';
import { readLimits } from './limits.ts';
import type { QuotaRow, QuotaUnit } from './types.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Ctx {
  signal?: AbortSignal | undefined;
  /** Budget of each call (ms), so one hanging service times out alone instead of taking the project with it. */
  timeoutMs?: number | undefined;
}

const callOpts = (ctx: Ctx) => ({ signal: ctx.signal, timeoutMs: ctx.timeoutMs });

export type ServiceReader = (
  conn: Connection,
  projectId: string,
  location: ItemLocation,
  ctx: Ctx,
) => Promise<QuotaRow[]>;

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function row(
  location: ItemLocation,
  service: string,
  name: string,
  usage: number,
  limit: number | undefined,
  reserved: number,
  unit: QuotaUnit,
  scale = 1,
): QuotaRow {
  return {
    location,
    service,
    resource: `${service}.${name}`,
    usage: usage * scale,
    limit: limit === undefined || limit < 0 ? null : limit * scale,
    reserved: reserved * scale,
    unit,
  };
}

/** Rows from a `{res: {in_use|used, limit, reserved}}` quota set, in the given order, then any others sorted. */
function detailRows(
  location: ItemLocation,
  service: string,
  set: Record<string, unknown>,
  order: readonly string[],
  scaleOf: (name: string) => number,
  skip: (name: string) => boolean,
): QuotaRow[] {
  const names = Object.keys(set).filter((k) => {
    const v = set[k];
    return v !== null && typeof v === 'object' && !skip(k);
  });
  names.sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib);
    return a.localeCompare(b);
  });
  return names.map((k) => {
    const v = set[k] as Record<string, unknown>;
    const scale = scaleOf(k);
    return row(
      location,
      service,
      k,
      num(v.in_use) ?? num(v.used) ?? 0,
      num(v.limit),
      num(v.reserved) ?? 0,
      scale === 1 ? 'count' : 'bytes',
      scale,
    );
  });
}

const NOVA_ORDER = ['instances', 'cores', 'ram', 'key_pairs', 'server_groups', 'server_group_members'];
/** Per-request caps, not amounts in use: no usage to show. */
const NOVA_SKIP = new Set([
  'metadata_items',
  'injected_files',
  'injected_file_content_bytes',
  'injected_file_path_bytes',
  'fixed_ips',
  'floating_ips',
  'security_groups',
  'security_group_rules',
  'networks',
]);

export const readCompute: ServiceReader = async (conn, projectId, location, ctx) => {
  const nova = conn.client('compute');
  const ramScale = (k: string) => (k === 'ram' ? MiB : 1);
  try {
    const body = await nova.getJson<{ quota_set?: Record<string, unknown> }>(
      `/os-quota-sets/${encodeURIComponent(projectId)}/detail`,
      callOpts(ctx),
    );
    return detailRows(location, 'compute', body.quota_set ?? {}, NOVA_ORDER, ramScale, (k) => NOVA_SKIP.has(k));
  } catch (err) {
    if (!isOcxError(err) || err.code !== ErrorCode.FORBIDDEN) throw err;
  }
  // Policy refused the detail: /limits is open to every member of the token's project (ours).
  const body = await nova.getJson<{ limits?: { absolute?: Record<string, unknown> } }>('/limits', callOpts(ctx));
  const a = body.limits?.absolute ?? {};
  const pairs: Array<[string, string, string, number]> = [
    ['instances', 'maxTotalInstances', 'totalInstancesUsed', 1],
    ['cores', 'maxTotalCores', 'totalCoresUsed', 1],
    ['ram', 'maxTotalRAMSize', 'totalRAMUsed', MiB],
    ['server_groups', 'maxServerGroups', 'totalServerGroupsUsed', 1],
  ];
  return pairs
    .filter(([, max]) => max in a)
    .map(([name, max, used, scale]) =>
      row(location, 'compute', name, num(a[used]) ?? 0, num(a[max]), 0, scale === 1 ? 'count' : 'bytes', scale),
    );
};

const CINDER_ORDER = ['volumes', 'gigabytes', 'snapshots', 'backups', 'backup_gigabytes', 'groups'];

export const readVolume: ServiceReader = async (conn, projectId, location, ctx) => {
  const body = await conn
    .client('block-storage')
    .getJson<{ quota_set?: Record<string, unknown> }>(`/os-quota-sets/${encodeURIComponent(projectId)}`, {
      query: { usage: 'true' },
      ...callOpts(ctx),
    });
  return detailRows(
    location,
    'volume',
    body.quota_set ?? {},
    CINDER_ORDER,
    (k) => (k.startsWith('gigabytes') || k === 'backup_gigabytes' ? GiB : 1),
    (k) => k === 'per_volume_gigabytes',
  );
};

const NEUTRON_ORDER = [
  'floatingip',
  'network',
  'subnet',
  'port',
  'router',
  'security_group',
  'security_group_rule',
  'subnetpool',
  'rbac_policy',
];

export const readNetwork: ServiceReader = async (conn, projectId, location, ctx) => {
  const body = await conn
    .client('network')
    .getJson<{ quota?: Record<string, unknown> }>(`/quotas/${encodeURIComponent(projectId)}/details`, callOpts(ctx));
  return detailRows(
    location,
    'network',
    body.quota ?? {},
    NEUTRON_ORDER,
    () => 1,
    () => false,
  );
};

export const readImage: ServiceReader = async (conn, _projectId, location, ctx) => {
  let body: { usage?: Record<string, unknown> };
  try {
    body = await conn.client('image').getJson('/info/usage', callOpts(ctx));
  } catch (err) {
    // Glance answers 404 when the usage API (use_keystone_limits) is not enabled: nothing to report.
    if (isOcxError(err) && err.code === ErrorCode.NOT_FOUND) return [];
    throw err;
  }
  const u = body.usage ?? {};
  const out: QuotaRow[] = [];
  for (const [key, name] of [
    ['image_count_total', 'count_total'],
    ['image_size_total', 'size_total'],
    ['image_stage_total', 'stage_total'],
    ['image_count_uploading', 'count_uploading'],
  ] as const) {
    const v = u[key] as { usage?: unknown; limit?: unknown } | undefined;
    if (!v || typeof v !== 'object') continue;
    const scale = key.endsWith('_total') && key !== 'image_count_total' ? MiB : 1;
    out.push(row(location, 'image', name, num(v.usage) ?? 0, num(v.limit), 0, scale === 1 ? 'count' : 'bytes', scale));
  }
  return out;
};

export const readObject: ServiceReader = async (conn, _projectId, location, ctx) => {
  const acct = await conn.objectStore.getAccount(callOpts(ctx));
  const h = acct.headers;
  const limitOf = (...names: string[]) => {
    for (const n of names) {
      const v = num(h.get(n));
      if (v !== undefined) return v;
    }
    return undefined;
  };
  return [
    row(
      location,
      'object',
      'bytes',
      acct.bytesUsed ?? 0,
      limitOf('x-account-quota-bytes', 'x-account-meta-quota-bytes'),
      0,
      'bytes',
    ),
    row(location, 'object', 'objects', acct.objectCount ?? 0, limitOf('x-account-quota-count'), 0, 'count'),
    row(location, 'object', 'containers', acct.containerCount ?? 0, undefined, 0, 'count'),
  ];
};

/** The readers by service, in the order rows are reported. */
export const OPENSTACK_READERS: ReadonlyArray<readonly [string, string, ServiceReader]> = [
  ['compute', 'compute', readCompute],
  ['volume', 'block-storage', readVolume],
  ['network', 'network', readNetwork],
  ['image', 'image', readImage],
  ['object', 'object-store', readObject],
  ['limits', 'identity', readLimits],
];

/** A service missing from the catalog is not a failure: the cloud simply has no such quota. */
export function isAbsentService(err: OcxError): boolean {
  return err.code === ErrorCode.ENDPOINT_NOT_FOUND;
}
