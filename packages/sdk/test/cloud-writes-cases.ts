/**
 * The cloud layer's write surface (networks, subnets, routers, ports, security groups and rules, floating IPs,
 * volumes and their attachments), written once against `CloudLayer` and run on each backend: REST to devcloud
 * (cloud-writes-devcloud.test.ts) and gRPC through an OCX gateway to the same devcloud (packages/gateway/test/
 * sdk-backend-writes.test.ts). Every change is checked where a user would look: through the backend under test
 * and through a REST cloud layer of the same project (`rest`), and a delete makes the resource gone from both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CloudLayer } from '../src/cloud/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { rejectsWith } from './assert-errors.ts';

export interface WritesBackend {
  /** The cloud layer under test: devcloud's sp1 as its demo user, through this backend. */
  cloud(): CloudLayer;
  /** A REST cloud layer of the same cloud and project (a fresh one each call: no cache shared with the other). */
  rest(): CloudLayer;
  /** The name resources of the cloud under test carry in `location.cloud`. */
  cloudName: string;
  stop(): Promise<void>;
}

export function writesCases(label: string, start: () => Promise<WritesBackend>): void {
  describe(`cloud layer writes: ${label}`, { timeout: 180_000 }, () => {
    let b: WritesBackend;
    const opened: CloudLayer[] = [];
    const open = (which: 'cloud' | 'rest') => {
      const c = b[which]();
      opened.push(c);
      return c;
    };
    before(async () => {
      b = await start();
    });
    after(async () => {
      for (const c of opened) await c.close();
      await b?.stop();
    });

    test('network, subnet, router (gateway, interface), port: created, seen over REST, changed, deleted once', async () => {
      const c = open('cloud');
      const rest = open('rest');
      const net = await c.createNetwork('cw-net', { description: 'writes' });
      assert.equal(net.name, 'cw-net');
      const normalized = await c.networkFromRecord(net);
      assert.deepEqual([normalized.location.cloud, normalized.location.project.name], [b.cloudName, 'demo']);
      assert.equal((await rest.getNetwork('cw-net'))?.id, net.id);
      const changed = await c.updateNetwork('cw-net', { description: 'changed', admin_state_up: false });
      assert.deepEqual(
        [changed.id, changed.is_admin_state_up, changed.properties.description],
        [net.id, false, 'changed'],
      );
      rest.invalidateCaches();
      assert.equal((await rest.getNetwork(net.id))?.properties.description, 'changed');

      const sub = await c.createSubnet({ name: 'cw-sub', network: 'cw-net', cidr: '10.61.0.0/24' });
      assert.deepEqual(
        [sub.network_id, sub.cidr, sub.ip_version, sub.gateway_ip],
        [net.id, '10.61.0.0/24', 4, '10.61.0.1'],
      );
      assert.equal((await c.getSubnet('cw-sub'))?.id, sub.id);
      assert.equal((await rest.getSubnet({ id: sub.id }))?.name, 'cw-sub');
      assert.equal((await c.subnetFromRecord(sub)).location.cloud, b.cloudName);
      assert.deepEqual(
        (await c.searchSubnets('cw-sub')).map((s) => [s.id, s.is_dhcp_enabled]),
        [[sub.id, true]],
      );
      const dns = await c.updateSubnet(sub.id, { dns_nameservers: ['10.61.0.53'], enable_dhcp: false });
      assert.deepEqual([dns.dns_nameservers, dns.is_dhcp_enabled], [['10.61.0.53'], false]);
      assert.deepEqual(
        (await rest.searchSubnets(sub.id)).map((s) => [s.dns_nameservers, s.is_dhcp_enabled]),
        [[['10.61.0.53'], false]],
      );

      const external = await c.getNetwork('public');
      assert.ok(external?.is_router_external, 'devcloud has the external network public');
      const router = await c.createRouter('cw-router', { externalNetwork: 'public' });
      assert.equal(router.external_gateway_info?.network_id, external.id);
      await c.addRouterSubnet('cw-router', 'cw-sub');
      await rejectsWith(c.addRouterSubnet({ id: router.id }, { id: sub.id }), ErrorCode.BAD_REQUEST);
      const routed = await c.searchRouters('cw-router');
      assert.deepEqual(
        routed.map((r) => [r.id, r.interface_subnets, r.external_network]),
        [[router.id, [sub.id], external.id]],
      );
      assert.deepEqual(
        (await rest.searchRouters('cw-router')).map((r) => r.interface_subnets),
        [[sub.id]],
      );
      assert.deepEqual(
        (await c.searchSubnets(undefined, { network_id: net.id })).map((s) => s.id),
        [sub.id],
      );
      const stop = new AbortController();
      stop.abort();
      for (const list of [
        c.searchRouters(undefined, undefined, { signal: stop.signal }),
        c.searchSubnets(undefined, undefined, { signal: stop.signal }),
      ])
        await rejectsWith(list, ErrorCode.CANCELLED);
      await rejectsWith(c.deleteRouter('cw-router'), ErrorCode.CONFLICT);
      assert.equal((await rest.searchRouters('cw-router')).length, 1, 'a router with an interface stays');
      const cleared = await c.setRouterGateway({ id: router.id }, null);
      assert.equal((await c.routerFromRecord(cleared)).external_network, null);
      await c.removeRouterSubnet('cw-router', { id: sub.id });
      assert.deepEqual(
        (await rest.searchRouters('cw-router')).map((r) => [r.interface_subnets, r.external_network]),
        [[[], null]],
      );

      const port = await c.createPort({
        name: 'cw-port',
        network: 'cw-net',
        fixedIps: [{ subnet_id: sub.id, ip_address: '10.61.0.50' }],
      });
      assert.deepEqual(port.fixed_ips, [{ subnet_id: sub.id, ip_address: '10.61.0.50' }]);
      assert.equal(port.location.cloud, b.cloudName);
      assert.deepEqual(
        (await c.searchPorts('cw-port')).map((p) => p.id),
        [port.id],
      );
      assert.deepEqual(
        (await rest.listPorts({ name: 'cw-port' })).map((p) => p.network_id),
        [net.id],
      );
      const down = await c.updatePort(port.id, { admin_state_up: false, security_groups: [] });
      assert.deepEqual([down.id, down.is_admin_state_up, down.security_groups], [port.id, false, []]);
      assert.deepEqual(
        (await rest.searchPorts(port.id)).map((p) => [p.is_admin_state_up, p.security_groups]),
        [[false, []]],
      );
      assert.equal(await c.deletePort(port.id), true);
      assert.equal(await c.deletePort(port.id), false);
      assert.deepEqual(await rest.searchPorts('cw-port'), []);

      assert.equal(await c.deleteRouter('cw-router'), true);
      assert.equal(await c.deleteRouter('cw-router'), false);
      assert.deepEqual(await rest.searchRouters('cw-router'), []);
      assert.equal(await c.deleteSubnet('cw-sub'), true);
      assert.equal(await c.deleteSubnet('cw-sub'), false);
      assert.equal(await rest.getSubnet('cw-sub'), null);
      assert.equal(await c.deleteNetwork('cw-net'), true);
      assert.equal(await c.deleteNetwork({ id: net.id }), false);
      rest.invalidateCaches();
      assert.equal(await rest.getNetwork('cw-net'), null);
      await rejectsWith(
        c.createSubnet({ name: 'cw-orphan', network: { id: net.id }, cidr: '10.62.0.0/24' }),
        ErrorCode.NOT_FOUND,
      );
    });

    test('security group and rules: created, described, a rule twice is CONFLICT, deleted once', async () => {
      const c = open('cloud');
      const rest = open('rest');
      const group = await c.createSecurityGroup('cw-sg', { description: 'web' });
      assert.deepEqual([group.name, group.description, group.location.cloud], ['cw-sg', 'web', b.cloudName]);
      const rule = await c.createSecurityGroupRule({
        securityGroup: 'cw-sg',
        protocol: 'tcp',
        portRangeMin: 22,
        portRangeMax: 22,
        remoteIpPrefix: '10.0.0.0/8',
      });
      assert.deepEqual(
        [rule.security_group_id, rule.direction, rule.protocol, rule.port_range_min, rule.remote_ip_prefix],
        [group.id, 'ingress', 'tcp', 22, '10.0.0.0/8'],
      );
      await rejectsWith(
        c.createSecurityGroupRule({
          securityGroup: { id: group.id },
          protocol: 'tcp',
          portRangeMin: 22,
          portRangeMax: 22,
          remoteIpPrefix: '10.0.0.0/8',
        }),
        ErrorCode.CONFLICT,
      );
      const seen = await rest.getSecurityGroup('cw-sg');
      assert.ok(seen?.security_group_rules.some((r) => r.id === rule.id && r.port_range_max === 22));

      const described = await c.updateSecurityGroup(group.id, { description: 'web servers' });
      assert.equal(described.description, 'web servers');
      rest.invalidateCaches();
      assert.equal((await rest.getSecurityGroup(group.id))?.description, 'web servers');

      assert.equal(await c.deleteSecurityGroupRule(rule.id), true);
      assert.equal(await c.deleteSecurityGroupRule(rule.id), false);
      assert.equal(await c.deleteSecurityGroup('cw-sg'), true);
      assert.equal(await c.deleteSecurityGroup({ id: group.id }), false);
      rest.invalidateCaches();
      assert.equal(await rest.getSecurityGroup('cw-sg'), null);
    });

    test('floating IP and volume on a server: allocate, attach, detach, extend, release, each seen over REST', async () => {
      const c = open('cloud');
      const rest = open('rest');
      // The server's network, routed to the external one so a floating IP can reach it (set up over REST).
      const net = await rest.createNetwork('cw-srv-net');
      const sub = await rest.createSubnet({ name: 'cw-srv-sub', network: { id: net.id }, cidr: '10.63.0.0/24' });
      const router = await rest.createRouter('cw-srv-router', { externalNetwork: 'public' });
      await rest.addRouterSubnet({ id: router.id }, { id: sub.id });
      const server = await c.createServer({
        name: 'cw-srv',
        image: (await c.listImages()).find((i) => i.name.startsWith('cirros')) ?? 'cirros',
        flavor: 'm1.tiny',
        network: { id: net.id },
        wait: true,
        autoIp: false,
        timeoutMs: 30_000,
      });
      try {
        assert.match(await c.getServerConsole(server.id), /console of cw-srv/);
        assert.equal(await c.hasFloatingIps(), true);
        const fip = await c.createFloatingIp({ network: 'public' });
        assert.deepEqual([fip.attached, fip.location.cloud], [false, b.cloudName]);
        assert.ok((await rest.listFloatingIps()).some((f) => f.id === fip.id));
        assert.equal((await c.getFloatingIp(fip.floating_ip_address))?.id, fip.id);
        assert.equal((await rest.getFloatingIp(fip.id))?.floating_ip_address, fip.floating_ip_address);
        assert.equal(await c.getFloatingIp('203.0.113.254'), null);
        const attached = await c.attachFloatingIp(server.id, fip.floating_ip_address);
        assert.deepEqual(
          [attached.id, attached.attached, attached.fixed_ip_address],
          [fip.id, true, server.private_v4],
        );
        rest.invalidateCaches();
        assert.equal((await rest.getServer(server.id))?.public_v4, fip.floating_ip_address);
        await c.detachFloatingIp(server.id, fip.floating_ip_address);
        rest.invalidateCaches();
        assert.equal((await rest.listFloatingIps({ id: fip.id }))[0]?.attached, false);
        await rejectsWith(c.detachFloatingIp(server.id, fip.floating_ip_address), ErrorCode.CONFLICT);
        assert.equal(await c.deleteFloatingIp(fip.id), true);
        assert.equal(await c.deleteFloatingIp(fip.id), false);
        const [port] = await c.listPorts({ device_id: server.id });
        assert.ok(port, 'the server has a port');
        const onPort = await c.createFloatingIp({ network: 'public', portId: port.id });
        assert.deepEqual([onPort.attached, onPort.port, onPort.fixed_ip_address], [true, port.id, server.private_v4]);
        rest.invalidateCaches();
        assert.equal((await rest.listFloatingIps({ id: onPort.id }))[0]?.port, port.id);
        assert.equal(await c.deleteFloatingIp(onPort.id), true);
        rest.invalidateCaches();
        assert.deepEqual(await rest.listFloatingIps({ id: fip.id }), []);

        const vol = await c.createVolume({
          size: 1,
          name: 'cw-vol',
          metadata: { purpose: 'ci' },
          wait: true,
          timeoutMs: 30_000,
        });
        assert.deepEqual(
          [vol.status, vol.size, vol.metadata.purpose, vol.location.cloud],
          ['available', 1, 'ci', b.cloudName],
        );
        assert.equal((await rest.getVolumeById(vol.id))?.name, 'cw-vol');
        const described = await c.updateVolume(vol.id, {
          description: 'for ci',
          metadata: { purpose: 'ci', owner: 'ocx' },
        });
        assert.deepEqual([described.description, described.metadata], ['for ci', { purpose: 'ci', owner: 'ocx' }]);
        const seenVol = await rest.getVolumeById(vol.id);
        assert.deepEqual([seenVol?.description, seenVol?.metadata.owner], ['for ci', 'ocx']);
        const a = await c.attachVolume(server.id, 'cw-vol', { wait: true, timeoutMs: 30_000 });
        assert.deepEqual([a.server_id, a.volume_id], [server.id, vol.id]);
        const inUse = await rest.getVolumeById(vol.id);
        assert.deepEqual([inUse?.status, inUse?.attachments.map((x) => x.server_id)], ['in-use', [server.id]]);
        await rejectsWith(c.attachVolume(server.id, vol.id), ErrorCode.BAD_REQUEST);
        await c.detachVolume({ id: server.id }, { id: vol.id }, { wait: true, timeoutMs: 30_000 });
        assert.deepEqual((await rest.getVolumeById(vol.id))?.attachments, []);
        await rejectsWith(c.detachVolume(server.id, vol.id), ErrorCode.NOT_FOUND);
        assert.equal((await c.extendVolume(vol.id, 2, { wait: true, timeoutMs: 30_000 }))?.size, 2);
        assert.equal((await rest.getVolumeById(vol.id))?.size, 2);
        // `force` reaches Cinder (os-force_delete), whose policy keeps it for admins: the volume stays.
        await rejectsWith(c.deleteVolume(vol.id, { force: true }), ErrorCode.FORBIDDEN);
        assert.equal((await rest.getVolumeById(vol.id))?.status, 'available');
        assert.equal(await c.deleteVolume('cw-vol', { wait: true, timeoutMs: 30_000 }), true);
        assert.equal(await c.deleteVolume(vol.id), false);
        assert.equal(await rest.getVolumeById(vol.id), null);
        // Last: a snapshot leaves the server busy (task_state image_snapshot) for a moment.
        const snap = await c.createImageSnapshot('cw-snap', server.id, {
          metadata: { from: 'ci' },
          wait: true,
          timeoutMs: 30_000,
        });
        assert.deepEqual([snap.name, snap.status, snap.location.cloud], ['cw-snap', 'active', b.cloudName]);
        assert.equal((await rest.getImage('cw-snap'))?.id, snap.id);
        assert.equal(await c.deleteImage(snap.id, { wait: true, timeoutMs: 30_000 }), true);
      } finally {
        await c.deleteServer(server.id, { wait: true, timeoutMs: 30_000 });
        await rest.removeRouterSubnet({ id: router.id }, { id: sub.id });
        await rest.deleteRouter({ id: router.id });
        await rest.deleteNetwork({ id: net.id });
      }
    });
  });
}
