/**
 * The Ansible network write surface through the gateway on devcloud: networks, subnets, routers (interfaces and
 * external gateway), ports, security groups and rules as `state: present` (changed only when something was) and
 * `state: absent` (deleted only once), Neutron's conflicts as FAILED_PRECONDITION, a write that names no cloud as
 * INVALID_ARGUMENT, and a second user who neither sees nor steers the demo user's resources.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { createSession, NetworkClient } from '@ocx/sdk';
import { ErrorDetailSchema } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import { type Env, startEnv } from './helpers.ts';
import { otherUser } from './other-user.ts';

async function rejects(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    assert.equal(e.code, code, `expected ${Code[code]}, got ${Code[e.code]}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${Code[code]}, the call succeeded`);
}

const at = (cloud: string) => ({ location: { cloud } });
const only = (cloud: string) => ({ location: { clouds: [cloud] } });

describe('gateway: Ansible network modules on devcloud', { timeout: 120_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await env?.stop();
  });

  it('network, subnet, router, port: created once, updated when asked, conflicts, deleted once', async () => {
    const c = env.client;
    const a = env.auth;
    await rejects(c.createNetwork({ name: 'gw-net' }, a), Code.InvalidArgument); // three clouds reachable: which?
    const net = await c.createNetwork({ ...at('sp1'), name: 'gw-net' }, a);
    assert.equal(net.changed, true);
    assert.equal(net.network?.location?.cloud, 'sp1');
    assert.equal(net.network?.location?.project?.name, 'demo');
    const again = await c.createNetwork({ ...at('sp1'), name: 'gw-net' }, a);
    assert.deepEqual([again.changed, again.network?.id], [false, net.network?.id]);
    const described = await c.createNetwork({ ...at('sp1'), name: 'gw-net', description: 'for ci' }, a);
    assert.deepEqual([described.changed, described.network?.properties.description], [true, 'for ci']);

    const sub = await c.createSubnet({ ...at('sp1'), name: 'gw-sub', network: 'gw-net', cidr: '10.77.0.0/24' }, a);
    assert.equal(sub.changed, true);
    assert.deepEqual(
      [sub.subnet?.cidr, sub.subnet?.ipVersion, sub.subnet?.networkId],
      ['10.77.0.0/24', 4, net.network?.id],
    );
    assert.equal(sub.subnet?.gatewayIp, '10.77.0.1');
    const same = await c.createSubnet({ ...at('sp1'), name: 'gw-sub', network: 'gw-net', cidr: '10.77.0.0/24' }, a);
    assert.equal(same.changed, false);
    const dns = await c.createSubnet(
      { ...at('sp1'), name: 'gw-sub', network: 'gw-net', dnsNameservers: ['192.0.2.53'] },
      a,
    );
    assert.deepEqual([dns.changed, dns.subnet?.dnsNameservers], [true, ['192.0.2.53']]);
    await rejects(
      c.createSubnet({ ...at('sp1'), name: 'gw-sub', network: 'gw-net', cidr: '10.78.0.0/24' }, a),
      Code.FailedPrecondition,
    );
    const listed = await c.listSubnets({ filter: { nameOrId: 'gw-sub' } }, a);
    assert.deepEqual(
      listed.subnets.map((s) => [s.location?.cloud, s.id]),
      [['sp1', sub.subnet?.id]],
    );

    const publicNet = (await c.listNetworks({ filter: { nameOrId: 'public', ...only('sp1') } }, a)).networks[0];
    const router = await c.createRouter(
      { ...at('sp1'), name: 'gw-router', externalNetwork: 'public', interfaces: ['gw-sub'] },
      a,
    );
    assert.equal(router.changed, true);
    assert.equal(router.router?.externalNetwork, publicNet?.id);
    assert.deepEqual(router.router?.interfaceSubnets, [sub.subnet?.id]);
    const kept = await c.createRouter({ ...at('sp1'), name: 'gw-router', interfaces: ['gw-sub'] }, a);
    assert.deepEqual([kept.changed, kept.router?.id], [false, router.router?.id]);
    const purged = await c.createRouter(
      { ...at('sp1'), name: 'gw-router', externalNetwork: '', purgeInterfaces: true },
      a,
    );
    assert.deepEqual([purged.changed, purged.router?.interfaceSubnets, purged.router?.externalNetwork], [true, [], '']);
    await c.createRouter({ ...at('sp1'), name: 'gw-router', interfaces: [sub.subnet?.id ?? ''] }, a);
    const routers = await c.listRouters({ filter: { nameOrId: 'gw-router' } }, a);
    assert.deepEqual(routers.routers[0]?.interfaceSubnets, [sub.subnet?.id]);

    const port = await c.createPort(
      { ...at('sp1'), name: 'gw-port', network: 'gw-net', fixedIps: [{ subnetId: 'gw-sub', ipAddress: '10.77.0.50' }] },
      a,
    );
    assert.equal(port.changed, true);
    assert.deepEqual(
      port.port?.fixedIps.map((f) => [f.subnetId, f.ipAddress]),
      [[sub.subnet?.id, '10.77.0.50']],
    );
    assert.equal((await c.createPort({ ...at('sp1'), name: 'gw-port', network: 'gw-net' }, a)).changed, false);
    const bare = await c.createPort({ ...at('sp1'), name: 'gw-port', network: 'gw-net', noSecurityGroups: true }, a);
    assert.deepEqual([bare.changed, bare.port?.securityGroups], [true, []]);
    assert.deepEqual(
      (await c.listPorts({ filter: { nameOrId: 'gw-port' } }, a)).ports.map((p) => p.id),
      [port.port?.id],
    );

    // Neutron refuses to delete a network that still has ports (409): FAILED_PRECONDITION, and the network stays.
    await rejects(c.deleteNetwork({ filter: { nameOrId: 'gw-net', ...only('sp1') } }, a), Code.FailedPrecondition);
    assert.equal((await c.deletePort({ filter: { nameOrId: 'gw-port' } }, a)).deleted, true);
    assert.equal((await c.deletePort({ filter: { nameOrId: 'gw-port' } }, a)).deleted, false);
    // The router still has its interface: deleting it detaches that first, as Ansible's router module does.
    assert.equal((await c.deleteRouter({ filter: { nameOrId: 'gw-router' } }, a)).deleted, true);
    assert.equal((await c.deleteRouter({ filter: { nameOrId: 'gw-router' } }, a)).deleted, false);
    assert.equal((await c.deleteSubnet({ filter: { nameOrId: 'gw-sub' } }, a)).deleted, true);
    assert.equal((await c.deleteNetwork({ filter: { nameOrId: 'gw-net' } }, a)).deleted, true);
    assert.equal((await c.deleteNetwork({ filter: { nameOrId: 'gw-net' } }, a)).deleted, false);
    assert.deepEqual((await c.listNetworks({ filter: { nameOrId: 'gw-net' } }, a)).networks, []);
  });

  it('two networks of one name in the project: present is ambiguous (FAILED_PRECONDITION, AMBIGUOUS)', async () => {
    // Neutron allows duplicate names; made with the demo user's own sp2 login (the same project).
    const session = createSession(env.config.getCloud('sp2'));
    const net = new NetworkClient(session.client('network'));
    const ids = [(await net.createNetwork({ name: 'gw-dup' })).id, (await net.createNetwork({ name: 'gw-dup' })).id];
    try {
      const e = await rejects(
        env.client.createNetwork({ ...at('sp2'), name: 'gw-dup' }, env.auth),
        Code.FailedPrecondition,
      );
      assert.equal(e.findDetails(ErrorDetailSchema)[0]?.code, 'AMBIGUOUS');
      assert.ok(ids.every((id) => e.rawMessage.includes(id)));
      await rejects(env.client.deleteNetwork({ filter: { nameOrId: 'gw-dup' } }, env.auth), Code.FailedPrecondition);
    } finally {
      for (const id of ids) await net.deleteNetwork(id);
      await session.close();
    }
  });

  it('security groups and rules: present by name and by rule fields, absent once, by id or by fields', async () => {
    const c = env.client;
    const a = env.auth;
    const g = await c.createSecurityGroup({ ...at('sp2'), name: 'gw-sg', description: 'one' }, a);
    assert.equal(g.changed, true);
    assert.equal((await c.createSecurityGroup({ ...at('sp2'), name: 'gw-sg' }, a)).changed, false);
    const two = await c.createSecurityGroup({ ...at('sp2'), name: 'gw-sg', description: 'two' }, a);
    assert.deepEqual(
      [two.changed, two.securityGroup?.description, two.securityGroup?.id],
      [true, 'two', g.securityGroup?.id],
    );

    const ssh = {
      securityGroup: 'gw-sg',
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: '0.0.0.0/0',
    };
    const r1 = await c.createSecurityGroupRule({ ...at('sp2'), rule: ssh }, a);
    assert.equal(r1.changed, true);
    assert.deepEqual(
      [
        r1.rule?.direction,
        r1.rule?.protocol,
        r1.rule?.portRangeMin,
        r1.rule?.securityGroupId,
        r1.rule?.location?.cloud,
      ],
      ['ingress', 'tcp', 22, g.securityGroup?.id, 'sp2'],
    );
    const r2 = await c.createSecurityGroupRule({ ...at('sp2'), rule: ssh }, a);
    assert.deepEqual([r2.changed, r2.rule?.id], [false, r1.rule?.id]);
    const web = await c.createSecurityGroupRule(
      { ...at('sp2'), rule: { ...ssh, portRangeMin: 443, portRangeMax: 443 } },
      a,
    );
    assert.equal(web.changed, true);
    await rejects(
      c.createSecurityGroupRule({ ...at('sp2'), rule: { ...ssh, direction: 'sideways' } }, a),
      Code.InvalidArgument,
    );
    await rejects(
      c.createSecurityGroupRule({ ...at('sp2'), rule: { ...ssh, securityGroup: 'gw-no-such-group' } }, a),
      Code.NotFound,
    );
    const got = await c.listSecurityGroups({ filter: { nameOrId: 'gw-sg' } }, a);
    assert.deepEqual(
      got.securityGroups[0]?.rules
        .filter((r) => r.protocol === 'tcp')
        .map((r) => r.portRangeMin)
        .sort(),
      [22, 443],
    );
    const bySpec = { filter: only('sp2'), rule: ssh };
    assert.equal((await c.deleteSecurityGroupRule(bySpec, a)).deleted, true);
    assert.equal((await c.deleteSecurityGroupRule(bySpec, a)).deleted, false);
    const byId = { filter: { nameOrId: web.rule?.id ?? '' } };
    assert.equal((await c.deleteSecurityGroupRule(byId, a)).deleted, true);
    assert.equal((await c.deleteSecurityGroupRule(byId, a)).deleted, false);
    // A rule named by its fields must be looked for on one cloud.
    await rejects(c.deleteSecurityGroupRule({ rule: ssh }, a), Code.InvalidArgument);
    assert.equal((await c.deleteSecurityGroup({ filter: { nameOrId: 'gw-sg' } }, a)).deleted, true);
    assert.equal((await c.deleteSecurityGroup({ filter: { nameOrId: 'gw-sg' } }, a)).deleted, false);
  });

  it("an admin who sees every project's 'default' group changes only its own project's", async () => {
    const session = createSession(env.config.getCloud('idp-admin'));
    const admin = { headers: { authorization: `Bearer ${await session.getToken()}` } };
    await session.close();
    const defaults = await env.client.listSecurityGroups({ filter: { nameOrId: 'default', ...only('idp') } }, admin);
    assert.ok(defaults.securityGroups.length > 1, 'the admin sees several default groups');
    const rule = { securityGroup: 'default', protocol: 'udp', portRangeMin: 5353, remoteIpPrefix: '192.0.2.0/24' };
    const made = await env.client.createSecurityGroupRule({ ...at('idp'), rule }, admin);
    try {
      const own = defaults.securityGroups.find((g) => g.id === made.rule?.securityGroupId);
      assert.equal(made.changed, true);
      assert.equal(own?.location?.project?.name, 'admin');
      const demos = await env.client.listSecurityGroups({ filter: { nameOrId: 'default', ...only('idp') } }, env.auth);
      assert.ok(demos.securityGroups[0]?.rules.every((r) => r.portRangeMin !== 5353));
    } finally {
      await env.client.deleteSecurityGroupRule({ filter: { nameOrId: made.rule?.id ?? '' } }, admin);
    }
  });

  it("another project's user neither finds nor changes the demo user's resources", async () => {
    const c = env.client;
    const mine = await c.createNetwork({ ...at('idp'), name: 'gw-iso-net' }, env.auth);
    const sg = await c.createSecurityGroup({ ...at('idp'), name: 'gw-iso-sg' }, env.auth);
    const other = await otherUser(env, 'gw-mallory');
    try {
      const id = mine.network?.id ?? '';
      assert.equal((await c.deleteNetwork({ filter: { nameOrId: id, ...only('idp') } }, other)).deleted, false);
      assert.equal(
        (await c.deleteSecurityGroup({ filter: { nameOrId: 'gw-iso-sg', ...only('idp') } }, other)).deleted,
        false,
      );
      // The same name is a different, new resource in the other user's project.
      const theirs = await c.createNetwork({ ...at('idp'), name: 'gw-iso-net', description: 'theirs' }, other);
      assert.equal(theirs.changed, true);
      assert.notEqual(theirs.network?.id, id);
      assert.notEqual(theirs.network?.location?.project?.id, mine.network?.location?.project?.id);
      const demoProject = mine.network?.location?.project?.id ?? '';
      await rejects(
        c.listNetworks({ filter: { location: { clouds: ['idp'], project: { id: demoProject } } } }, other),
        Code.PermissionDenied,
      );
      assert.equal(
        (await c.deleteNetwork({ filter: { nameOrId: 'gw-iso-net', ...only('idp') } }, other)).deleted,
        true,
      );
      const still = await c.listNetworks({ filter: { nameOrId: 'gw-iso-net', ...only('idp') } }, env.auth);
      assert.deepEqual(
        still.networks.map((n) => [n.id, n.properties.description ?? '']),
        [[id, '']],
      );
      assert.equal(
        (await c.listSecurityGroups({ filter: { nameOrId: 'gw-iso-sg', ...only('idp') } }, env.auth)).securityGroups[0]
          ?.id,
        sg.securityGroup?.id,
      );
      // The external network 'public' (the cloud admin's, visible to all) is not the demo project's 'public'.
      const external = (await c.listNetworks({ filter: { nameOrId: 'public', ...only('sp2') } }, env.auth)).networks;
      const own = await c.createNetwork({ ...at('sp2'), name: 'public' }, env.auth);
      assert.equal(own.changed, true);
      assert.deepEqual(
        [own.network?.isRouterExternal, own.network?.location?.project?.name, external.length],
        [false, 'demo', 1],
      );
      assert.notEqual(own.network?.id, external[0]?.id);
      assert.equal((await c.deleteNetwork({ filter: { nameOrId: own.network?.id ?? '' } }, env.auth)).deleted, true);
    } finally {
      await c.deleteNetwork({ filter: { nameOrId: mine.network?.id ?? '' } }, env.auth);
      await c.deleteSecurityGroup({ filter: { nameOrId: sg.securityGroup?.id ?? '' } }, env.auth);
    }
  });
});
