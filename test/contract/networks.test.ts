// Contract: Neutron networks, subnets (IPAM), ports, security groups, floating IPs (associate/disassociate),
// quota details, project isolation and the Neutron error body.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, isOcxError, NetworkClient } from '@ocx/sdk';
import { startTarget, type Target } from './target.ts';

describe('networks', () => {
  let t: Target;
  let net: NetworkClient;
  before(async () => {
    t = await startTarget();
    net = new NetworkClient(t.session('sp1').client('network'));
  });
  after(() => t.stop());

  it('network + subnet + port: the port gets an address from the subnet', async () => {
    const n = await net.createNetwork({ name: `${t.prefix}-net` });
    try {
      const sub = await net.createSubnet({
        network_id: n.id,
        cidr: '10.77.3.0/24',
        ip_version: 4,
        name: `${t.prefix}-sub`,
      });
      assert.equal(sub.gateway_ip, '10.77.3.1');
      const port = await net.createPort({ network_id: n.id, name: `${t.prefix}-port` });
      assert.equal(port.fixed_ips.length, 1);
      assert.equal(port.fixed_ips[0]!.subnet_id, sub.id);
      assert.match(port.fixed_ips[0]!.ip_address, /^10\.77\.3\.\d+$/);
      assert.match(port.mac_address, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      const filtered: string[] = [];
      for await (const p of net.listPorts({ query: { network_id: n.id } })) filtered.push(p.id);
      assert.deepEqual(filtered, [port.id]);
      await net.deletePort(port.id);
    } finally {
      await net.deleteNetwork(n.id);
    }
    const err = await net.getNetwork(n.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.NOT_FOUND), `got ${String(err)}`);
    assert.match(err.serverMessage ?? '', /could not be found/i);
  });

  it('a security group with a rule; the project has a default group', async () => {
    const sg = await net.createSecurityGroup({ name: `${t.prefix}-sg`, description: 'contract' });
    try {
      const rule = await net.createSecurityGroupRule({
        security_group_id: sg.id,
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: '0.0.0.0/0',
      });
      assert.equal(rule.port_range_min, 22);
      const names: string[] = [];
      for await (const g of net.listSecurityGroups()) names.push(g.name);
      assert.ok(names.includes('default'));
      assert.ok(names.includes(`${t.prefix}-sg`));
    } finally {
      await net.deleteSecurityGroup(sg.id);
    }
  });

  it('floating IP: external network, router gateway + interface, associate to a port, disassociate, delete', async () => {
    // An external network is an admin's to make; reuse one if the cloud has it.
    const adminNet = new NetworkClient(t.session('sp1-admin').client('network'));
    let external = (await collectAll(adminNet.listNetworks({ query: { 'router:external': true } })))[0];
    let madeExternal = false;
    if (!external) {
      external = await adminNet.createNetwork({ name: `${t.prefix}-public`, 'router:external': true } as never);
      await adminNet.createSubnet({
        network_id: external.id,
        cidr: '172.24.77.0/24',
        ip_version: 4,
        name: `${t.prefix}-public-sub`,
      });
      madeExternal = true;
    }
    const http = t.session('sp1').client('network');
    const n = await net.createNetwork({ name: `${t.prefix}-fipnet` });
    let routerId: string | undefined;
    let subnetId: string | undefined;
    try {
      subnetId = (await net.createSubnet({ network_id: n.id, cidr: '10.77.4.0/24', ip_version: 4 })).id;
      // As on real Neutron, a floating IP only associates to a port whose subnet a router joins to the external net.
      const router = await (
        await http.post('/routers', {
          json: { router: { name: `${t.prefix}-router`, external_gateway_info: { network_id: external.id } } },
        })
      ).json<{ router: { id: string } }>();
      routerId = router.router.id;
      await http.put(`/routers/${routerId}/add_router_interface`, { json: { subnet_id: subnetId } });
      const port = await net.createPort({ network_id: n.id });
      const fip = await net.createFloatingIp({ floating_network_id: external.id });
      try {
        assert.ok(fip.floating_ip_address);
        assert.equal(fip.port_id ?? null, null);
        const attached = await net.updateFloatingIp(fip.id, { port_id: port.id });
        assert.equal(attached.port_id, port.id);
        assert.equal(attached.fixed_ip_address, port.fixed_ips[0]!.ip_address);
        const detached = await net.updateFloatingIp(fip.id, { port_id: null });
        assert.equal(detached.port_id ?? null, null);
      } finally {
        await net.deleteFloatingIp(fip.id);
        await net.deletePort(port.id);
      }
    } finally {
      if (routerId) {
        if (subnetId)
          await http
            .put(`/routers/${routerId}/remove_router_interface`, { json: { subnet_id: subnetId } })
            .catch(() => {});
        await http.delete(`/routers/${routerId}`).catch(() => {});
      }
      await net.deleteNetwork(n.id).catch(() => {});
      if (madeExternal) await adminNet.deleteNetwork(external.id).catch(() => {});
    }
  });

  it('a floating IP cannot reach a port whose subnet no router joins to the external network', async () => {
    const adminNet = new NetworkClient(t.session('sp1-admin').client('network'));
    let external = (await collectAll(adminNet.listNetworks({ query: { 'router:external': true } })))[0];
    let madeExternal = false;
    if (!external) {
      external = await adminNet.createNetwork({ name: `${t.prefix}-public2`, 'router:external': true } as never);
      await adminNet.createSubnet({ network_id: external.id, cidr: '172.24.78.0/24', ip_version: 4 });
      madeExternal = true;
    }
    const n = await net.createNetwork({ name: `${t.prefix}-norouter` });
    try {
      await net.createSubnet({ network_id: n.id, cidr: '10.77.5.0/24', ip_version: 4 });
      const port = await net.createPort({ network_id: n.id });
      const err = await net.createFloatingIp({ floating_network_id: external.id, port_id: port.id }).then(
        (f) => {
          void net.deleteFloatingIp(f.id).catch(() => {});
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.NOT_FOUND), `got ${String(err)}`);
      assert.match(err.serverMessage ?? '', /not reachable/i);
      await net.deletePort(port.id);
    } finally {
      await net.deleteNetwork(n.id).catch(() => {});
      if (madeExternal) await adminNet.deleteNetwork(external.id).catch(() => {});
    }
  });

  it('quota details report used and limit for networks', async () => {
    const s = t.session('sp1');
    const projectId = (await s.projectId())!;
    const n = await net.createNetwork({ name: `${t.prefix}-qnet` });
    try {
      const details = await net.getQuotaDetails(projectId);
      const networks = (details as Record<string, { used: number; limit: number }>).network!;
      assert.ok(networks.used >= 1, `used ${networks.used}`);
      assert.equal(typeof networks.limit, 'number');
    } finally {
      await net.deleteNetwork(n.id);
    }
  });

  it("a project does not see another project's private network", async () => {
    const adminNet = new NetworkClient(t.session('sp1-admin').client('network'));
    const hidden = await adminNet.createNetwork({ name: `${t.prefix}-adminonly` });
    try {
      const seen: string[] = [];
      for await (const n of net.listNetworks()) seen.push(n.id);
      assert.ok(!seen.includes(hidden.id));
      const err = await net.getNetwork(hidden.id).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.NOT_FOUND), `got ${String(err)}`);
    } finally {
      await adminNet.deleteNetwork(hidden.id);
    }
  });
});

async function collectAll<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
