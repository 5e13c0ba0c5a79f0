/**
 * Server push: WatchServers streams ADDED / MODIFIED / DELETED with the whole server, and however many watch a
 * project, the gateway polls that (cloud, project) once per interval: the Nova list requests devcloud receives are
 * exactly the shared poller's, and after the first one only `changes-since` polls. CreateServerStream streams progress until ACTIVE.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createSession } from '@ocx/sdk';
import {
  WatchServersResponse_EventType as EventType,
  type WatchServersResponse,
} from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { type Env, startEnv } from './helpers.ts';

interface Watch {
  events: WatchServersResponse[];
  until(pred: (ev: WatchServersResponse) => boolean, what: string): Promise<WatchServersResponse>;
  stop(): void;
  done: Promise<void>;
}

function watch(env: Env, clouds: string[], nameOrId = ''): Watch {
  const ac = new AbortController();
  const events: WatchServersResponse[] = [];
  let notify = () => {};
  const done = (async () => {
    try {
      for await (const ev of env.client.watchServers(
        { filter: { location: { clouds }, nameOrId } },
        { ...env.auth, signal: ac.signal },
      )) {
        events.push(ev);
        notify();
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  return {
    events,
    done,
    stop: () => ac.abort(),
    async until(pred, what) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) assert.fail(`no ${what} event within 20 s`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

describe('gateway: server push', { timeout: 120_000 }, () => {
  let env: Env;
  let sp1Port: number;
  const novaLists: string[] = [];
  const onRequest = (msg: unknown) => {
    const req = (msg as { request: IncomingMessage }).request;
    if (req.socket.localPort === sp1Port && req.method === 'GET' && /\/servers\/detail/.test(req.url ?? '')) {
      novaLists.push(req.url ?? '');
    }
  };
  before(async () => {
    env = await startEnv({ watchIntervalMs: 100 });
    sp1Port = env.dc.clouds.find((c) => c.name === 'sp1')?.port ?? 0;
    subscribe('http.server.request.start', onRequest);
  });
  after(async () => {
    unsubscribe('http.server.request.start', onRequest);
    await env?.stop();
  });

  it('five watchers of one project share one poll stream and all see ADDED, MODIFIED and DELETED', async () => {
    const watchers = Array.from({ length: 5 }, () => watch(env, ['sp1']));
    for (const w of watchers) await w.until((e) => e.type === EventType.SYNCED, 'SYNCED');
    assert.deepEqual(env.gw.hub.stats().pollers, 1);

    const created = await env.client.createServer(
      { spec: { location: { cloud: 'sp1' }, name: 'gw-watched', image: 'cirros-*', flavor: 'm1.tiny' } },
      env.auth,
    );
    const id = created.server?.id;
    for (const w of watchers) {
      const added = await w.until((e) => e.type === EventType.ADDED && e.server?.id === id, 'ADDED');
      assert.equal(added.server?.name, 'gw-watched');
      assert.equal(added.server?.location?.cloud, 'sp1');
      const active = await w.until((e) => e.server?.id === id && e.server?.status === 'ACTIVE', 'ACTIVE');
      assert.ok(active.server?.interfaceIp, 'the whole server, addresses resolved');
    }
    // A change made outside the gateway (the same project, straight to sp1's Nova) reaches every watcher.
    const direct = createSession(env.config.getCloud('sp1'));
    await direct.client('compute').put(`/servers/${id}`, { json: { server: { name: 'gw-renamed' } } });
    await direct.close();
    for (const w of watchers) {
      const renamed = await w.until(
        (e) => e.type === EventType.MODIFIED && e.server?.name === 'gw-renamed',
        'MODIFIED',
      );
      assert.equal(renamed.server?.id, id);
      assert.equal(renamed.server?.status, 'ACTIVE');
    }
    assert.equal((await env.client.deleteServer({ filter: { nameOrId: id ?? '' } }, env.auth)).deleted, true);
    for (const w of watchers) {
      const gone = await w.until((e) => e.type === EventType.DELETED && e.server?.id === id, 'DELETED');
      assert.equal(gone.server?.name, 'gw-renamed');
    }
    // Every Nova list sp1 received came from the one shared poller: one whole list when the first watcher came,
    // then only changes-since polls, whose servers carried the ADDED, MODIFIED and DELETED above (no re-list).
    const { polls, pollers } = env.gw.hub.stats();
    assert.equal(pollers, 1);
    assert.equal(novaLists.length, polls);
    assert.equal(novaLists.filter((u) => !u.includes('changes-since')).length, 1);
    assert.ok(novaLists.length > 3, `${novaLists.length} polls over the create, rename and delete`);
    for (const w of watchers) w.stop();
    await Promise.all(watchers.map((w) => w.done));
  });

  it('a watcher filtered by name sees only matching servers; CreateServerStream streams to ACTIVE', async () => {
    const w = watch(env, ['sp2'], 'gw-stream-*');
    await w.until((e) => e.type === EventType.SYNCED, 'SYNCED');
    const other = await env.client.createServer(
      { spec: { location: { cloud: 'sp2' }, name: 'gw-other', image: 'cirros-*', flavor: 'm1.tiny' } },
      env.auth,
    );
    const states: string[] = [];
    let last: { done: boolean; status: string; ip: string } | undefined;
    for await (const msg of env.client.createServerStream(
      { spec: { location: { cloud: 'sp2' }, name: 'gw-stream-1', image: 'cirros-*', flavor: 'm1.tiny' } },
      { ...env.auth, timeoutMs: 30_000 },
    )) {
      states.push(msg.server?.status ?? '');
      last = { done: msg.done, status: msg.server?.status ?? '', ip: msg.server?.interfaceIp ?? '' };
    }
    assert.equal(states[0], 'BUILD');
    assert.deepEqual(last?.done, true);
    assert.equal(last?.status, 'ACTIVE');
    assert.ok(last?.ip);
    await w.until((e) => e.server?.status === 'ACTIVE', 'ACTIVE');
    assert.ok(w.events.every((e) => e.type === EventType.SYNCED || e.server?.name === 'gw-stream-1'));
    assert.ok(!w.events.some((e) => e.server?.id === other.server?.id));
    w.stop();
    await w.done;
    for (const name of ['gw-other', 'gw-stream-1'])
      assert.equal((await env.client.deleteServer({ filter: { nameOrId: name }, wait: true }, env.auth)).deleted, true);
  });
});
