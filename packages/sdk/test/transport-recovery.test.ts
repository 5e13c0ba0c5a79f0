// A cloud that hangs and then recovers: the same Session must answer the next call once the hang is gone, whether
// the hang hit a list call on a warmed-up endpoint, the first version discovery or the first login. Nothing that
// hung may be kept (a pooled socket, a shared discovery or login) for later calls to queue behind.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MemoryTokenCache } from '../src/auth/index.ts';
import type { CloudConfig } from '../src/config/types.ts';
import { ErrorCode } from '../src/errors/index.ts';
import { ComputeClient, collect } from '../src/services/index.ts';

import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';
import { rejectsWith } from './assert-errors.ts';

interface Held {
  path: string;
  res: ServerResponse;
  socketClosed: Promise<void>;
}

/**
 * A tiny Keystone v3 + Nova on one loopback port. `hold(path)` makes requests to that path wait unanswered
 * (a hung service) until `release()` answers them or the client goes away; `onHeld()` resolves when one arrives.
 */
class HangingCloud {
  server!: Server;
  url = '';
  readonly hits = new Map<string, number>();
  readonly held: Held[] = [];
  #holding = new Set<string>();
  #sockets = new Set<Socket>();
  #waiters: Array<(h: Held) => void> = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.#handle(req, res));
    this.server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  hold(path: string): void {
    this.#holding.add(path);
  }
  stopHolding(): void {
    this.#holding.clear();
  }
  onHeld(): Promise<Held> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  /** Answer the held requests whose client is still there. */
  release(): void {
    for (const h of this.held.splice(0)) if (!h.res.destroyed) this.#answer(h.path, h.res);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    req.resume();
    req.on('end', () => {
      if (this.#holding.has(path)) {
        const socketClosed = new Promise<void>((resolve) => {
          if (req.socket.destroyed) resolve();
          else req.socket.once('close', () => resolve());
        });
        const h = { path, res, socketClosed };
        this.held.push(h);
        for (const w of this.#waiters.splice(0)) w(h);
        return;
      }
      this.#answer(path, res);
    });
  }

  #answer(path: string, res: ServerResponse): void {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (path === '/v3/auth/tokens') {
      const now = Date.now();
      json(
        201,
        {
          token: {
            methods: ['password'],
            user: { id: 'u-demo', name: 'demo', domain: { id: 'default', name: 'Default' } },
            project: { id: 'p-demo', name: 'demo', domain: { id: 'default', name: 'Default' } },
            roles: [{ id: 'r-member', name: 'member' }],
            issued_at: new Date(now).toISOString(),
            expires_at: new Date(now + 3_600_000).toISOString(),
            catalog: [
              {
                type: 'identity',
                name: 'keystone',
                id: 's-id',
                endpoints: [{ id: 'e1', interface: 'public', region: 'RegionOne', url: `${this.url}/v3` }],
              },
              {
                type: 'compute',
                name: 'nova',
                id: 's-nova',
                endpoints: [{ id: 'e2', interface: 'public', region: 'RegionOne', url: `${this.url}/compute/v2.1` }],
              },
            ],
          },
        },
        { 'x-subject-token': `tok-${now}-${Math.random().toString(36).slice(2)}` },
      );
      return;
    }
    if (path === '/compute/v2.1/' || path === '/compute/v2.1') {
      json(200, {
        version: {
          id: 'v2.1',
          status: 'CURRENT',
          version: '2.90',
          min_version: '2.1',
          links: [{ rel: 'self', href: `${this.url}/compute/v2.1/` }],
        },
      });
      return;
    }
    if (path === '/compute/v2.1/flavors/detail') {
      json(200, { flavors: [{ id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 }] });
      return;
    }
    json(404, { itemNotFound: { code: 404, message: `no route ${path}` } });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const FLAVORS = '/compute/v2.1/flavors/detail';
const VERSION_DOC = '/compute/v2.1/';
const TOKENS = '/v3/auth/tokens';

describe('transport/session: a cloud that stops hanging answers the next call', { timeout: 60_000 }, () => {
  let cloud: HangingCloud;
  let session: Session;
  let nova: ComputeClient;

  before(async () => {
    cloud = new HangingCloud();
    await cloud.start();
  });
  after(async () => {
    await cloud.close();
  });

  function open(): void {
    const config: CloudConfig = {
      name: 'hangs',
      regionName: 'RegionOne',
      regions: ['RegionOne'],
      authType: 'password',
      auth: {
        auth_url: `${cloud.url}/v3`,
        username: 'demo',
        password: 'demo-secret',
        user_domain_name: 'Default',
        project_name: 'demo',
        project_domain_name: 'Default',
      },
      interface: 'public',
      identityApiVersion: '3',
      services: {},
      verify: true,
      extra: {},
    };
    // One connection per origin and one call at a time: a socket or a concurrency slot kept by a hung request would
    // make every later call queue behind it.
    session = createSession(config, {
      tokenCache: new MemoryTokenCache(),
      transportOptions: { connectionsPerOrigin: 1, rateLimits: { '*': { concurrency: 1 } } },
    });
    nova = new ComputeClient(session.client('compute'));
  }

  beforeEach(async () => {
    cloud.stopHolding();
    cloud.release();
    cloud.hits.clear();
    await session?.close();
    open();
  });

  /** Start a list call, wait until the server holds its request, then cancel it. */
  async function cancelWhileHeld(path: string): Promise<Held> {
    cloud.hold(path);
    const ac = new AbortController();
    const call = collect(nova.listFlavors({ signal: ac.signal }));
    const held = await cloud.onHeld();
    assert.equal(held.path, path);
    ac.abort();
    await rejectsWith(call, ErrorCode.CANCELLED);
    return held;
  }

  it('a list call that hung on a warmed-up endpoint: its socket is closed and the next call answers', async () => {
    assert.equal((await collect(nova.listFlavors())).length, 1);
    const held = await cancelWhileHeld(FLAVORS);
    await held.socketClosed; // the aborted request's connection is destroyed, not kept in the pool
    // Timed out by the deadline this time (the transport's own timer), not by the caller's signal.
    await rejectsWith(collect(nova.listFlavors({ timeoutMs: 200 })), ErrorCode.TIMEOUT);
    const timedOut = cloud.held.at(-1);
    assert.ok(timedOut);
    await timedOut.socketClosed;
    cloud.stopHolding();
    const flavors = await collect(nova.listFlavors({ timeoutMs: 10_000 }));
    assert.deepEqual(
      flavors.map((f) => f.name),
      ['m1.tiny'],
    );
  });

  it('a hang during the first discovery is not kept: after it clears the next call discovers afresh', async () => {
    const held = await cancelWhileHeld(VERSION_DOC);
    cloud.stopHolding();
    const flavors = await collect(nova.listFlavors({ timeoutMs: 10_000 }));
    assert.deepEqual(
      flavors.map((f) => f.name),
      ['m1.tiny'],
    );
    assert.equal(cloud.hits.get(VERSION_DOC), 2, 'the version document was asked for again');
    // The abandoned discovery's request was aborted too: nothing is left waiting on the hung server.
    await held.socketClosed;
  });

  it('a hang during the first login is not kept: after it clears the next call logs in afresh', async () => {
    const held = await cancelWhileHeld(TOKENS);
    cloud.stopHolding();
    const flavors = await collect(nova.listFlavors({ timeoutMs: 10_000 }));
    assert.equal(flavors.length, 1);
    assert.equal(cloud.hits.get(TOKENS), 2, 'a new login was made');
    await held.socketClosed;
  });

  it('one caller giving up does not cancel a shared discovery another caller still waits for', async () => {
    cloud.hold(VERSION_DOC);
    const quitter = new AbortController();
    const first = nova.http.version({ signal: quitter.signal });
    const second = nova.http.version({ timeoutMs: 10_000 });
    await cloud.onHeld();
    quitter.abort();
    await rejectsWith(first, ErrorCode.CANCELLED);
    cloud.stopHolding();
    cloud.release(); // the hung server answers the shared request at last
    const v = await second;
    assert.equal(v.maxMicroversion, '2.90');
    assert.equal(cloud.hits.get(VERSION_DOC), 1, 'one discovery request, shared');
  });

  it('once every caller of a hung discovery gave up, a later caller does not join it', async () => {
    cloud.hold(VERSION_DOC);
    const a = new AbortController();
    const b = new AbortController();
    const first = nova.http.version({ signal: a.signal });
    const second = nova.http.version({ signal: b.signal });
    const held = await cloud.onHeld();
    a.abort();
    await rejectsWith(first, ErrorCode.CANCELLED);
    b.abort();
    await rejectsWith(second, ErrorCode.CANCELLED);
    await held.socketClosed;
    cloud.stopHolding();
    assert.equal((await nova.http.version({ timeoutMs: 10_000 })).maxMicroversion, '2.90');
    assert.equal(cloud.hits.get(VERSION_DOC), 2);
  });
});
