/**
 * The Ansible compute and storage surface through the gateway on devcloud: server actions (run only when the
 * server is not already there; a locked server refuses with FAILED_PRECONDITION), volumes present/absent with
 * extend and no shrink, attach/detach once, floating IPs given to and taken from a server, and Swift containers
 * and objects a page at a time by marker — with a second project's user who can neither find nor act on any of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { createSession, ObjectStoreClient } from '@ocx/sdk';
import { ServerActionType } from '@ocx/sdk/gen/ocx/cloud/v1/ansible_storage_pb';
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

const at = { location: { cloud: 'idp' } };
const onIdp = (nameOrId: string) => ({ filter: { nameOrId, location: { clouds: ['idp'] } } });

describe('gateway: Ansible compute and storage modules on devcloud', { timeout: 120_000 }, () => {
  let env: Env;
  let other: { headers: { authorization: string } };
  let serverId = '';
  before(async () => {
    env = await startEnv();
    other = await otherUser(env, 'gw-eve');
    const created = await env.client.createServer(
      { spec: { ...at, name: 'gw-act', image: 'cirros-*', flavor: 'm1.tiny', wait: true, timeoutSeconds: 30 } },
      env.auth,
    );
    serverId = created.server?.id ?? '';
    assert.equal(created.server?.status, 'ACTIVE');
  });
  after(async () => {
    if (serverId) await env?.client.deleteServer({ filter: { nameOrId: serverId }, wait: true }, env.auth);
    await env?.stop();
  });

  const act = (action: ServerActionType, extra: Record<string, unknown> = {}, auth = env.auth) =>
    env.client.serverAction({ ...onIdp('gw-act'), action, wait: true, timeoutSeconds: 20, ...extra }, auth);

  it('server actions: each to its status, a second identical one unchanged, a locked server refuses', async () => {
    const stop = await act(ServerActionType.STOP);
    assert.deepEqual([stop.changed, stop.server?.status], [true, 'SHUTOFF']);
    const again = await act(ServerActionType.STOP);
    assert.deepEqual([again.changed, again.server?.status], [false, 'SHUTOFF']);
    assert.equal((await act(ServerActionType.START)).server?.status, 'ACTIVE');
    assert.equal((await act(ServerActionType.PAUSE)).server?.status, 'PAUSED');
    assert.equal((await act(ServerActionType.PAUSE)).changed, false);
    assert.equal((await act(ServerActionType.UNPAUSE)).server?.status, 'ACTIVE');
    assert.equal((await act(ServerActionType.SUSPEND)).server?.status, 'SUSPENDED');
    assert.equal((await act(ServerActionType.RESUME)).server?.status, 'ACTIVE');
    const reboot = await act(ServerActionType.HARD_REBOOT);
    assert.deepEqual([reboot.changed, reboot.server?.status], [true, 'ACTIVE']);
    // The console log of the server (Nova's os-getConsoleOutput); the other user cannot read it.
    const log = await env.client.getServerConsole(
      { filter: { nameOrId: 'gw-act', location: { clouds: ['idp'] } } },
      env.auth,
    );
    assert.match(log.output, /console of gw-act/);
    await rejects(
      env.client.getServerConsole({ filter: { nameOrId: serverId, location: { clouds: ['idp'] } } }, other),
      Code.NotFound,
    );
    await rejects(
      env.client.getServerConsole({ filter: { nameOrId: 'gw-none', location: { clouds: ['idp'] } } }, env.auth),
      Code.NotFound,
    );
    const image = (
      await env.client.listImages({ filter: { nameOrId: 'cirros-*', location: { clouds: ['idp'] } } }, env.auth)
    ).images[0];
    const rebuilt = await act(ServerActionType.REBUILD, { image: image?.id ?? '' });
    assert.deepEqual([rebuilt.changed, rebuilt.server?.status, rebuilt.server?.image?.id], [true, 'ACTIVE', image?.id]);
    await rejects(act(ServerActionType.REBUILD), Code.InvalidArgument); // rebuild without an image
    await rejects(act(ServerActionType.UNSPECIFIED), Code.InvalidArgument);

    assert.equal((await act(ServerActionType.LOCK)).changed, true);
    // Nova refuses power actions on a locked server to its (non-admin) owner: 409 → FAILED_PRECONDITION.
    const locked = await rejects(act(ServerActionType.STOP), Code.FailedPrecondition);
    assert.match(locked.rawMessage, /locked/);
    assert.equal((await act(ServerActionType.UNLOCK)).changed, true);
    await rejects(
      env.client.serverAction({ ...onIdp('gw-no-such-server'), action: ServerActionType.STOP }, env.auth),
      Code.NotFound,
    );
    // Another project's user finds no such server, by name or by id, and cannot stop it.
    await rejects(act(ServerActionType.STOP, {}, other), Code.NotFound);
    await rejects(env.client.serverAction({ ...onIdp(serverId), action: ServerActionType.STOP }, other), Code.NotFound);
    assert.equal((await env.client.getServer(onIdp(serverId), env.auth)).server?.status, 'ACTIVE');
  });

  it('volumes: present (extend, never shrink), attached and detached once, absent once', async () => {
    const c = env.client;
    const a = env.auth;
    await rejects(c.createVolume({ ...at, name: 'gw-vol' }, a), Code.InvalidArgument); // no size to create with
    const v = await c.createVolume({ ...at, name: 'gw-vol', size: 1, wait: true, timeoutSeconds: 20 }, a);
    assert.deepEqual([v.changed, v.volume?.status, v.volume?.size], [true, 'available', 1n]);
    const same = await c.createVolume({ ...at, name: 'gw-vol', size: 1 }, a);
    assert.deepEqual([same.changed, same.volume?.id], [false, v.volume?.id]);
    const grown = await c.createVolume({ ...at, name: 'gw-vol', size: 2, description: 'data', wait: true }, a);
    assert.deepEqual([grown.changed, grown.volume?.size, grown.volume?.description], [true, 2n, 'data']);
    await rejects(c.createVolume({ ...at, name: 'gw-vol', size: 1 }, a), Code.InvalidArgument);

    const pair = { ...at, server: 'gw-act', volume: 'gw-vol', wait: true, timeoutSeconds: 20 };
    const att = await c.attachVolume(pair, a);
    assert.deepEqual([att.changed, att.attachment?.serverId], [true, serverId]);
    assert.deepEqual(
      [att.volume?.status, att.volume?.location?.cloud, att.volume?.attachments.map((x) => x.serverId)],
      ['in-use', 'idp', [serverId]],
    );
    const att2 = await c.attachVolume(pair, a);
    assert.deepEqual([att2.changed, att2.attachment?.serverId], [false, serverId]);
    const listed = await c.listVolumes(onIdp('gw-vol'), a);
    assert.deepEqual(
      listed.volumes.map((x) => [x.status, x.attachments.map((y) => y.serverId)]),
      [['in-use', [serverId]]],
    );
    // The other user can neither see the volume nor delete it.
    assert.equal((await c.deleteVolume(onIdp(v.volume?.id ?? ''), other)).deleted, false);
    await rejects(c.attachVolume({ ...pair }, other), Code.NotFound);
    // Cinder refuses to delete an attached volume: 400 → INVALID_ARGUMENT, and it stays.
    await rejects(c.deleteVolume(onIdp('gw-vol'), a), Code.InvalidArgument);
    // `force` reaches Cinder as os-force_delete, which its policy keeps for admins.
    await rejects(c.deleteVolume({ ...onIdp('gw-vol'), force: true }, a), Code.PermissionDenied);
    assert.equal((await c.detachVolume(pair, a)).changed, true);
    assert.equal((await c.detachVolume(pair, a)).changed, false);
    assert.equal((await c.deleteVolume({ ...onIdp('gw-vol'), wait: true, timeoutSeconds: 20 }, a)).deleted, true);
    assert.equal((await c.deleteVolume(onIdp('gw-vol'), a)).deleted, false);
  });

  it('floating IPs: given to a server once, detached once, reused, purged, released by address', async () => {
    const c = env.client;
    const a = env.auth;
    const first = await c.createFloatingIp({ ...at, server: 'gw-act' }, a);
    assert.equal(first.changed, true);
    assert.equal(first.floatingIp?.attached, true);
    const address = first.floatingIp?.floatingIpAddress ?? '';
    const again = await c.createFloatingIp({ ...at, server: 'gw-act' }, a);
    assert.deepEqual([again.changed, again.floatingIp?.floatingIpAddress], [false, address]);
    await rejects(c.detachFloatingIp({ ...at, server: 'gw-act' }, other), Code.NotFound);
    const off = await c.detachFloatingIp({ ...at, server: 'gw-act' }, a);
    assert.deepEqual([off.changed, off.detached], [true, [address]]);
    assert.deepEqual(
      off.floatingIps.map((f) => [f.floatingIpAddress, f.attached, f.location?.cloud]),
      [[address, false, 'idp']],
    );
    assert.equal((await c.detachFloatingIp({ ...at, server: 'gw-act' }, a)).changed, false);
    const reused = await c.createFloatingIp({ ...at, server: 'gw-act', reuse: true }, a);
    assert.deepEqual([reused.changed, reused.floatingIp?.floatingIpAddress], [true, address]);
    // The address is on gw-act: asking for it on another server is refused, not a silent move.
    const spare = { spec: { ...at, name: 'gw-act2', image: 'cirros-*', flavor: 'm1.tiny', wait: true } };
    const second = (await c.createServer(spare, a)).server;
    try {
      const taken = await rejects(
        c.createFloatingIp({ ...at, server: 'gw-act2', floatingIpAddress: address }, a),
        Code.FailedPrecondition,
      );
      assert.match(taken.rawMessage, /detach it first/);
    } finally {
      await c.deleteServer({ filter: { nameOrId: second?.id ?? '' }, wait: true }, a);
    }
    const purged = await c.detachFloatingIp({ ...at, server: 'gw-act', purge: true }, a);
    assert.deepEqual(purged.detached, [address]);
    const left = await c.listFloatingIps({ filter: { location: { clouds: ['idp'] } } }, a);
    assert.ok(!left.floatingIps.some((f) => f.floatingIpAddress === address));
    // Without a server, onto a port of it at once (openstacksdk's create_floating_ip(port=...)).
    const ports = await c.listPorts(
      { filter: { location: { clouds: ['idp'] }, attributes: { device_id: serverId } } },
      a,
    );
    const port = ports.ports[0];
    assert.ok(port, 'gw-act has a port');
    const onPort = await c.createFloatingIp({ ...at, network: 'public', port: port.id }, a);
    assert.deepEqual(
      [onPort.changed, onPort.floatingIp?.attached, onPort.floatingIp?.port, onPort.floatingIp?.fixedIpAddress],
      [true, true, port.id, port.fixedIps[0]?.ipAddress],
    );
    assert.equal((await c.deleteFloatingIp(onIdp(onPort.floatingIp?.id ?? ''), a)).deleted, true);

    const loose = await c.createFloatingIp({ ...at, network: 'public' }, a);
    assert.deepEqual([loose.changed, loose.floatingIp?.attached], [true, false]);
    const looseAddress = loose.floatingIp?.floatingIpAddress ?? '';
    assert.equal((await c.deleteFloatingIp(onIdp(looseAddress), other)).deleted, false);
    assert.equal((await c.deleteFloatingIp(onIdp(looseAddress), a)).deleted, true);
    assert.equal((await c.deleteFloatingIp(onIdp(looseAddress), a)).deleted, false);
  });

  it('containers and objects: pages by marker per cloud, present once, emptied and deleted once', async () => {
    const c = env.client;
    const a = env.auth;
    const made = await c.createContainer({ ...at, name: 'gw-c1', metadata: { owner: 'ci' } }, a);
    assert.deepEqual(
      [made.changed, made.container?.metadata.owner, made.container?.location?.cloud],
      [true, 'ci', 'idp'],
    );
    assert.equal((await c.createContainer({ ...at, name: 'gw-c1', metadata: { owner: 'ci' } }, a)).changed, false);
    const re = await c.createContainer({ ...at, name: 'gw-c1', metadata: { owner: 'ops' } }, a);
    assert.deepEqual([re.changed, re.container?.metadata.owner], [true, 'ops']);
    assert.equal((await c.createContainer({ ...at, name: 'gw-c2' }, a)).changed, true);

    const session = createSession(env.config.getCloud('idp')); // the demo user's own login: the same project
    const swift = new ObjectStoreClient(session.client('object-store'));
    try {
      for (const n of ['a1', 'a2', 'a3', 'a4', 'a5', 'b1']) await swift.putObject('gw-c1', n, Buffer.from(n));
      await swift.putObject('gw-c1', 'm1', Buffer.from('meta'), { contentType: 'text/plain', metadata: { tag: 'x' } });
    } finally {
      await session.close();
    }
    const page = (marker: string) =>
      c
        .listObjects({ ...at, container: 'gw-c1', prefix: 'a', marker, limit: 2 }, a)
        .then((r) => [r.objects.map((o) => o.name), r.nextMarker]);
    assert.deepEqual(await page(''), [['a1', 'a2'], 'a2']);
    assert.deepEqual(await page('a2'), [['a3', 'a4'], 'a4']);
    assert.deepEqual(await page('a4'), [['a5'], '']);
    const all = await c.listObjects({ ...at, container: 'gw-c1' }, a);
    assert.deepEqual(
      all.objects.map((o) => [o.name, o.bytes, o.location?.cloud]),
      [...['a1', 'a2', 'a3', 'a4', 'a5', 'b1'].map((n) => [n, 2n, 'idp']), ['m1', 4n, 'idp']],
    );
    assert.deepEqual(
      all.objects.map((o) => o.metadata),
      all.objects.map(() => ({})),
      'listings carry no metadata',
    );
    await rejects(c.listObjects({ ...at, container: 'gw-no-such' }, a), Code.NotFound);
    // One container's or object's HEAD, with the metadata listings leave out; NOT_FOUND when missing.
    const head = (await c.getContainer({ ...at, name: 'gw-c1' }, a)).container;
    assert.deepEqual([head?.count, head?.metadata.owner, head?.location?.cloud], [7n, 'ops', 'idp']);
    await rejects(c.getContainer({ ...at, name: 'gw-no-such' }, a), Code.NotFound);
    await rejects(c.getContainer({ ...at, name: 'gw-c1' }, other), Code.NotFound);
    const meta = (await c.getObjectMetadata({ ...at, container: 'gw-c1', name: 'm1' }, a)).object;
    assert.deepEqual(
      [meta?.bytes, meta?.contentType, meta?.metadata.tag, meta?.container],
      [4n, 'text/plain', 'x', 'gw-c1'],
    );
    await rejects(c.getObjectMetadata({ ...at, container: 'gw-c1', name: 'none' }, a), Code.NotFound);
    await rejects(c.getObjectMetadata({ ...at, container: 'gw-no-such', name: 'm1' }, a), Code.NotFound);

    const first = await c.listContainers({ location: { clouds: ['idp'] }, prefix: 'gw-c', limit: 1 }, a);
    assert.deepEqual(
      [first.containers.map((x) => x.name), first.next.map((n) => [n.location?.cloud, n.marker])],
      [['gw-c1'], [['idp', 'gw-c1']]],
    );
    const second = await c.listContainers(
      { location: { clouds: ['idp'] }, prefix: 'gw-c', marker: 'gw-c1', limit: 1 },
      a,
    );
    assert.deepEqual([second.containers.map((x) => [x.name, x.count]), second.next], [[['gw-c2', 0n]], []]);
    // The other user's project holds no such containers, and cannot delete them.
    const theirs = await c.listContainers({ location: { clouds: ['idp'] }, prefix: 'gw-c' }, other);
    assert.deepEqual(theirs.containers, []);
    assert.equal((await c.deleteContainer({ ...at, name: 'gw-c2' }, other)).deleted, false);

    // Swift refuses to delete a container with objects (409): FAILED_PRECONDITION unless delete_objects.
    await rejects(c.deleteContainer({ ...at, name: 'gw-c1' }, a), Code.FailedPrecondition);
    assert.equal((await c.deleteObject({ ...at, container: 'gw-c1', name: 'b1' }, a)).deleted, true);
    assert.equal((await c.deleteObject({ ...at, container: 'gw-c1', name: 'b1' }, a)).deleted, false);
    assert.equal((await c.deleteContainer({ ...at, name: 'gw-c1', deleteObjects: true }, a)).deleted, true);
    assert.equal((await c.deleteContainer({ ...at, name: 'gw-c1' }, a)).deleted, false);
    assert.equal((await c.deleteContainer({ ...at, name: 'gw-c2' }, a)).deleted, true);
  });

  // Last of the server's tests: a snapshot leaves the server busy (task_state image_snapshot) for a moment.
  it("a snapshot of the server (Nova's createImage): waited for until active; the other user cannot take one", async () => {
    const snap = await env.client.createImageSnapshot(
      {
        filter: { nameOrId: 'gw-act', location: { clouds: ['idp'] } },
        name: 'gw-snap',
        metadata: { from: 'ci' },
        wait: true,
        timeoutSeconds: 30,
      },
      env.auth,
    );
    assert.deepEqual([snap.image?.name, snap.image?.status, snap.image?.location?.cloud], ['gw-snap', 'active', 'idp']);
    await rejects(
      env.client.createImageSnapshot(
        { filter: { nameOrId: serverId, location: { clouds: ['idp'] } }, name: 'x' },
        other,
      ),
      Code.NotFound,
    );
    assert.equal(
      (
        await env.client.deleteImage(
          { filter: { nameOrId: snap.image?.id ?? '', location: { clouds: ['idp'] } } },
          env.auth,
        )
      ).deleted,
      true,
    );
  });
});
