import { type CloudsConfig, k2kCloudConfig, loadCloudsConfig } from '../config/loader.ts';
import type { CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Session } from '../session/types.ts';
import { CloudConnection } from './connection.ts';
import { fanOut } from './fanout.ts';
import { GatewayConnection } from './gateway-connection.ts';
import { defaultSessionFactory } from './session-factory.ts';
import type { CallFailure, CloudSpec, Connection, ConnectOptions, SessionFactory } from './types.ts';

/** A cloud that could not even be set up (bad config, unknown service provider): every call reports it. */
export interface BrokenEntry {
  name: string;
  cloud: string;
  region: string;
  tags: readonly string[];
  error: OcxError;
}

export type Entry = { ok: true; conn: Connection } | { ok: false; broken: BrokenEntry };

export function entryName(e: Entry): string {
  return e.ok ? e.conn.name : e.broken.name;
}
export function entryWhere(e: Entry): { cloud: string; region: string; name: string } {
  const x = e.ok ? e.conn : e.broken;
  return { cloud: x.cloud, region: x.region, name: x.name };
}

function isCloudConfig(spec: CloudSpec): spec is CloudConfig {
  return typeof spec === 'object' && 'auth' in spec && 'services' in spec;
}

function tagsFrom(config: CloudConfig | undefined, extra: readonly string[] | undefined): string[] {
  const fromYaml = Array.isArray(config?.extra.tags)
    ? (config.extra.tags as unknown[]).filter((t): t is string => typeof t === 'string')
    : [];
  return [...new Set([...fromYaml, ...(extra ?? [])])];
}

interface Planned {
  config?: CloudConfig;
  error?: OcxError;
  cloud: string;
  region: string;
}

/** What connecting yields before authentication: one entry per connection, the failures so far, the sessions made. */
/** What a MultiCloud closes: the sessions it made, and the gRPC connections of clouds reached through a gateway. */
export interface Closable {
  close(): Promise<void>;
}

export interface ConnectedEntries {
  entries: Entry[];
  connectFailures: CallFailure[];
  owned: Closable[];
}

/**
 * Steps 1–3 of MultiCloud.connect: plan the cloud × region configs, make their sessions (credentials first, then
 * federated ones) and add the K2K service providers the home token lists. Throws CONFIG_INVALID only when the
 * request itself is unusable.
 */
export async function connectEntries(opts: ConnectOptions): Promise<ConnectedEntries> {
  const factory: SessionFactory = opts.sessionFactory ?? defaultSessionFactory;
  const needsConfig =
    opts.config !== undefined ||
    typeof opts.home === 'string' ||
    opts.clouds === undefined ||
    opts.clouds.some((c) => !isCloudConfig(c));
  const config: CloudsConfig | undefined = opts.config ?? (needsConfig ? loadCloudsConfig() : undefined);
  if (opts.k2k && opts.home === undefined) {
    throw new OcxError(ErrorCode.CONFIG_INVALID, 'k2k needs a home cloud (the Keystone that is the identity provider)');
  }

  // 1. Plan: which cloud × region configs, in order.
  const planned: Planned[] = [];
  const plan = (spec: CloudSpec) => {
    if (isCloudConfig(spec)) {
      planned.push({ config: spec, cloud: spec.name, region: spec.regionName });
      return;
    }
    const cloud = typeof spec === 'string' ? spec : spec.cloud;
    const wanted = typeof spec === 'string' ? undefined : spec.region;
    const cfg = config as CloudsConfig;
    let regions: string[] = [];
    try {
      regions = wanted !== undefined ? [wanted] : cfg.regionsOf(cloud);
    } catch {
      regions = [];
    }
    if (regions.length === 0) regions = [''];
    for (const region of regions) {
      try {
        const overrides = typeof spec === 'string' ? undefined : spec.overrides;
        const resolved = cfg.getCloud(cloud, { region: region || undefined, overrides });
        planned.push({ config: resolved, cloud, region: resolved.regionName });
      } catch (err) {
        planned.push({ error: OcxError.from(err, { cloud, region }), cloud, region });
      }
    }
  };
  let homeConfig: CloudConfig | undefined;
  if (opts.home !== undefined) {
    const before = planned.length;
    plan(typeof opts.home === 'string' ? { cloud: opts.home } : opts.home);
    const home = planned[before];
    if (!home?.config) {
      throw home?.error ?? new OcxError(ErrorCode.CONFIG_INVALID, 'the home cloud could not be resolved');
    }
    if (home.config.federation) {
      throw new OcxError(
        ErrorCode.CONFIG_INVALID,
        `the home cloud '${home.cloud}' is itself reached by federation; the home cloud needs its own credentials`,
        { cloud: home.cloud },
      );
    }
    homeConfig = home.config;
  }
  const specs = opts.clouds ?? (opts.home === undefined && !opts.k2k ? (config?.cloudNames() ?? []) : []);
  for (const spec of specs) plan(spec);

  // Same cloud and region twice (e.g. home also listed): keep the first.
  const seen = new Set<string>();
  const unique = planned.filter((p) => {
    const key = `${p.cloud}\u0000${p.region}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const regionCount = new Map<string, number>();
  for (const p of unique) regionCount.set(p.cloud, (regionCount.get(p.cloud) ?? 0) + 1);
  const nameOf = (cloud: string, region: string) =>
    (regionCount.get(cloud) ?? 0) > 1 && region ? `${cloud}/${region}` : cloud;

  // 2. Sessions: clouds with credentials first, then federated ones (they need their home's session).
  const owned: Closable[] = [];
  const entries: Entry[] = new Array(unique.length);
  const homeSessions = new Map<string, Session>();
  const tagsFor = (cloud: string, cfg?: CloudConfig) => tagsFrom(cfg, opts.tags?.[cloud]);
  const brokenOf = (p: Planned, error: OcxError): Entry => ({
    ok: false,
    broken: {
      name: nameOf(p.cloud, p.region),
      cloud: p.cloud,
      region: p.region,
      tags: tagsFor(p.cloud, p.config),
      error,
    },
  });
  const asError = (err: unknown, cloud: string, region: string) => OcxError.from(err, { cloud, region });

  for (const [i, p] of unique.entries()) {
    if (!p.config) {
      entries[i] = brokenOf(p, p.error as OcxError);
      continue;
    }
    if (p.config.federation) continue;
    try {
      const session = await factory(p.config, { transport: opts.transport });
      owned.push(session);
      if (p.config.gateway) {
        const conn = new GatewayConnection({
          name: nameOf(p.cloud, p.region),
          config: p.config,
          session,
          tags: tagsFor(p.cloud, p.config),
          cloudOptions: opts.cloudOptions,
        });
        owned.push(conn);
        entries[i] = { ok: true, conn };
        continue;
      }
      entries[i] = {
        ok: true,
        conn: new CloudConnection({
          name: nameOf(p.cloud, p.region),
          config: p.config,
          session,
          via: 'credentials',
          tags: tagsFor(p.cloud, p.config),
          cloudOptions: opts.cloudOptions,
        }),
      };
      if (!homeSessions.has(p.cloud)) homeSessions.set(p.cloud, session);
    } catch (err) {
      entries[i] = brokenOf(p, asError(err, p.cloud, p.region));
    }
  }
  const homeSessionFor = async (home: CloudConfig): Promise<Session> => {
    const existing = homeSessions.get(home.name);
    if (existing) return existing;
    const session = await factory(home, { transport: opts.transport });
    owned.push(session);
    homeSessions.set(home.name, session);
    return session;
  };
  for (const [i, p] of unique.entries()) {
    if (!p.config?.federation) continue;
    const fed = p.config.federation;
    try {
      const home = fed.home ?? (config as CloudsConfig).getCloud(fed.homeCloud);
      const homeSession = await homeSessionFor(home);
      const session = await factory(p.config, { home: homeSession, transport: opts.transport });
      owned.push(session);
      entries[i] = {
        ok: true,
        conn: new CloudConnection({
          name: nameOf(p.cloud, p.region),
          config: p.config,
          session,
          via: 'k2k',
          home: fed.homeCloud,
          tags: tagsFor(p.cloud, p.config),
          cloudOptions: opts.cloudOptions,
        }),
      };
    } catch (err) {
      entries[i] = brokenOf(p, asError(err, p.cloud, p.region));
    }
  }

  const connectFailures: CallFailure[] = [];
  // 3. K2K discovery: the service providers the home token lists (or the ones asked for).
  if (opts.k2k && homeConfig) {
    const homeCfg = homeConfig;
    const k2k = opts.k2k;
    let homeSession: Session | undefined;
    try {
      homeSession = await homeSessionFor(homeCfg);
    } catch (err) {
      throw asError(err, homeCfg.name, homeCfg.regionName);
    }
    const started = Date.now();
    const [settled] = await fanOut([homeSession], (s, ctx) => s.getAccess({ signal: ctx.signal }), {
      deadlineMs: opts.deadlineMs,
      signal: opts.signal,
      where: () => ({ cloud: homeCfg.name, region: homeCfg.regionName }),
    });
    if (settled && !settled.ok) {
      connectFailures.push({
        cloud: homeCfg.name,
        region: homeCfg.regionName,
        name: homeCfg.name,
        error: settled.error,
        durationMs: Date.now() - started,
      });
    } else if (settled?.ok) {
      const registered = settled.value.serviceProviders;
      const wanted = k2k.serviceProviders ?? registered.map((sp) => sp.id);
      for (const spId of wanted) {
        // An SP named like a cloud already connected by its own credentials gets `sp@home`.
        const taken = (n: string) => entries.some((e) => e && entryName(e) === n);
        const name = taken(spId) ? `${spId}@${homeCfg.name}` : spId;
        if (taken(name)) continue;
        const cfg = k2kCloudConfig(
          homeCfg,
          {
            serviceProvider: spId,
            remoteProjectName: k2k.remoteProjectName,
            remoteProjectId: k2k.remoteProjectId,
            remoteProjectDomainName: k2k.remoteProjectDomainName,
            remoteProjectDomainId: k2k.remoteProjectDomainId,
          },
          name,
        );
        if (!registered.some((sp) => sp.id === spId)) {
          const known = registered.map((sp) => sp.id).join(', ') || 'none';
          entries.push({
            ok: false,
            broken: {
              name,
              cloud: spId,
              region: '',
              tags: tagsFor(spId),
              error: new OcxError(
                ErrorCode.FEDERATION_FAILED,
                `service provider '${spId}' is not registered in the home Keystone of '${homeCfg.name}' (registered: ${known})`,
                { cloud: spId, step: 'service-provider' },
              ),
            },
          });
          continue;
        }
        try {
          const session = await factory(cfg, { home: homeSession, transport: opts.transport });
          owned.push(session);
          entries.push({
            ok: true,
            conn: new CloudConnection({
              name,
              config: cfg,
              session,
              via: 'k2k',
              home: homeCfg.name,
              tags: tagsFor(spId),
              cloudOptions: opts.cloudOptions,
            }),
          });
        } catch (err) {
          entries.push({
            ok: false,
            broken: { name, cloud: spId, region: '', tags: tagsFor(spId), error: asError(err, spId, '') },
          });
        }
      }
    }
  }
  return { entries, connectFailures, owned };
}
