/**
 * The SDK's gateway backend, write side: the cloud layer's write cases (packages/sdk/test/cloud-writes-cases.ts)
 * and object-store cases (cloud-objects-cases.ts), also run over REST in the SDK's own tests, here through a
 * gateway in front of devcloud's sp1 (reached by K2K from idp), each change checked over REST to sp1 too. Then
 * what only this backend has: a create of a name the project already has is CONFLICT (the gateway creates by name),
 * an option an RPC cannot carry is UNSUPPORTED naming it, and the caller's deadline bounds a write.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Cloud,
  type CloudLayer,
  type CloudsConfig,
  callScope,
  createSession,
  ErrorCode,
  ObjectStoreClient,
  openCloud,
  type Session,
} from '@ocx/sdk';
import { rejectsWith } from '../../sdk/test/assert-errors.ts';
import { objectCases } from '../../sdk/test/cloud-objects-cases.ts';
import { writesCases } from '../../sdk/test/cloud-writes-cases.ts';
import { type Env, gatewayCloudsYaml, startEnv } from './helpers.ts';

/** devcloud (idp, sp1) + a gateway, `sp1-gw` in a clouds.yaml, and REST sessions of sp1's demo user. */
async function gatewayBackend() {
  const env = await startEnv({}, ['idp', 'sp1']);
  const dir = mkdtempSync(join(tmpdir(), 'ocx-turtles-w-'));
  const config = gatewayCloudsYaml(env, dir, { 'sp1-gw': { url: env.gw.grpcUrl, cloud: 'sp1' } });
  const sessions: Session[] = [];
  const restSession = () => {
    const s = createSession(env.config.getCloud('sp1'));
    sessions.push(s);
    return s;
  };
  return {
    env,
    config,
    cloudName: 'sp1-gw',
    cloud: (): CloudLayer => openCloud({ cloud: 'sp1-gw', config, pollIntervalMs: 20 }),
    rest: (): CloudLayer => new Cloud(restSession(), { pollIntervalMs: 20 }),
    setupObjects: new ObjectStoreClient(restSession().client('object-store')),
    async stop() {
      for (const s of sessions) await s.close();
      await env.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

writesCases('gRPC through an OCX gateway to devcloud', gatewayBackend);
objectCases('gRPC through an OCX gateway to devcloud', gatewayBackend);

describe('SDK gateway backend writes: what only it has', { timeout: 120_000 }, () => {
  let b: Awaited<ReturnType<typeof gatewayBackend>>;
  let env: Env;
  let config: CloudsConfig;
  const opened: CloudLayer[] = [];
  const open = () => {
    const c = openCloud({ cloud: 'sp1-gw', config, pollIntervalMs: 20 });
    opened.push(c);
    return c;
  };
  before(async () => {
    b = await gatewayBackend();
    env = b.env;
    config = b.config;
  });
  after(async () => {
    for (const c of opened) await c.close();
    await b?.stop();
  });

  it('a name the project already has is CONFLICT, and what is there stays as it was', async () => {
    const c = open();
    const net = await c.createNetwork('gwx-net', { description: 'first' });
    try {
      const again = await rejectsWith(c.createNetwork('gwx-net', { description: 'second' }), ErrorCode.CONFLICT);
      assert.match((again as Error).message, /already has a network named 'gwx-net'/);
      const rest = b.rest();
      opened.push(rest);
      const seen = await rest.searchNetworks('gwx-net');
      assert.deepEqual(
        seen.map((n) => [n.id, n.properties.description]),
        [[net.id, 'first']],
      );
      const renamed = await rejectsWith(
        c.updateNetwork(net.id, { name: 'gwx-renamed', mtu: 1400 }),
        ErrorCode.UNSUPPORTED,
      );
      assert.match((renamed as Error).message, /updateNetwork of name, mtu/);
      const group = await c.createSecurityGroup('gwx-sg');
      await rejectsWith(c.createSecurityGroup('gwx-sg', { description: 'other' }), ErrorCode.CONFLICT);
      const rename = await rejectsWith(c.updateSecurityGroup(group.id, { name: 'gwx-other' }), ErrorCode.UNSUPPORTED);
      assert.match((rename as Error).message, /updateSecurityGroup option name/);
      assert.equal((await c.getSecurityGroup(group.id))?.name, 'gwx-sg');
      assert.equal(await c.deleteSecurityGroup(group.id), true);
    } finally {
      assert.equal(await c.deleteNetwork(net.id), true);
    }
  });

  it('options an RPC cannot carry are UNSUPPORTED naming them, and nothing is made', async () => {
    const c = open();
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => c.createFloatingIp({ fixedAddress: '10.0.0.5' }), /createFloatingIp option fixedAddress without portId/],
      [() => c.createVolume({ size: 1 }), /volume create without a name/],
      [() => c.createPort({ network: 'public' }), /port create without a name/],
      [() => c.expandServers([]), /expandServers/],
    ];
    for (const [call, message] of cases) {
      const err = await rejectsWith(call(), ErrorCode.UNSUPPORTED);
      assert.match((err as Error).message, message);
      assert.match((err as Error).message, new RegExp(env.gw.grpcUrl.replace(/[/.:]/g, '.')));
    }
    assert.deepEqual(await c.listFloatingIps(), []);
    assert.deepEqual(await c.listVolumes(), []);
  });

  it("the caller's deadline reaches a write: a hanging Cinder is a TIMEOUT within it, and nothing is left behind", async () => {
    const c = open();
    await env.dc.setFaults('sp1', 'block-storage', { hang: true });
    const scope = callScope({ deadline: Date.now() + 1500 });
    try {
      const started = Date.now();
      await rejectsWith(c.createVolume({ size: 1, name: 'gwx-slow', signal: scope.signal }), ErrorCode.TIMEOUT);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    } finally {
      scope.dispose();
      await env.dc.clearFaults('sp1');
    }
    const rest = b.rest();
    opened.push(rest);
    assert.deepEqual(await rest.searchVolumes('gwx-slow'), []);
  });
});
