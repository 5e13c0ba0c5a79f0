import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { canonicalServiceType, serviceTypeAliases } from '../wire/service-types.ts';
import { type Closable, connectEntries, type Entry, entryName, entryWhere } from './connect-entries.ts';
import { fanOut } from './fanout.ts';
import type {
  CallFailure,
  CallOptions,
  CallOutcome,
  CloudFn,
  Connection,
  ConnectOptions,
  ItemLocation,
  ListOutcome,
  Located,
  ReachableService,
  SelectOptions,
} from './types.ts';

/**
 * Many OpenStack clouds used as one (the OCX library): a home cloud by credentials, the others by K2K through the
 * home Keystone or by their own credentials; the same operation on all or a selection in parallel, with a
 * concurrency bound and a per-cloud deadline; results tagged with their location and one failure per failed cloud.
 */
export class MultiCloud {
  readonly #entries: Entry[];
  /** Problems found while connecting (bad config, auth failures, unknown service providers), one per cloud. */
  readonly connectFailures: readonly CallFailure[];
  readonly #owned: Closable[];

  private constructor(entries: Entry[], connectFailures: CallFailure[], owned: Closable[]) {
    this.#entries = entries;
    this.connectFailures = connectFailures;
    this.#owned = owned;
  }

  /**
   * Connect a set of clouds. Never throws for a single cloud's problem: such a cloud is reported in
   * `connectFailures` (and, when it has no session at all, as a failure of every call). Throws CONFIG_INVALID only
   * when the request itself is unusable (e.g. `k2k` without a home cloud).
   */
  static async connect(opts: ConnectOptions = {}): Promise<MultiCloud> {
    const { entries, connectFailures, owned } = await connectEntries(opts);

    const multi = new MultiCloud(entries.filter(Boolean), connectFailures, owned);
    for (const e of multi.#entries) {
      if (!e.ok) connectFailures.push({ ...entryWhere(e), error: e.broken.error, durationMs: 0 });
    }
    // 4. Authenticate everything in parallel (a failure is reported, the connection stays: it may recover).
    if (opts.authenticate ?? true) {
      const live = multi.#entries.filter((e): e is { ok: true; conn: Connection } => e.ok);
      const settled = await fanOut(live, (e, ctx) => e.conn.session.getAccess({ signal: ctx.signal }), {
        concurrency: opts.concurrency,
        deadlineMs: opts.deadlineMs,
        signal: opts.signal,
        where: (e) => ({ cloud: e.conn.cloud, region: e.conn.region }),
      });
      settled.forEach((s, i) => {
        const e = live[i];
        if (!s.ok && e && !connectFailures.some((f) => f.name === e.conn.name)) {
          connectFailures.push({ ...entryWhere(e), error: s.error, durationMs: s.durationMs });
        }
      });
    }
    return multi;
  }

  /** Connection names, in order. */
  names(): string[] {
    return this.#entries.map(entryName);
  }

  /** The connections that have a session (clouds broken at connect time are not included). */
  connections(): Connection[] {
    return this.#entries.flatMap((e) => (e.ok ? [e.conn] : []));
  }

  /** One connection by connection name or cloud name (the proposal's single-service path). */
  get(name: string): Connection {
    const entry =
      this.#entries.find((e) => entryName(e) === name) ?? this.#entries.find((e) => entryWhere(e).cloud === name);
    if (!entry) {
      throw new OcxError(
        ErrorCode.NOT_FOUND,
        `no connected cloud named '${name}' (connected: ${this.names().join(', ')})`,
        {
          cloud: name,
        },
      );
    }
    if (!entry.ok) throw entry.broken.error;
    return entry.conn;
  }

  /** A view on a subset (shares the connections; closing the view closes nothing). */
  select(sel: SelectOptions): MultiCloud {
    const picked = this.#entries.filter((e) => {
      const w = entryWhere(e);
      if (sel.names && !sel.names.includes(w.name) && !sel.names.includes(w.cloud)) return false;
      if (sel.regions && !sel.regions.includes(w.region)) return false;
      const tags = e.ok ? e.conn.tags : e.broken.tags;
      if (sel.tags && !sel.tags.every((t) => tags.includes(t))) return false;
      if (sel.where && (!e.ok || !sel.where(e.conn))) return false;
      return true;
    });
    const names = new Set(picked.map(entryName));
    return new MultiCloud(
      picked,
      this.connectFailures.filter((f) => names.has(f.name)),
      [],
    );
  }

  /**
   * Call `fn` on every connection in parallel (bounded by `concurrency`), each under its own deadline. Resolves
   * when every cloud has answered, failed or run out of time; never rejects because of one cloud.
   */
  async call<T>(fn: CloudFn<T>, opts: CallOptions = {}): Promise<CallOutcome<T>> {
    const settled = await fanOut(
      this.#entries,
      async (e, ctx) => {
        if (!e.ok) throw e.broken.error;
        return fn(e.conn, e.conn.name, ctx);
      },
      { ...opts, where: (e) => ({ cloud: entryWhere(e).cloud, region: entryWhere(e).region }) },
    );
    const out: CallOutcome<T> = { results: [], failures: [] };
    settled.forEach((s, i) => {
      const where = entryWhere(this.#entries[i] as Entry);
      if (s.ok) out.results.push({ location: where, value: s.value, durationMs: s.durationMs });
      else out.failures.push({ ...where, error: s.error, durationMs: s.durationMs });
    });
    return out;
  }

  /**
   * Call a list operation everywhere and flatten: every item gets a shade-style `location` (cloud, region,
   * project from the connection's token) unless it already carries one (cloud-layer resources do).
   */
  async list<T extends object>(
    fn: (
      conn: Connection,
      cloudName: string,
      ctx: { signal: AbortSignal; deadline: number },
    ) => Promise<readonly T[]> | AsyncIterable<T>,
    opts: CallOptions = {},
  ): Promise<ListOutcome<T>> {
    const outcome = await this.call(async (conn, name, ctx) => {
      const got = fn(conn, name, ctx);
      const items: T[] = [];
      if (Symbol.asyncIterator in got) {
        for await (const item of got as AsyncIterable<T>) {
          if (ctx.signal.aborted) break;
          items.push(item);
        }
      } else items.push(...(await (got as Promise<readonly T[]>)));
      let project: ItemLocation['project'] = { id: null, name: null, domain_id: null, domain_name: null };
      try {
        const access = await conn.session.getAccess({ signal: ctx.signal });
        if (access.project) {
          project = {
            id: access.project.id,
            name: access.project.name ?? null,
            domain_id: access.project.domain?.id ?? null,
            domain_name: access.project.domain?.name ?? null,
          };
        }
      } catch {
        // the list succeeded; a missing project in the location is not worth failing it
      }
      const location: ItemLocation = { cloud: conn.cloud, region: conn.region || null, zone: null, project };
      return items.map((item) =>
        'location' in item && item.location ? (item as Located<T>) : ({ ...item, location } as Located<T>),
      );
    }, opts);
    return { items: outcome.results.flatMap((r) => r.value), failures: outcome.failures };
  }

  /**
   * What each cloud lets the user reach: the services in its catalog (for the connection's region when it has one),
   * optionally only `service` (any alias: volume, volumev3 → block-storage).
   */
  async listServices(
    opts: CallOptions & { service?: string | undefined } = {},
  ): Promise<CallOutcome<ReachableService[]>> {
    const wanted = opts.service ? canonicalServiceType(opts.service) : undefined;
    return this.call(async (conn, _name, ctx) => {
      const access = await conn.session.getAccess({ signal: ctx.signal });
      const out: ReachableService[] = [];
      for (const entry of access.catalog) {
        const type = canonicalServiceType(entry.type);
        if (wanted && type !== wanted) continue;
        const endpoints = entry.endpoints
          .filter((ep) => !conn.region || ep.region === conn.region || ep.region_id === conn.region)
          .map((ep) => ({ interface: ep.interface, region: ep.region, url: ep.url }));
        if (endpoints.length === 0) continue;
        out.push({ type, catalogType: entry.type, name: entry.name, endpoints });
      }
      // One entry per canonical type: a catalog listing volumev2 and volumev3 offers block-storage once
      // (the most preferred spelling's entry wins, as endpoint selection would pick it).
      const byType = new Map<string, ReachableService>();
      for (const svc of out) {
        const prev = byType.get(svc.type);
        const order = serviceTypeAliases(svc.type);
        if (!prev || order.indexOf(svc.catalogType) < order.indexOf(prev.catalogType)) byType.set(svc.type, svc);
      }
      return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
    }, opts);
  }

  /** Forget cached tokens (all, or the named connections): the next call authenticates again (new K2K assertion). */
  reauthenticate(names?: readonly string[]): void {
    for (const conn of this.connections()) {
      if (!names || names.includes(conn.name) || names.includes(conn.cloud)) conn.session.invalidate();
    }
  }

  /** Close every session (and gateway connection) this MultiCloud created (views made by select() own none). */
  async close(): Promise<void> {
    const sessions = this.#owned.splice(0);
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
}

/** True when every cloud failed (what the CLI uses for its exit status). */
export function allFailed(outcome: { results: readonly unknown[]; failures: readonly unknown[] }): boolean {
  return outcome.results.length === 0 && outcome.failures.length > 0;
}
