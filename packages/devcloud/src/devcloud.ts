/**
 * startDevcloud: N clouds on loopback (default idp, sp1, sp2), K2K pre-wired (the first cloud is the IdP of all
 * the others, as in the real-OpenStack harness), a clouds.yaml, and fault control.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type BootstrapUser, type Cloud, createCloud, DEFAULT_USERS } from './cloud.ts';
import type { FaultSpec, ServiceModule, StateStore } from './context.ts';
import { type Federation, RELAY_STATE_PREFIX_K2K } from './keystone/federation.ts';
import { createIdentityProvider } from './keystone/federation-http.ts';
import { SERVICES } from './services.ts';
import { MemoryStore, SqliteDatabase } from './store.ts';
import { type SynnefoCloud, startSynnefo, synnefoCloudsYamlEntry } from './synnefo/index.ts';

export interface DevcloudOptions {
  /** Cloud names; the first is the K2K IdP of the others. Default ['idp', 'sp1', 'sp2']. */
  clouds?: string[];
  /** Cloud i listens on basePort + i; default 0 (ephemeral ports). */
  basePort?: number;
  /** SQLite file for state that survives restarts; default: memory. */
  statePath?: string;
  /** Where to write clouds.yaml; undefined/null = don't write one. */
  cloudsYamlPath?: string | null;
  transitionMs?: number;
  /** Initial faults: cloud name → service key ('*', type or name) → spec. */
  faults?: Record<string, Record<string, FaultSpec>>;
  tokenTtlSeconds?: number;
  /** Services besides Keystone (default: the registry in services.ts). */
  services?: ServiceModule[];
  /** Services of one cloud by name, instead of `services` (e.g. `{ idp: [] }`: a Keystone-only IdP, as in test/real). */
  servicesFor?: Record<string, ServiceModule[]>;
  users?: BootstrapUser[];
  logLevel?: string;
  region?: string;
}

export interface DevcloudInfo {
  name: string;
  baseUrl: string;
  authUrl: string;
  port: number;
  /** The K2K role of this cloud. */
  role: 'idp' | 'sp';
}

export interface Devcloud {
  clouds: (DevcloudInfo & { cloud: Cloud })[];
  cloud(name: string): Cloud;
  cloudsYamlPath: string | undefined;
  /** Synnefo clouds (names starting with `snf`): Astakos, Cyclades, Pithos; not part of the K2K federation. */
  synnefo: SynnefoCloud[];
  /** The IdP cloud's name (the first cloud). */
  idp: string;
  setFaults(cloud: string, service: string, spec: FaultSpec | null): Promise<void>;
  clearFaults(cloud?: string): Promise<void>;
  stop(): Promise<void>;
}

export const FEDERATED_GROUP = 'federated_users';
export const MAPPING_ID = 'idp_mapping';

/** Like the real harness: the federated user (domain Default at the IdP) lands in group federated_users. */
export function k2kMappingRules(): unknown[] {
  return [
    {
      local: [
        { user: { name: '{0}', type: 'ephemeral' } },
        { group: { name: FEDERATED_GROUP, domain: { id: 'default' } } },
      ],
      remote: [{ type: 'openstack_user' }, { type: 'openstack_user_domain', any_one_of: ['Default'] }],
    },
  ];
}

/** Register `sp` at the IdP and the IdP at `sp` (identity provider, mapping, group with member on demo, protocol). */
export function wireK2K(idp: Cloud, sp: Cloud, idpId = idp.name): void {
  const spFed: Federation = sp.federation;
  const idpFed: Federation = idp.federation;
  if (!idpFed.serviceProviders.get(sp.name)) {
    idpFed.putServiceProvider(sp.name, {
      auth_url: spFed.authUrl(idpId),
      sp_url: spFed.spUrl(),
      description: `devcloud ${sp.name}`,
      enabled: true,
      relay_state_prefix: RELAY_STATE_PREFIX_K2K,
    });
  } else {
    // Ports may differ after a restart with --state: re-point the URLs.
    const cur = idpFed.serviceProviders.get(sp.name);
    if (cur) idpFed.serviceProviders.put({ ...cur, auth_url: spFed.authUrl(idpId), sp_url: spFed.spUrl() });
  }
  const entityId = idpFed.entityId();
  const existing = spFed.identityProviders.get(idpId);
  if (!existing) {
    createIdentityProvider(spFed, idpId, {
      remote_ids: [entityId],
      enabled: true,
      description: `devcloud ${idp.name}`,
    });
  } else if (!existing.remote_ids.includes(entityId)) {
    spFed.identityProviders.put({ ...existing, remote_ids: [entityId] });
  }
  spFed.trustIdp(entityId, { metadataUrl: idpFed.metadataUrl() });
  const ks = sp.keystone;
  if (!spFed.mappings.get(MAPPING_ID))
    spFed.mappings.put({ id: MAPPING_ID, rules: k2kMappingRules() as never, schema_version: '1.0' });
  const group = ks.ensureGroup(FEDERATED_GROUP, 'default');
  const demo = ks.ensureProject('demo', 'default');
  const member = ks.findRoleByName('member');
  if (member) ks.grant('group', group.id, 'project', demo.id, member.id);
  if (!spFed.protocols.get(`${idpId}:saml2`)) {
    spFed.protocols.put({
      id: `${idpId}:saml2`,
      idp_id: idpId,
      protocol_id: 'saml2',
      mapping_id: MAPPING_ID,
      remote_id_attribute: null,
    });
  }
}

/** Block-style YAML for nested objects of strings/numbers/booleans; strings are JSON-quoted (valid YAML). */
function toYaml(value: Record<string, unknown>, indent: number): string {
  const pad = ' '.repeat(indent);
  let out = '';
  for (const [k, v] of Object.entries(value)) {
    const key = /^[A-Za-z0-9_.-]+$/.test(k) ? k : JSON.stringify(k);
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      out += `${pad}${key}:\n${toYaml(v as Record<string, unknown>, indent + 2)}`;
    else out += `${pad}${key}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`;
  }
  return out;
}

/** clouds.yaml with `<name>` (demo) and `<name>-admin` (admin) per cloud, like test/real/openstack.sh writes. */
export function cloudsYaml(
  clouds: { name: string; authUrl: string }[],
  region = 'RegionOne',
  users: BootstrapUser[] = DEFAULT_USERS,
  extra: Record<string, unknown> = {},
): string {
  const entries: Record<string, unknown> = {};
  const demo = users.find((u) => u.name === 'demo') ?? users[1];
  const admin = users.find((u) => u.name === 'admin') ?? users[0];
  for (const c of clouds) {
    for (const [suffix, u] of [
      ['', demo],
      ['-admin', admin],
    ] as const) {
      if (!u) continue;
      entries[`${c.name}${suffix}`] = {
        auth: {
          auth_url: c.authUrl,
          username: u.name,
          password: u.password,
          project_name: u.project,
          user_domain_name: 'Default',
          project_domain_name: 'Default',
        },
        identity_api_version: 3,
        region_name: region,
        interface: 'public',
      };
    }
  }
  Object.assign(entries, extra);
  return `# written by OCX devcloud (${new Date().toISOString()}); K2K: ${clouds[0]?.name ?? ''} -> ${clouds
    .slice(1)
    .map((c) => c.name)
    .join(' ')}\n${toYaml({ clouds: entries }, 0)}`;
}

export async function startDevcloud(opts: DevcloudOptions = {}): Promise<Devcloud> {
  const all = opts.clouds ?? ['idp', 'sp1', 'sp2'];
  // Clouds named snf… speak the Synnefo dialect (synnefo/); the others are OpenStack clouds.
  const snfNames = all.filter((n) => /^snf/i.test(n));
  const names = all.filter((n) => !/^snf/i.test(n));
  for (const n of snfNames)
    if (!/^[a-z][a-z0-9_-]*$/i.test(n)) throw new Error(`devcloud: bad cloud name ${JSON.stringify(n)}`);
  if (names.length === 0) throw new Error('devcloud: at least one cloud is needed');
  if (new Set(names).size !== names.length) throw new Error('devcloud: cloud names must be unique');
  for (const n of names)
    if (!/^[a-z][a-z0-9_-]*$/i.test(n)) throw new Error(`devcloud: bad cloud name ${JSON.stringify(n)}`);
  const db = opts.statePath ? new SqliteDatabase(opts.statePath) : undefined;
  const byName = new Map<string, Cloud>();
  const services = opts.services ?? SERVICES;
  const settled = await Promise.allSettled(
    names.map((name, i) => {
      const store: StateStore = db ? db.forCloud(name) : new MemoryStore();
      return createCloud({
        name,
        port: opts.basePort ? opts.basePort + i : 0,
        services: opts.servicesFor?.[name] ?? services,
        store,
        peers: () => byName,
        ...(opts.region ? { region: opts.region } : {}),
        ...(opts.transitionMs !== undefined ? { transitionMs: opts.transitionMs } : {}),
        ...(opts.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: opts.tokenTtlSeconds } : {}),
        ...(opts.faults?.[name] ? { faults: opts.faults[name] } : {}),
        ...(opts.users ? { users: opts.users } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
      });
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    db?.close();
    throw failed.reason;
  }
  const clouds = settled.map((s) => (s as PromiseFulfilledResult<Cloud>).value);
  const synnefo = await Promise.all(
    snfNames.map((name) => startSynnefo({ name, ...(opts.logLevel ? { logLevel: opts.logLevel } : {}) })),
  );
  for (const c of clouds) byName.set(c.name, c);
  const [idp, ...sps] = clouds as [Cloud, ...Cloud[]];
  for (const sp of sps) wireK2K(idp, sp);
  // Make the IdP's signing key now, in the background, so the first K2K login does not wait for it.
  idp.federation.signingIdentity().catch(() => undefined);

  let cloudsYamlPath: string | undefined;
  if (opts.cloudsYamlPath) {
    cloudsYamlPath = resolve(opts.cloudsYamlPath);
    mkdirSync(dirname(cloudsYamlPath), { recursive: true });
    const tmp = `${cloudsYamlPath}.tmp-${process.pid}`;
    writeFileSync(
      tmp,
      cloudsYaml(
        clouds.map((c) => ({ name: c.name, authUrl: `${c.baseUrl}/identity` })),
        opts.region,
        opts.users,
        Object.fromEntries(synnefo.map((c) => [c.name, synnefoCloudsYamlEntry(c)])),
      ),
      { mode: 0o600 },
    );
    renameSync(tmp, cloudsYamlPath);
  }
  const get = (name: string): Cloud => {
    const c = byName.get(name);
    if (!c) throw new Error(`devcloud: no cloud named ${name}`);
    return c;
  };
  let stopped = false;
  return {
    clouds: clouds.map((c, i) => ({
      name: c.name,
      baseUrl: c.baseUrl,
      authUrl: c.authUrl,
      port: c.port,
      role: i === 0 ? 'idp' : 'sp',
      cloud: c,
    })),
    cloud: get,
    cloudsYamlPath,
    synnefo,
    idp: idp.name,
    setFaults: (cloud, service, spec) => get(cloud).setFaults(service, spec),
    async clearFaults(cloud) {
      for (const c of cloud ? [get(cloud)] : clouds) await c.faults.clear();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...clouds.map((c) => c.close()), ...synnefo.map((c) => c.close())]);
      db?.close();
    },
  };
}
