/**
 * GetCapabilities (oaktree's "what can this cloud do"), per cloud and region: the catalog's services with their
 * discovered versions and microversion ranges, Glance's disk/container formats and import methods, the external
 * networks floating IPs come from, availability zones, quota resources, Swift tempurl and its digests, and the
 * K2K service providers. Every fact is best-effort: a service a cloud lacks leaves its fields empty.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import { type Connection, canonicalServiceType, type FanOutContext } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { type GatewayDeps, listAcross, scopeFor } from '../context.ts';
import { toLocation } from '../convert.ts';
import { cloudFailure } from '../errors.ts';

const DISCOVERED = new Set(['compute', 'block-storage', 'image', 'network']);

async function best<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch {
    return fallback;
  }
}

async function getJson(conn: Connection, service: string, path: string, signal: AbortSignal): Promise<unknown> {
  const res = await conn.client(service).get(path, { signal });
  return res.json();
}

async function capabilities(conn: Connection, ctx: FanOutContext) {
  const signal = ctx.signal;
  const access = await conn.session.getAccess({ signal });
  const services = await Promise.all(
    access.catalog.flatMap((entry) => {
      const ep = entry.endpoints.find(
        (e) => e.interface === 'public' && (!conn.region || e.region === conn.region || e.region_id === conn.region),
      );
      if (!ep) return [];
      const type = canonicalServiceType(entry.type);
      return [
        (async () => {
          const v = DISCOVERED.has(type) ? await best(conn.client(type).version({ signal }), undefined) : undefined;
          return {
            type,
            catalogType: entry.type,
            endpoint: ep.url,
            version: v?.version ?? '',
            minMicroversion: v?.minMicroversion ?? '',
            maxMicroversion: v?.maxMicroversion ?? '',
          };
        })(),
      ];
    }),
  );
  const has = (t: string) => services.some((s) => s.type === t);
  const schema = has('image') ? await best(getJson(conn, 'image', '/schemas/image', signal), undefined) : undefined;
  const enumOf = (key: string) =>
    (
      (schema as { properties?: Record<string, { enum?: unknown[] }> } | undefined)?.properties?.[key]?.enum ?? []
    ).filter((x): x is string => typeof x === 'string');
  const imports = has('image') ? await best(getJson(conn, 'image', '/info/import', signal), undefined) : undefined;
  const importMethods = (imports as { 'import-methods'?: { value?: string[] } } | undefined)?.['import-methods']?.value;
  const externals = has('network')
    ? await best(
        conn.cloudLayer.listNetworks().then((nets) => nets.filter((n) => n.is_router_external).map((n) => n.name)),
        [],
      )
    : [];
  const floatingIps = has('network') ? await best(conn.cloudLayer.hasFloatingIps(), undefined) : false;
  const zones = has('compute') ? await best(conn.cloudLayer.listAvailabilityZoneNames(), []) : [];
  const limitNames = async (service: string) =>
    Object.keys(
      ((await best(getJson(conn, service, '/limits', signal), undefined)) as { limits?: { absolute?: object } })?.limits
        ?.absolute ?? {},
    );
  const quota = [
    ...(has('compute') ? await limitNames('compute') : []),
    ...(has('block-storage') ? await limitNames('block-storage') : []),
  ];
  let tempurl: { methods?: string[]; allowed_digests?: string[] } | undefined;
  const swift = services.find((s) => s.type === 'object-store');
  if (swift) {
    const root = swift.endpoint.replace(/\/v1(\/.*)?$/, '');
    const info = await best(getJson(conn, 'object-store', `${root}/info`, signal), undefined);
    tempurl = (info as { tempurl?: typeof tempurl } | undefined)?.tempurl;
  }
  return {
    location: toLocation(await conn.cloudLayer.currentLocation()),
    services,
    diskFormats: enumOf('disk_format'),
    containerFormats: enumOf('container_format'),
    importMethods: importMethods ?? [],
    floatingIpNetworks: externals,
    floatingIps,
    availabilityZones: zones,
    quotaResources: quota,
    tempurl: tempurl !== undefined,
    tempurlDigests: tempurl?.allowed_digests ?? [],
    serviceProviders: access.serviceProviders.map((sp) => sp.id),
  };
}

export function capabilityHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async getCapabilities(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.location);
      const { items, failures } = await listAcross(scope, async (conn, fctx) => [await capabilities(conn, fctx)]);
      return { clouds: items, failures: failures.map(cloudFailure) };
    },
  };
}
