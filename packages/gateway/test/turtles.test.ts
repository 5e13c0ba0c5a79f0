/**
 * Turtles: a gateway reached through another gateway, and fan-outs over a mix of REST and gateway clouds.
 * Gateway B fronts devcloud (idp home, sp1 by K2K); gateway A's clouds.yaml has `b-sp1`, a cloud with `gateway:`
 * pointing at B's sp1, which A serves through the SDK's gateway backend, forwarding each caller's own token to B.
 * The SDK then reaches `a-b-sp1` (A's b-sp1): SDK → A → B → devcloud.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CloudLayer, type CloudsConfig, ErrorCode, isOcxError, MultiCloud, openCloud } from '@ocx/sdk';
import { type Gateway, startGateway } from '../src/server.ts';
import { type Env, gatewayCloudsYaml, startEnv } from './helpers.ts';

describe('turtles: SDK → gateway A → gateway B → devcloud', { timeout: 180_000 }, () => {
  let env: Env;
  let gwA: Gateway;
  let dir: string;
  let sdk: CloudsConfig;
  /** TCP connections gateway B accepted (one HTTP/2 connection per gateway per process is the rule). */
  const toB: number[] = [];
  const onSocket = (msg: unknown) => {
    const socket = (msg as { socket: Socket }).socket;
    if (env && socket.localPort === Number(new URL(env.gw.grpcUrl).port)) toB.push(Date.now());
  };
  const opened: CloudLayer[] = [];
  const open = (name: string) => {
    const c = openCloud({ cloud: name, config: sdk, pollIntervalMs: 50 });
    opened.push(c);
    return c;
  };

  before(async () => {
    env = await startEnv({}, ['idp', 'sp1']);
    subscribe('net.server.socket', onSocket);
    dir = mkdtempSync(join(tmpdir(), 'ocx-turtles-'));
    // A's own clouds.yaml: b-sp1 carries demo's credentials, which A must never use for its callers.
    const forA = gatewayCloudsYaml(env, dir, { 'b-sp1': { url: env.gw.grpcUrl, cloud: 'sp1' } });
    gwA = await startGateway({
      home: env.config.getCloud('idp-admin'),
      homeName: 'idp',
      k2k: false,
      gatewayClouds: [forA.getCloud('b-sp1')],
      // Short enough that polling B would show: a server's boot on devcloud (300 ms) spans 15 intervals.
      watchIntervalMs: 20,
      cloudOptions: { pollIntervalMs: 100, serverListAgeMs: 0 },
    });
    sdk = gatewayCloudsYaml(env, dir, {
      'a-b-sp1': { url: gwA.grpcUrl, cloud: 'b-sp1' },
      'admin-a-b-sp1': { url: gwA.grpcUrl, cloud: 'b-sp1', as: 'idp-admin' },
      'sp1-gw': { url: env.gw.grpcUrl, cloud: 'sp1' },
      'dead-gw': { url: 'http://127.0.0.1:1', cloud: 'sp1' },
      idp: {},
    });
  });
  after(async () => {
    unsubscribe('net.server.socket', onSocket);
    for (const c of opened) await c.close();
    await env?.stop();
    await gwA?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("nodepool's sequence two gateways deep: lists, limits, create, wait (push), address, delete, floating IPs", async () => {
    const c = open('a-b-sp1');
    const flavors = await c.listFlavors();
    assert.ok(flavors.some((f) => f.name === 'm1.tiny'));
    assert.ok(flavors.every((f) => f.location.cloud === 'a-b-sp1'));
    const image = (await c.listImages()).find((i) => i.name.startsWith('cirros'));
    assert.ok(image, 'sp1 has a cirros image');
    const limits = await c.getComputeLimits();
    const streamsBefore = gwA.hub.stats().polls;
    const server = await c.createServer({
      name: 'tt-srv',
      image: image.id,
      flavor: 'm1.tiny',
      metadata: { nodepool_node_id: '42' },
      wait: true,
      timeoutMs: 30_000,
    });
    try {
      assert.equal(server.status, 'ACTIVE');
      assert.match(server.interface_ip, /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal(server.location.cloud, 'a-b-sp1');
      assert.equal(server.location.project.name, 'demo');
      // The same server as B sees it for the same user.
      const atB = await open('sp1-gw').getServerById(server.id);
      assert.equal(atB?.interface_ip, server.interface_ip);
      assert.equal(atB?.metadata.nodepool_node_id, '42');
      assert.equal((await c.getComputeLimits()).total_instances_used, (limits.total_instances_used ?? 0) + 1);
      assert.equal((await c.waitForServer(server.id, { timeoutMs: 10_000 })).id, server.id);
      // Push end to end: A followed the boot on one WatchServers stream to B per wait, not a list per interval.
      assert.ok(gwA.hub.stats().polls - streamsBefore <= 2, `A opened ${gwA.hub.stats().polls - streamsBefore}`);
      // Another user through the same two gateways acts as themself, never as the account in A's clouds.yaml
      // (demo's): idp's admin, forwarded to B, is federated into sp1 as admin — whose project sp1 does not map.
      const asAdmin = await open('admin-a-b-sp1')
        .listServers()
        .then(
          () => assert.fail("admin must not see demo's project"),
          (e: unknown) => e,
        );
      assert.ok(isOcxError(asAdmin, ErrorCode.FEDERATION_FAILED), `got ${String(asAdmin)}`);
      assert.match((asAdmin as Error).message, /no project named admin/);
      assert.deepEqual(
        (await c.listServers()).map((s) => s.id),
        [server.id],
      );
    } finally {
      assert.equal(await c.deleteServer(server.id, { wait: true, deleteIps: true, timeoutMs: 30_000 }), true);
    }
    assert.deepEqual(await c.listServers(), []);
    assert.equal(typeof (await c.deleteUnattachedFloatingIps()), 'number');
    // Two callers through A (each with their own bearer; streams and many calls) and the SDK straight to B share
    // one HTTP/2 connection to B in this process, not one per caller.
    assert.equal(toB.length, 1, `B accepted ${toB.length} connections`);
  });

  it("the write surface two gateways deep: a network, subnet, volume and container made through A are B's, then gone", async () => {
    const c = open('a-b-sp1');
    const atB = open('sp1-gw');
    const net = await c.createNetwork('tt-net');
    const sub = await c.createSubnet({ name: 'tt-sub', network: 'tt-net', cidr: '10.71.0.0/24' });
    const vol = await c.createVolume({ size: 1, name: 'tt-vol', wait: true, timeoutMs: 30_000 });
    const box = await c.createContainer('tt-box', { metadata: { team: 'ci' } });
    assert.deepEqual(
      [vol.status, vol.location.cloud, box.location.cloud, box.metadata.team],
      ['available', 'a-b-sp1', 'a-b-sp1', 'ci'],
    );
    assert.equal((await atB.getNetwork('tt-net'))?.id, net.id);
    assert.equal((await atB.getSubnet('tt-sub'))?.network_id, net.id);
    assert.equal((await atB.getVolumeById(vol.id))?.name, 'tt-vol');
    assert.equal((await atB.getContainer('tt-box'))?.metadata.team, 'ci');
    assert.equal(await c.deleteContainer('tt-box'), true);
    assert.equal(await c.deleteVolume(vol.id, { wait: true, timeoutMs: 30_000 }), true);
    assert.equal(await c.deleteSubnet(sub.id), true);
    assert.equal(await c.deleteNetwork(net.id), true);
    atB.invalidateCaches();
    assert.deepEqual(
      [await atB.getContainer('tt-box'), await atB.getVolumeById(vol.id), await atB.getNetwork('tt-net')],
      [null, null, null],
    );
  });

  it('a fan-out over REST and gateway clouds: every cloud answers with its own name; a dead gateway is one failure', async () => {
    const multi = await MultiCloud.connect({ config: sdk, clouds: ['idp', 'sp1-gw', 'a-b-sp1', 'dead-gw'] });
    try {
      assert.deepEqual(
        multi.connections().map((conn) => [conn.name, conn.via]),
        [
          ['idp', 'credentials'],
          ['sp1-gw', 'gateway'],
          ['a-b-sp1', 'gateway'],
          ['dead-gw', 'gateway'],
        ],
      );
      const out = await multi.call((conn, _n, ctx) => conn.cloudLayer.listFlavors({ signal: ctx.signal }), {
        deadlineMs: 10_000,
      });
      assert.deepEqual(
        out.results.map((r) => [r.location.name, [...new Set(r.value.map((f) => f.location.cloud))]]),
        [
          ['idp', ['idp']],
          ['sp1-gw', ['sp1-gw']],
          ['a-b-sp1', ['a-b-sp1']],
        ],
      );
      for (const r of out.results)
        assert.ok(
          r.value.some((f) => f.name === 'm1.tiny'),
          r.location.name,
        );
      assert.deepEqual(
        out.failures.map((f) => [f.name, f.error.code]),
        [['dead-gw', ErrorCode.UNREACHABLE]],
      );
      // REST clients exist only where the cloud is reached by REST.
      assert.throws(
        () => multi.get('sp1-gw').compute,
        (e: unknown) => isOcxError(e, ErrorCode.UNSUPPORTED),
      );
    } finally {
      await multi.close();
    }
  });
});
