/**
 * A stateful mini OpenStack (Nova servers/flavors/keypairs/limits, Glance images with data, Neutron networks/ports/
 * floating IPs, Cinder volumes) on top of the loopback fake, for the cloud-layer tests. State is plain maps the
 * tests can read and poke (e.g. flip a server to ERROR with a fault).
 */
import { createHash, randomUUID } from 'node:crypto';
import { type FakeCloud, novaServer, PROJECT } from './cloud-fake.ts';

export interface MiniState {
  servers: Map<string, Record<string, unknown>>;
  /** Server create bodies as Nova received them (the `server` object). */
  createBodies: Record<string, unknown>[];
  /** `os:scheduler_hints` of each create (undefined when absent). */
  createHints: unknown[];
  flavors: Record<string, unknown>[];
  images: Map<string, Record<string, unknown>>;
  imageData: Map<string, Buffer>;
  networks: Record<string, unknown>[];
  ports: Record<string, unknown>[];
  fips: Map<string, Record<string, unknown>>;
  keypairs: Map<string, Record<string, unknown>>;
  volumes: Map<string, Record<string, unknown>>;
  /** What a new server becomes on its first GET after creation (default: stays BUILD). */
  onCreate?: (server: Record<string, unknown>) => void;
  /** Neutron without the L3 `router` extension (no floating IPs), like the loopback harness. */
  noRouter?: boolean;
  /** Fail image data uploads with this status. */
  failUpload?: number;
}

const C = '/compute/v2.1';
const G = '/image/v2';
const N = '/network/v2.0';
const V = `/volume/v3/${PROJECT.id}`;

export function installMiniCloud(fake: FakeCloud): MiniState {
  const st: MiniState = {
    servers: new Map(),
    createBodies: [],
    createHints: [],
    flavors: [
      { id: 'f1', name: 'm1.small', ram: 2048, vcpus: 1, disk: 20, 'os-flavor-access:is_public': true },
      { id: 'f2', name: 'm1.large', ram: 8192, vcpus: 4, disk: 80, 'os-flavor-access:is_public': true },
    ],
    images: new Map(),
    imageData: new Map(),
    networks: [
      { id: 'net-priv', name: 'private', 'router:external': false, status: 'ACTIVE', project_id: PROJECT.id },
      { id: 'net-pub', name: 'public', 'router:external': true, status: 'ACTIVE', project_id: 'admin-proj' },
    ],
    ports: [],
    fips: new Map(),
    keypairs: new Map(),
    volumes: new Map(),
  };

  // --- Nova
  fake.route('GET', `${C}/servers/detail`, () => ({ json: { servers: [...st.servers.values()] } }));
  fake.routeMatch('GET', /^\/compute\/v2\.1\/servers\/([^/]+)$/, (_r, m) => {
    const s = st.servers.get(m[1]!);
    return s
      ? { json: { server: s } }
      : { status: 404, json: { itemNotFound: { code: 404, message: 'Instance could not be found' } } };
  });
  fake.routeMatch('DELETE', /^\/compute\/v2\.1\/servers\/([^/]+)$/, (_r, m) => {
    if (!st.servers.delete(m[1]!))
      return { status: 404, json: { itemNotFound: { code: 404, message: 'Instance could not be found' } } };
    st.ports = st.ports.filter((p) => p.device_id !== m[1]);
    return { status: 204 };
  });
  fake.route('POST', `${C}/servers`, (r) => {
    const whole = r.json() as { server: Record<string, unknown>; 'os:scheduler_hints'?: unknown };
    const body = whole.server;
    st.createBodies.push(body);
    st.createHints.push(whole['os:scheduler_hints']);
    const id = randomUUID();
    const server = novaServer(id, String(body.name), {
      status: 'BUILD',
      metadata: body.metadata as Record<string, string>,
    });
    st.servers.set(id, server);
    st.onCreate?.(server);
    return { status: 202, json: { server: { id, adminPass: 'generated-pass', links: [] } } };
  });
  fake.route('GET', `${C}/os-server-groups`, () => ({
    json: { server_groups: [{ id: 'sg-aa', name: 'spread', policies: ['anti-affinity'], members: [] }] },
  }));
  fake.route('GET', `${C}/flavors/detail`, () => ({ json: { flavors: st.flavors } }));
  fake.route('GET', `${C}/os-keypairs`, () => ({
    json: { keypairs: [...st.keypairs.values()].map((keypair) => ({ keypair })) },
  }));
  fake.route('POST', `${C}/os-keypairs`, (r) => {
    const kp = (r.json() as { keypair: { name: string; public_key?: string } }).keypair;
    const rec: Record<string, unknown> = {
      name: kp.name,
      public_key: kp.public_key ?? 'ssh-ed25519 AAAAgenerated',
      fingerprint: 'aa:bb',
      type: 'ssh',
      user_id: 'u1',
    };
    st.keypairs.set(kp.name, rec);
    return { json: { keypair: kp.public_key ? rec : { ...rec, private_key: '-----BEGIN PRIVATE KEY-----' } } };
  });
  fake.routeMatch('DELETE', /^\/compute\/v2\.1\/os-keypairs\/([^/]+)$/, (_r, m) =>
    st.keypairs.delete(decodeURIComponent(m[1]!))
      ? { status: 202 }
      : { status: 404, json: { itemNotFound: { code: 404, message: 'Keypair not found' } } },
  );
  fake.route('GET', `${C}/limits`, () => ({
    json: {
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: 10,
          maxTotalCores: 20,
          maxTotalRAMSize: 51200,
          totalInstancesUsed: st.servers.size,
          totalCoresUsed: st.servers.size,
          totalRAMUsed: 2048 * st.servers.size,
          maxServerMeta: 128,
          maxImageMeta: 128,
        },
      },
    },
  }));
  fake.route('GET', `${C}/os-availability-zone`, () => ({
    json: {
      availabilityZoneInfo: [
        { zoneName: 'nova', zoneState: { available: true }, hosts: null },
        { zoneName: 'broken', zoneState: { available: false }, hosts: null },
      ],
    },
  }));

  // --- Glance
  fake.route('GET', `${G}/images`, () => ({ json: { images: [...st.images.values()], first: '/v2/images' } }));
  fake.route('POST', `${G}/images`, (r) => {
    const body = r.json() as Record<string, unknown>;
    const id = randomUUID();
    const img = {
      ...body,
      id,
      status: 'queued',
      visibility: body.visibility ?? 'shared',
      owner: PROJECT.id,
      tags: [],
      size: null,
    };
    st.images.set(id, img);
    return { status: 201, json: img };
  });
  fake.routeMatch('GET', /^\/image\/v2\/images\/([^/]+)$/, (_r, m) => {
    const img = st.images.get(m[1]!);
    return img ? { json: img } : { status: 404, body: '404 Not Found\n\nNo image found with ID x' };
  });
  fake.routeMatch('PATCH', /^\/image\/v2\/images\/([^/]+)$/, (r, m) => {
    const img = st.images.get(m[1]!);
    if (!img) return { status: 404, body: 'not found' };
    for (const op of r.json() as { op: string; path: string; value?: unknown }[]) {
      const key = op.path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
      if (op.op === 'remove') delete img[key];
      else img[key] = op.value;
    }
    return { json: img };
  });
  fake.routeMatch('DELETE', /^\/image\/v2\/images\/([^/]+)$/, (_r, m) =>
    st.images.delete(m[1]!) ? { status: 204 } : { status: 404, body: 'not found' },
  );
  fake.routeMatch('PUT', /^\/image\/v2\/images\/([^/]+)\/file$/, (r, m) => {
    const img = st.images.get(m[1]!);
    if (!img) return { status: 404, body: 'not found' };
    if (st.failUpload) return { status: st.failUpload, body: 'store is broken' };
    st.imageData.set(m[1]!, r.body);
    img.status = 'active';
    img.size = r.body.length;
    img.checksum = createHash('md5').update(r.body).digest('hex'); // Glance's md5 of the stored bytes
    return { status: 204 };
  });

  // --- Neutron
  fake.route('GET', `${N}/extensions`, () => ({
    json: {
      extensions: (st.noRouter ? ['external-net', 'quotas'] : ['external-net', 'router', 'quotas']).map((alias) => ({
        alias,
        name: alias,
      })),
    },
  }));
  fake.route('GET', `${N}/networks`, () => ({ json: { networks: st.networks } }));
  fake.route('GET', `${N}/security-groups`, () => ({
    json: {
      security_groups: [
        {
          id: 'sg-1',
          name: 'default',
          description: 'Default security group',
          project_id: PROJECT.id,
          stateful: true,
          security_group_rules: [
            {
              id: 'r-1',
              security_group_id: 'sg-1',
              direction: 'ingress',
              ethertype: 'IPv4',
              protocol: 'tcp',
              port_range_min: 22,
              port_range_max: 22,
              remote_ip_prefix: '0.0.0.0/0',
              remote_group_id: null,
              project_id: PROJECT.id,
            },
          ],
        },
      ],
    },
  }));
  fake.route('GET', `${N}/ports`, (r) => {
    const dev = r.query.get('device_id');
    const ids = r.query.getAll('id');
    return {
      json: {
        ports: st.ports.filter(
          (p) => (!dev || p.device_id === dev) && (ids.length === 0 || ids.includes(String(p.id))),
        ),
      },
    };
  });
  fake.route('GET', `${N}/floatingips`, (r) => {
    const addr = r.query.get('floating_ip_address');
    const net = r.query.get('floating_network_id');
    const portIds = r.query.getAll('port_id');
    return {
      json: {
        floatingips: [...st.fips.values()].filter(
          (f) =>
            (!addr || f.floating_ip_address === addr) &&
            (!net || f.floating_network_id === net) &&
            (portIds.length === 0 || portIds.includes(String(f.port_id))),
        ),
      },
    };
  });
  fake.route('POST', `${N}/floatingips`, (r) => {
    const body = (r.json() as { floatingip: Record<string, unknown> }).floatingip;
    const id = randomUUID();
    const fip = {
      id,
      floating_ip_address: `93.184.216.${10 + st.fips.size}`,
      floating_network_id: body.floating_network_id,
      port_id: body.port_id ?? null,
      fixed_ip_address: body.fixed_ip_address ?? null,
      router_id: null,
      status: body.port_id ? 'ACTIVE' : 'DOWN',
      project_id: PROJECT.id,
    };
    st.fips.set(id, fip);
    return { status: 201, json: { floatingip: fip } };
  });
  fake.routeMatch('DELETE', /^\/network\/v2\.0\/floatingips\/([^/]+)$/, (_r, m) =>
    st.fips.delete(m[1]!)
      ? { status: 204 }
      : {
          status: 404,
          json: { NeutronError: { type: 'FloatingIPNotFound', message: 'Floating IP could not be found' } },
        },
  );

  // --- Cinder
  fake.route('GET', `${V}/volumes/detail`, () => ({ json: { volumes: [...st.volumes.values()] } }));
  fake.routeMatch('GET', /^\/volume\/v3\/[^/]+\/volumes\/([^/]+)$/, (_r, m) => {
    const v = st.volumes.get(m[1]!);
    return v
      ? { json: { volume: v } }
      : { status: 404, json: { itemNotFound: { code: 404, message: 'Volume not found' } } };
  });
  fake.route('POST', `${V}/volumes`, (r) => {
    const body = (r.json() as { volume: Record<string, unknown> }).volume;
    const id = randomUUID();
    const vol = {
      id,
      name: body.name ?? null,
      size: body.size,
      status: 'available',
      availability_zone: 'nova',
      attachments: [],
      bootable: 'false',
      'os-vol-tenant-attr:tenant_id': PROJECT.id,
    };
    st.volumes.set(id, vol);
    return { status: 202, json: { volume: { ...vol, status: 'creating' } } };
  });
  fake.routeMatch('DELETE', /^\/volume\/v3\/[^/]+\/volumes\/([^/]+)$/, (_r, m) =>
    st.volumes.delete(m[1]!)
      ? { status: 202 }
      : { status: 404, json: { itemNotFound: { code: 404, message: 'Volume not found' } } },
  );
  return st;
}

/** Add a port (and optionally a floating IP on it) for a server, as Neutron would hold them. */
export function addPort(
  st: MiniState,
  serverId: string,
  o: { ip: string; network?: string; mac?: string; fip?: string },
): { portId: string; fipId?: string } {
  const portId = randomUUID();
  st.ports.push({
    id: portId,
    name: '',
    network_id: o.network ?? 'net-priv',
    mac_address: o.mac ?? 'fa:16:3e:00:00:01',
    fixed_ips: [{ subnet_id: 'sub-1', ip_address: o.ip }],
    device_id: serverId,
    device_owner: 'compute:nova',
    status: 'ACTIVE',
  });
  if (!o.fip) return { portId };
  const fipId = randomUUID();
  st.fips.set(fipId, {
    id: fipId,
    floating_ip_address: o.fip,
    floating_network_id: 'net-pub',
    port_id: portId,
    fixed_ip_address: o.ip,
    router_id: 'r1',
    status: 'ACTIVE',
    project_id: PROJECT.id,
  });
  return { portId, fipId };
}
