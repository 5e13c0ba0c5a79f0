import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { neutronService } from '../src/neutron/index.ts';
import { type Cloud, call, getToken, projectId, startTestCloud } from './helpers.ts';

type Json = Record<string, any>;

describe('devcloud neutron', () => {
  let cloud: Cloud;
  let demo: string;
  let admin: string;
  const N = '/network/v2.0';

  before(async () => {
    cloud = await startTestCloud({ services: [neutronService] });
    demo = await getToken(cloud, 'demo');
    admin = await getToken(cloud, 'admin');
  });
  after(() => cloud.close());

  async function ok(res: Response, status = 200): Promise<Json> {
    const text = await res.text();
    assert.equal(res.status, status, text);
    return text ? (JSON.parse(text) as Json) : {};
  }
  async function fails(res: Response, status: number, type: string): Promise<Json> {
    const body = (await res.json()) as Json;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.NeutronError?.type, type, JSON.stringify(body));
    assert.equal(typeof body.NeutronError.message, 'string');
    assert.equal(body.NeutronError.detail, '');
    return body;
  }
  async function network(token: string, body: Json = {}): Promise<Json> {
    return (await ok(await call(cloud, 'POST', `${N}/networks`, token, { network: body }), 201)).network;
  }
  async function subnet(token: string, networkId: string, cidr: string, extra: Json = {}): Promise<Json> {
    const b = { subnet: { network_id: networkId, cidr, ip_version: cidr.includes(':') ? 6 : 4, ...extra } };
    return (await ok(await call(cloud, 'POST', `${N}/subnets`, token, b), 201)).subnet;
  }

  it('serves the version document anonymously and needs a token for the API', async () => {
    const doc = await ok(await call(cloud, 'GET', '/network/'));
    assert.equal(doc.versions[0].id, 'v2.0');
    assert.equal(doc.versions[0].links[0].href, `${cloud.baseUrl}/network/v2.0/`);
    const res = await call(cloud, 'GET', `${N}/networks`);
    assert.equal(res.status, 401);
    const withToken = await call(cloud, 'GET', `${N}/networks`, demo);
    assert.match(withToken.headers.get('x-openstack-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
  });

  it('lists the extensions clients probe', async () => {
    const body = await ok(await call(cloud, 'GET', `${N}/extensions`, demo));
    const aliases = body.extensions.map((e: Json) => e.alias);
    for (const a of ['router', 'external-net', 'security-group', 'quotas', 'quota_details', 'pagination', 'sorting']) {
      assert.ok(aliases.includes(a), a);
    }
  });

  it('seeds an external `public` network with a subnet, visible to every project', async () => {
    const body = await ok(await call(cloud, 'GET', `${N}/networks?router:external=true`, demo));
    const pub = body.networks.find((n: Json) => n.name === 'public');
    assert.ok(pub);
    assert.equal(pub['router:external'], true);
    assert.equal(pub.subnets.length, 1);
    assert.equal(pub.project_id, projectId(cloud, 'admin'));
    assert.equal(pub.tenant_id, pub.project_id);
  });

  it('creates, shows, updates and deletes a network with both project_id and tenant_id', async () => {
    const net = await network(demo, { name: 'crud-net', description: 'd' });
    assert.equal(net.project_id, projectId(cloud, 'demo'));
    assert.equal(net.tenant_id, net.project_id);
    assert.equal(net.status, 'ACTIVE');
    assert.equal(net.shared, false);
    assert.deepEqual(net.subnets, []);
    const shown = await ok(await call(cloud, 'GET', `${N}/networks/${net.id}?fields=id&fields=name`, demo));
    assert.deepEqual(shown.network, { id: net.id, name: 'crud-net' });
    const upd = await ok(await call(cloud, 'PUT', `${N}/networks/${net.id}`, demo, { network: { name: 'renamed' } }));
    assert.equal(upd.network.name, 'renamed');
    assert.equal(upd.network.revision_number, net.revision_number + 1);
    await ok(await call(cloud, 'DELETE', `${N}/networks/${net.id}`, demo), 204);
    await fails(await call(cloud, 'GET', `${N}/networks/${net.id}`, demo), 404, 'NetworkNotFound');
  });

  it('rejects unknown attributes, unknown filters and bad sort directions like neutron-server', async () => {
    await fails(await call(cloud, 'POST', `${N}/networks`, demo, { network: { bogus: 1 } }), 400, 'HTTPBadRequest');
    await network(demo, { name: 'filter-probe' });
    const bad = await fails(await call(cloud, 'GET', `${N}/networks?foo=bar`, demo), 400, 'HTTPBadRequest');
    assert.equal(bad.NeutronError.message, "['foo'] is invalid attribute for filtering");
    await fails(await call(cloud, 'GET', `${N}/networks?sort_key=name&sort_dir=up`, demo), 400, 'HTTPBadRequest');
    // Like Neutron, all_tenants is no filter (admins see every project anyway) — also on an empty collection.
    const empty = await fails(await call(cloud, 'GET', `${N}/floatingips?all_tenants=1`, admin), 400, 'HTTPBadRequest');
    assert.equal(empty.NeutronError.message, "['all_tenants'] is invalid attribute for filtering");
    const res = await fetch(`${cloud.baseUrl}${N}/networks`, {
      method: 'POST',
      headers: { 'x-auth-token': demo, 'content-type': 'application/json' },
      body: '{bad',
    });
    assert.equal(res.status, 400);
    assert.ok(((await res.json()) as Json).NeutronError);
  });

  it('filters by attribute, sorts, and pages with limit/marker and networks_links', async () => {
    for (const n of ['pg-c', 'pg-a', 'pg-b']) await network(demo, { name: n, description: 'paging' });
    const sorted = await ok(
      await call(cloud, 'GET', `${N}/networks?description=paging&sort_key=name&sort_dir=desc`, demo),
    );
    assert.deepEqual(
      sorted.networks.map((n: Json) => n.name),
      ['pg-c', 'pg-b', 'pg-a'],
    );
    const page1 = await ok(
      await call(cloud, 'GET', `${N}/networks?description=paging&sort_key=name&sort_dir=asc&limit=2`, demo),
    );
    assert.deepEqual(
      page1.networks.map((n: Json) => n.name),
      ['pg-a', 'pg-b'],
    );
    const next = page1.networks_links.find((l: Json) => l.rel === 'next');
    assert.ok(next.href.startsWith(`${cloud.baseUrl}${N}/networks?`));
    assert.match(next.href, new RegExp(`marker=${page1.networks[1].id}`));
    const page2 = await ok(await fetch(next.href, { headers: { 'x-auth-token': demo } }));
    assert.deepEqual(
      page2.networks.map((n: Json) => n.name),
      ['pg-c'],
    );
    assert.equal(
      page2.networks_links.find((l: Json) => l.rel === 'next'),
      undefined,
      'a short page has no next link',
    );
    const prev = page2.networks_links.find((l: Json) => l.rel === 'previous');
    const back = await ok(await fetch(prev.href, { headers: { 'x-auth-token': demo } }));
    assert.deepEqual(
      back.networks.map((n: Json) => n.name),
      ['pg-a', 'pg-b'],
    );
  });

  it('keeps projects apart: demo cannot see admin networks unless shared; admin sees all', async () => {
    const priv = await network(admin, { name: 'admin-private' });
    const shared = await network(admin, { name: 'admin-shared', shared: true });
    const mine = await network(demo, { name: 'demo-own' });
    await fails(await call(cloud, 'GET', `${N}/networks/${priv.id}`, demo), 404, 'NetworkNotFound');
    const list = await ok(await call(cloud, 'GET', `${N}/networks`, demo));
    const ids = list.networks.map((n: Json) => n.id);
    assert.ok(!ids.includes(priv.id));
    assert.ok(ids.includes(shared.id));
    const all = await ok(await call(cloud, 'GET', `${N}/networks`, admin));
    assert.ok(all.networks.some((n: Json) => n.id === mine.id));
    // A member may not create shared networks.
    await fails(
      await call(cloud, 'POST', `${N}/networks`, demo, { network: { shared: true } }),
      403,
      'PolicyNotAuthorized',
    );
    // Nor change a shared network it does not own.
    await fails(
      await call(cloud, 'PUT', `${N}/networks/${shared.id}`, demo, { network: { name: 'x' } }),
      403,
      'PolicyNotAuthorized',
    );
  });

  it('allocates subnet defaults and port addresses from the pools (IPAM)', async () => {
    const net = await network(demo, { name: 'ipam' });
    const sub = await subnet(demo, net.id, '10.20.0.0/29');
    assert.equal(sub.gateway_ip, '10.20.0.1');
    assert.deepEqual(sub.allocation_pools, [{ start: '10.20.0.2', end: '10.20.0.6' }]);
    assert.equal(sub.enable_dhcp, true);
    await fails(
      await call(cloud, 'POST', `${N}/subnets`, demo, {
        subnet: { network_id: net.id, cidr: '10.20.0.4/30', ip_version: 4 },
      }),
      400,
      'HTTPBadRequest',
    );
    await fails(
      await call(cloud, 'POST', `${N}/subnets`, demo, {
        subnet: { network_id: net.id, cidr: '10.30.0.1/24', ip_version: 4 },
      }),
      400,
      'HTTPBadRequest',
    );
    const ips: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = (await ok(await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: net.id } }), 201)).port;
      assert.equal(p.fixed_ips[0].subnet_id, sub.id);
      assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
      assert.equal(p.status, 'DOWN');
      ips.push(p.fixed_ips[0].ip_address);
    }
    assert.deepEqual(ips, ['10.20.0.2', '10.20.0.3', '10.20.0.4', '10.20.0.5']);
    await fails(
      await call(cloud, 'POST', `${N}/ports`, demo, {
        port: { network_id: net.id, fixed_ips: [{ ip_address: '10.20.0.3' }] },
      }),
      409,
      'IpAddressAlreadyAllocated',
    );
    const last = await ok(
      await call(cloud, 'POST', `${N}/ports`, demo, {
        port: { network_id: net.id, fixed_ips: [{ ip_address: '10.20.0.6' }] },
      }),
      201,
    );
    assert.equal(last.port.fixed_ips[0].ip_address, '10.20.0.6');
    await fails(
      await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: net.id } }),
      409,
      'IpAddressGenerationFailure',
    );
    const byIp = await ok(await call(cloud, 'GET', `${N}/ports?fixed_ips=ip_address%3D10.20.0.4`, demo));
    assert.equal(byIp.ports.length, 1);
    assert.equal(byIp.ports[0].fixed_ips[0].ip_address, '10.20.0.4');
    // In use: neither the subnet nor the network can go.
    await fails(await call(cloud, 'DELETE', `${N}/subnets/${sub.id}`, demo), 409, 'SubnetInUse');
    await fails(await call(cloud, 'DELETE', `${N}/networks/${net.id}`, demo), 409, 'NetworkInUse');
    const all = await ok(await call(cloud, 'GET', `${N}/ports?network_id=${net.id}`, demo));
    for (const p of all.ports) await ok(await call(cloud, 'DELETE', `${N}/ports/${p.id}`, demo), 204);
    await ok(await call(cloud, 'DELETE', `${N}/networks/${net.id}`, demo), 204);
    await fails(await call(cloud, 'GET', `${N}/subnets/${sub.id}`, demo), 404, 'SubnetNotFound');
  });

  it('handles IPv6 subnets', async () => {
    const net = await network(demo, { name: 'v6' });
    const sub = await subnet(demo, net.id, 'fd00:1::/64');
    assert.equal(sub.gateway_ip, 'fd00:1::1');
    assert.equal(sub.allocation_pools[0].start, 'fd00:1::2');
    const p = (await ok(await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: net.id } }), 201)).port;
    assert.equal(p.fixed_ips[0].ip_address, 'fd00:1::2');
  });

  it('creates the default security group on first use and manages rules', async () => {
    const body = await ok(await call(cloud, 'GET', `${N}/security-groups?name=default`, demo));
    assert.equal(body.security_groups.length, 1);
    const sg = body.security_groups[0];
    assert.equal(sg.project_id, projectId(cloud, 'demo'));
    assert.equal(sg.security_group_rules.length, 4);
    assert.deepEqual(
      sg.security_group_rules
        .map((r: Json) => `${r.direction}/${r.ethertype}/${r.remote_group_id ? 'self' : '-'}`)
        .sort(),
      ['egress/IPv4/-', 'egress/IPv6/-', 'ingress/IPv4/self', 'ingress/IPv6/self'],
    );
    const web = (
      await ok(await call(cloud, 'POST', `${N}/security-groups`, demo, { security_group: { name: 'web' } }), 201)
    ).security_group;
    const rule = {
      security_group_id: web.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    };
    const created = await ok(
      await call(cloud, 'POST', `${N}/security-group-rules`, demo, { security_group_rule: rule }),
      201,
    );
    assert.equal(created.security_group_rule.ethertype, 'IPv4');
    const dup = await fails(
      await call(cloud, 'POST', `${N}/security-group-rules`, demo, { security_group_rule: rule }),
      409,
      'SecurityGroupRuleExists',
    );
    assert.match(dup.NeutronError.message, new RegExp(created.security_group_rule.id));
    await fails(
      await call(cloud, 'POST', `${N}/security-group-rules`, demo, {
        security_group_rule: { security_group_id: web.id, direction: 'sideways' },
      }),
      400,
      'HTTPBadRequest',
    );
    await fails(
      await call(cloud, 'DELETE', `${N}/security-groups/${sg.id}`, demo),
      409,
      'SecurityGroupCannotRemoveDefault',
    );
    await ok(await call(cloud, 'DELETE', `${N}/security-group-rules/${created.security_group_rule.id}`, demo), 204);
    await ok(await call(cloud, 'DELETE', `${N}/security-groups/${web.id}`, demo), 204);
    await fails(await call(cloud, 'GET', `${N}/security-groups/${web.id}`, demo), 404, 'SecurityGroupNotFound');
  });

  it('allocates floating IPs on the external network and associates them through port_id', async () => {
    const pub = (await ok(await call(cloud, 'GET', `${N}/networks?name=public`, demo))).networks[0];
    const net = await network(demo, { name: 'fip-net' });
    await subnet(demo, net.id, '10.40.0.0/24');
    const port = (await ok(await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: net.id } }), 201)).port;
    const fip = (
      await ok(
        await call(cloud, 'POST', `${N}/floatingips`, demo, { floatingip: { floating_network_id: pub.id } }),
        201,
      )
    ).floatingip;
    assert.match(fip.floating_ip_address, /^172\.24\.4\.\d+$/);
    assert.equal(fip.port_id, null);
    assert.equal(fip.status, 'DOWN');
    // As in Neutron: no router joins the port's subnet to the external network yet.
    const unreachable = await fails(
      await call(cloud, 'PUT', `${N}/floatingips/${fip.id}`, demo, { floatingip: { port_id: port.id } }),
      404,
      'ExternalGatewayForFloatingIPNotFound',
    );
    assert.match(
      unreachable.NeutronError.message,
      new RegExp(`^External network ${pub.id} is not reachable from subnet`),
    );
    const router = (
      await ok(
        await call(cloud, 'POST', `${N}/routers`, demo, {
          router: { name: 'fip-r', external_gateway_info: { network_id: pub.id } },
        }),
        201,
      )
    ).router;
    await ok(
      await call(cloud, 'PUT', `${N}/routers/${router.id}/add_router_interface`, demo, {
        subnet_id: port.fixed_ips[0].subnet_id,
      }),
    );
    const assoc = await ok(
      await call(cloud, 'PUT', `${N}/floatingips/${fip.id}`, demo, { floatingip: { port_id: port.id } }),
    );
    assert.equal(assoc.floatingip.router_id, router.id);
    assert.equal(assoc.floatingip.port_id, port.id);
    assert.equal(assoc.floatingip.fixed_ip_address, port.fixed_ips[0].ip_address);
    assert.equal(assoc.floatingip.port_details.network_id, net.id);
    const byPort = await ok(await call(cloud, 'GET', `${N}/floatingips?port_id=${port.id}`, demo));
    assert.equal(byPort.floatingips.length, 1);
    const dis = await ok(
      await call(cloud, 'PUT', `${N}/floatingips/${fip.id}`, demo, { floatingip: { port_id: null } }),
    );
    assert.equal(dis.floatingip.port_id, null);
    assert.equal(dis.floatingip.fixed_ip_address, null);
    // Only external networks hand out floating IPs.
    await fails(
      await call(cloud, 'POST', `${N}/floatingips`, demo, { floatingip: { floating_network_id: net.id } }),
      400,
      'BadRequest',
    );
    // Deleting the port clears an association.
    await ok(await call(cloud, 'PUT', `${N}/floatingips/${fip.id}`, demo, { floatingip: { port_id: port.id } }));
    await ok(await call(cloud, 'DELETE', `${N}/ports/${port.id}`, demo), 204);
    const after = await ok(await call(cloud, 'GET', `${N}/floatingips/${fip.id}`, demo));
    assert.equal(after.floatingip.port_id, null);
    await ok(await call(cloud, 'DELETE', `${N}/floatingips/${fip.id}`, demo), 204);
    await fails(await call(cloud, 'GET', `${N}/floatingips/${fip.id}`, demo), 404, 'FloatingIPNotFound');
  });

  it('connects routers to the external network and subnets, and fills router_id on floating IPs', async () => {
    const pub = (await ok(await call(cloud, 'GET', `${N}/networks?name=public`, demo))).networks[0];
    const net = await network(demo, { name: 'routed' });
    const sub = await subnet(demo, net.id, '10.50.0.0/24');
    const router = (
      await ok(
        await call(cloud, 'POST', `${N}/routers`, demo, {
          router: { name: 'r1', external_gateway_info: { network_id: pub.id } },
        }),
        201,
      )
    ).router;
    assert.equal(router.external_gateway_info.network_id, pub.id);
    assert.match(router.external_gateway_info.external_fixed_ips[0].ip_address, /^172\.24\.4\./);
    const iface = await ok(
      await call(cloud, 'PUT', `${N}/routers/${router.id}/add_router_interface`, demo, { subnet_id: sub.id }),
    );
    assert.equal(iface.subnet_id, sub.id);
    const rport = (await ok(await call(cloud, 'GET', `${N}/ports/${iface.port_id}`, demo))).port;
    assert.equal(rport.device_owner, 'network:router_interface');
    assert.equal(rport.fixed_ips[0].ip_address, '10.50.0.1');
    const vm = (await ok(await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: net.id } }), 201)).port;
    const fip = (
      await ok(
        await call(cloud, 'POST', `${N}/floatingips`, demo, {
          floatingip: { floating_network_id: pub.id, port_id: vm.id },
        }),
        201,
      )
    ).floatingip;
    assert.equal(fip.router_id, router.id);
    await fails(await call(cloud, 'DELETE', `${N}/routers/${router.id}`, demo), 409, 'RouterInUse');
    await ok(
      await call(cloud, 'PUT', `${N}/routers/${router.id}/remove_router_interface`, demo, { subnet_id: sub.id }),
    );
    await ok(await call(cloud, 'DELETE', `${N}/routers/${router.id}`, demo), 204);
  });

  it('reports quota details and enforces quotas with 409 OverQuota', async () => {
    const pid = projectId(cloud, 'demo');
    const details = await ok(await call(cloud, 'GET', `${N}/quotas/${pid}/details`, demo));
    const used = details.quota.network.used;
    assert.ok(used > 0);
    assert.deepEqual(Object.keys(details.quota.network).sort(), ['limit', 'reserved', 'used']);
    const shown = await ok(await call(cloud, 'GET', `${N}/quotas/${pid}`, demo));
    assert.equal(shown.quota.network, details.quota.network.limit);
    // Members cannot change quotas; admins can.
    await fails(
      await call(cloud, 'PUT', `${N}/quotas/${pid}`, demo, { quota: { network: 1 } }),
      403,
      'PolicyNotAuthorized',
    );
    const set = await ok(await call(cloud, 'PUT', `${N}/quotas/${pid}`, admin, { quota: { network: used } }));
    assert.equal(set.quota.network, used);
    const over = await fails(
      await call(cloud, 'POST', `${N}/networks`, demo, { network: { name: 'too-many' } }),
      409,
      'OverQuota',
    );
    assert.equal(over.NeutronError.message, "Quota exceeded for resources: ['network'].");
    await ok(await call(cloud, 'DELETE', `${N}/quotas/${pid}`, admin), 204);
    await network(demo, { name: 'fits-again' });
    // Another project's quota is not for a member to read.
    await fails(await call(cloud, 'GET', `${N}/quotas/${projectId(cloud, 'admin')}`, demo), 403, 'PolicyNotAuthorized');
  });

  it('tags resources and filters by tags', async () => {
    const net = await network(demo, { name: 'tagged' });
    await ok(await call(cloud, 'PUT', `${N}/networks/${net.id}/tags/blue`, demo), 201);
    await ok(await call(cloud, 'PUT', `${N}/networks/${net.id}/tags`, demo, { tags: ['red', 'green'] }));
    const got = await ok(await call(cloud, 'GET', `${N}/networks/${net.id}`, demo));
    assert.deepEqual(got.network.tags.sort(), ['green', 'red']);
    const byTag = await ok(await call(cloud, 'GET', `${N}/networks?tags=red,green`, demo));
    assert.deepEqual(
      byTag.networks.map((n: Json) => n.id),
      [net.id],
    );
    const notTag = await ok(await call(cloud, 'GET', `${N}/networks?not-tags-any=red`, demo));
    assert.ok(!notTag.networks.some((n: Json) => n.id === net.id));
  });

  it('binds, lists and releases server ports for Nova through internal.network', async () => {
    const net = await network(demo, { name: 'nova-net' });
    await subnet(demo, net.id, '10.60.0.0/24');
    const pid = projectId(cloud, 'demo');
    const bound = cloud.ctx.internal.network.bindPort({ projectId: pid, serverId: 'srv-1', networkId: net.id });
    assert.equal(bound.networkName, 'nova-net');
    assert.equal(bound.fixedIps[0]?.ipAddress, '10.60.0.2');
    const userPort = (await ok(await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: net.id } }), 201))
      .port;
    cloud.ctx.internal.network.bindPort({ projectId: pid, serverId: 'srv-1', portId: userPort.id });
    const shown = (await ok(await call(cloud, 'GET', `${N}/ports/${bound.id}`, demo))).port;
    assert.equal(shown.device_id, 'srv-1');
    assert.equal(shown.device_owner, 'compute:nova');
    assert.equal(shown.status, 'ACTIVE');
    assert.equal(cloud.ctx.internal.network.portsForDevice('srv-1').length, 2);
    // A port bound to one server cannot be bound to another.
    assert.throws(
      () => cloud.ctx.internal.network.bindPort({ projectId: pid, serverId: 'srv-2', portId: userPort.id }),
      /in use/,
    );
    cloud.ctx.internal.network.releaseDevice('srv-1');
    await fails(await call(cloud, 'GET', `${N}/ports/${bound.id}`, demo), 404, 'PortNotFound');
    const kept = (await ok(await call(cloud, 'GET', `${N}/ports/${userPort.id}`, demo))).port;
    assert.equal(kept.device_id, '');
    assert.equal(kept.status, 'DOWN');
  });
});
