/**
 * Server push: one poller per (cloud, region, project), shared by every watcher and waiter of that project,
 * however many there are, and none while nobody watches. The first poll lists the servers (one Nova list, plus
 * Neutron only where an ACTIVE server may have a floating IP Nova has not shown); every later poll is one Nova
 * `GET /servers/detail?changes-since=…`, whose servers are used as they are: only those whose record differs from
 * the last one seen are normalized (Neutron asked about them alone) and sent as ADDED / MODIFIED, and Nova's
 * DELETED records become DELETED events. A watcher that joins later gets the current servers as ADDED, then changes.
 * What Nova's `updated` does not move (a floating IP attached later) shows with the server's next change.
 * A cloud this gateway reaches through another OCX gateway is not polled: one WatchServers stream to that gateway
 * per (cloud, region, project) feeds the same events (push end to end), reopened an interval after it fails.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CallFailure,
  type Connection,
  collect,
  GatewayCloud,
  type NovaServer,
  OcxError,
  type Server,
} from '@ocx/sdk';

export type ServerEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; server: Server }
  | { type: 'FAILED'; failure: CallFailure }
  | { type: 'SYNCED' };

export type Listener = (events: ServerEvent[]) => void;

export interface HubOptions {
  /** Pause between polls of one project (ms). Default 2000. */
  intervalMs?: number | undefined;
  /** changes-since looks this far behind the previous poll's start, for clock skew (ms). Default 2000. */
  overlapMs?: number | undefined;
  /** Budget of one poll (ms). Default 30000. */
  pollTimeoutMs?: number | undefined;
}

interface Subscriber {
  listener: Listener;
  synced: boolean;
}

/** Nova's changes-since wants ISO 8601 without fractions. */
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What decides whether a server "changed" for watchers. */
function signature(s: Server): string {
  return JSON.stringify([
    s.status,
    s.task_state,
    s.vm_state,
    s.progress,
    s.addresses,
    s.interface_ip,
    s.metadata,
    s.name,
    s.updated,
  ]);
}

class Poller {
  readonly subscribers = new Set<Subscriber>();
  /** By id: the normalized server, its signature, and the Nova record it came from (to skip unchanged ones). */
  readonly servers = new Map<string, { server: Server; sig: string; raw: string }>();
  conn: Connection;
  polls = 0;
  lists = 0;
  #since: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;
  #streaming = false;
  readonly #stopping = new AbortController();
  readonly #opts: Required<HubOptions>;
  readonly #onIdle: () => void;

  constructor(conn: Connection, opts: Required<HubOptions>, onIdle: () => void) {
    this.conn = conn;
    this.#opts = opts;
    this.#onIdle = onIdle;
  }

  add(sub: Subscriber): void {
    this.subscribers.add(sub);
    if (this.#since !== undefined) {
      // Already synced: this subscriber gets the current state now; changes follow with everyone else's.
      sub.synced = true;
      sub.listener([...this.servers.values()].map((v) => ({ type: 'ADDED' as const, server: v.server })).concat([]));
      sub.listener([{ type: 'SYNCED' }]);
    }
    if (this.conn.cloudLayer instanceof GatewayCloud) {
      if (!this.#streaming) void this.#stream();
    } else if (!this.#running && !this.#timer) this.#schedule(0);
  }

  remove(sub: Subscriber): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) this.stop();
  }

  stop(): void {
    this.#stopped = true;
    this.#stopping.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onIdle();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, ms);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    this.#running = true;
    const started = Date.now();
    const signal = AbortSignal.timeout(this.#opts.pollTimeoutMs);
    try {
      this.polls++;
      if (this.#since === undefined) {
        this.lists++;
        await this.#apply(await collect(this.conn.compute.listServers({ signal })), true, signal);
      } else {
        const query = { 'changes-since': iso(this.#since - this.#opts.overlapMs) };
        await this.#apply(await collect(this.conn.compute.listServers({ query, signal })), false, signal);
      }
      this.#since = started;
    } catch (err) {
      this.#fail(err, started);
    } finally {
      this.#running = false;
      if (this.subscribers.size > 0) this.#schedule(this.#opts.intervalMs);
    }
  }

  #fail(err: unknown, started: number): void {
    const error = OcxError.from(err, { cloud: this.conn.cloud, region: this.conn.region });
    const failure: CallFailure = {
      cloud: this.conn.cloud,
      region: this.conn.region,
      name: this.conn.name,
      error,
      durationMs: Date.now() - started,
    };
    for (const s of this.subscribers) s.listener([{ type: 'FAILED', failure }]);
  }

  /** The other gateway's WatchServers as this poller's events: one stream, however many watch here. */
  async #stream(): Promise<void> {
    this.#streaming = true;
    try {
      while (!this.#stopped) {
        const started = Date.now();
        const current = new Map<string, Server>();
        let synced = false;
        this.polls++;
        try {
          const layer = this.conn.cloudLayer as GatewayCloud;
          for await (const ev of layer.watchServers({ signal: this.#stopping.signal })) {
            if (ev.type === 'FAILED') {
              this.#fail(ev.error, started);
              continue;
            }
            if (ev.type === 'SYNCED') synced = true;
            else if (ev.type === 'DELETED') current.delete(ev.server.id);
            else current.set(ev.server.id, ev.server);
            if (synced) {
              this.#emit([...current.values()], true);
              this.#since = Date.now();
            }
          }
        } catch (err) {
          if (this.#stopped) break;
          this.#fail(err, started);
        }
        await sleep(this.#opts.intervalMs, undefined, { signal: this.#stopping.signal, ref: false }).catch(
          () => undefined,
        );
      }
    } finally {
      this.#streaming = false;
    }
  }

  /**
   * Diff Nova records into events. `whole`: the list of every server (the first poll; servers missing from it are
   * gone); otherwise a changes-since delta, where gone servers come as DELETED records.
   */
  async #apply(raw: NovaServer[], whole: boolean, signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, string>();
    const changed: NovaServer[] = [];
    const gone = new Set<string>();
    for (const r of raw) {
      if (r.status === 'DELETED') {
        gone.add(r.id);
        continue;
      }
      const key = JSON.stringify(r);
      fresh.set(r.id, key);
      if (this.servers.get(r.id)?.raw !== key) changed.push(r);
    }
    if (whole) for (const id of this.servers.keys()) if (!fresh.has(id)) gone.add(id);
    // Everything that can fail comes before the state changes: a failed poll is retried from the same state.
    const expanded = await this.conn.cloudLayer.expandServers(changed, { signal });
    this.#emit(expanded, false, gone, fresh);
  }

  /**
   * Servers (normalized) into events for everyone. `whole`: the list of every server (missing ones are gone);
   * otherwise only those that changed, plus the ids of the gone ones. `raw`: the Nova record each came from.
   */
  #emit(list: Server[], whole: boolean, gone = new Set<string>(), raw = new Map<string, string>()): void {
    if (whole) {
      const seen = new Set(list.map((s) => s.id));
      for (const id of this.servers.keys()) if (!seen.has(id)) gone.add(id);
    }
    const events: ServerEvent[] = [];
    for (const id of gone) {
      const prev = this.servers.get(id);
      if (!prev) continue;
      this.servers.delete(id);
      events.push({ type: 'DELETED', server: { ...prev.server, status: 'DELETED' } });
    }
    for (const server of list) {
      const sig = signature(server);
      const prev = this.servers.get(server.id);
      if (!prev) events.push({ type: 'ADDED', server });
      else if (prev.sig !== sig) events.push({ type: 'MODIFIED', server });
      this.servers.set(server.id, { server, sig, raw: raw.get(server.id) ?? '' });
    }
    for (const s of this.subscribers) {
      if (!s.synced) {
        s.synced = true;
        s.listener([...this.servers.values()].map((v) => ({ type: 'ADDED' as const, server: v.server })));
        s.listener([{ type: 'SYNCED' }]);
      } else if (events.length > 0) s.listener(events);
    }
  }
}

export class ServerWatchHub {
  readonly #pollers = new Map<string, Poller>();
  readonly #opts: Required<HubOptions>;
  /** Polls made by pollers that have stopped (stats). */
  #retiredPolls = 0;

  constructor(opts: HubOptions = {}) {
    this.#opts = {
      intervalMs: opts.intervalMs ?? 2000,
      overlapMs: opts.overlapMs ?? 2000,
      pollTimeoutMs: opts.pollTimeoutMs ?? 30_000,
    };
  }

  /** Watch the servers of `conn`'s project. The listener gets batches of events; call the result to stop. */
  async subscribe(conn: Connection, listener: Listener, signal?: AbortSignal): Promise<() => void> {
    const access = await conn.session.getAccess({ signal });
    const key = JSON.stringify([conn.cloud, conn.region, access.project?.id ?? access.user.id]);
    let poller = this.#pollers.get(key);
    if (!poller) {
      const p = new Poller(conn, this.#opts, () => {
        if (this.#pollers.get(key) === p) {
          this.#pollers.delete(key);
          this.#retiredPolls += p.polls;
        }
      });
      poller = p;
      this.#pollers.set(key, p);
    }
    poller.conn = conn; // the newest caller's token: the one least likely to expire soon
    const sub: Subscriber = { listener, synced: false };
    poller.add(sub);
    const owner = poller;
    return () => owner.remove(sub);
  }

  /**
   * How many project pollers run, and how many Nova list calls all pollers have made (for a cloud behind another
   * gateway: how many WatchServers streams they opened there).
   */
  stats(): { pollers: number; polls: number } {
    let polls = this.#retiredPolls;
    for (const p of this.#pollers.values()) polls += p.polls;
    return { pollers: this.#pollers.size, polls };
  }

  close(): void {
    for (const p of [...this.#pollers.values()]) p.stop();
  }
}
