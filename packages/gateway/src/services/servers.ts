/** CloudService server RPCs: Create/Delete/Get/List, WaitForServer and CreateServerStream through the shared watch, WatchServers. */
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { type Connection, filterList, OcxError, type Server } from '@ocx/sdk';
import {
  type CloudService,
  WatchServersResponse_EventType as EventType,
  type ServerSpec,
} from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import type { Filter } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import { guardStream } from '../auth/stream-guard.ts';
import {
  attrFilters,
  callerOf,
  cloudAt,
  findOne,
  type GatewayDeps,
  listAcross,
  notFound,
  type Scope,
  scopeFor,
} from '../context.ts';
import { toServer } from '../convert.ts';
import { cloudFailure, invalidArgument, toConnectError } from '../errors.ts';
import type { ServerEvent, ServerWatchHub } from '../watch/hub.ts';
import { EventQueue } from '../watch/queue.ts';
import { waitThroughHub } from '../watch/wait.ts';

type Impl = Partial<ServiceImpl<typeof CloudService>>;

const DEFAULT_WAIT_MS = 180_000;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function waitBudget(ctx: HandlerContext, seconds: number): number {
  const asked = seconds > 0 ? seconds * 1000 : DEFAULT_WAIT_MS;
  const left = ctx.timeoutMs();
  return left === undefined ? asked : Math.min(asked, left);
}

async function scopeOfSpec(deps: GatewayDeps, ctx: HandlerContext, spec: ServerSpec | undefined) {
  if (!spec?.name) throw invalidArgument('spec.name is required');
  if (!spec.flavor) throw invalidArgument('spec.flavor is required');
  if (!spec.image) throw invalidArgument('spec.image is required');
  return { conn: await cloudAt(deps, ctx, spec.location), spec };
}

async function boot(conn: Connection, spec: ServerSpec, signal: AbortSignal): Promise<Server> {
  return conn.cloudLayer.createServer({
    name: spec.name,
    image: spec.image,
    flavor: spec.flavor,
    network: spec.networks.length ? [...spec.networks] : undefined,
    keyName: spec.keyName || undefined,
    metadata: Object.keys(spec.metadata).length ? { ...spec.metadata } : undefined,
    userdata: spec.userdata || undefined,
    securityGroups: spec.securityGroups.length ? [...spec.securityGroups] : undefined,
    availabilityZone: spec.availabilityZone || undefined,
    configDrive: spec.configDrive || undefined,
    wait: false,
    signal,
  });
}

async function findServer(scope: Scope, filter: Filter | undefined) {
  const key = filter?.nameOrId ?? '';
  if (!key) throw invalidArgument('filter.name_or_id is required');
  return {
    key,
    got: await findOne(scope, 'server', key, async (conn) => {
      // By id: one direct GET per cloud (a server created moments ago may not be in a cached list yet).
      if (UUID.test(key) && !attrFilters(filter)) {
        const one = await conn.cloudLayer.getServerById(key);
        return one ? [one] : [];
      }
      return conn.cloudLayer.searchServers(key, attrFilters(filter));
    }),
  };
}

function matches(server: Server, filter: Filter | undefined): boolean {
  return filterList([server], filter?.nameOrId || undefined, attrFilters(filter)).length > 0;
}

export function serverHandlers(deps: GatewayDeps, hub: ServerWatchHub): Impl {
  return {
    async listServers(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchServers(req.filter?.nameOrId || undefined, attrFilters(req.filter), {
          allProjects: req.allProjects,
        }),
      );
      return { servers: items.map(toServer), failures: failures.map(cloudFailure) };
    },

    async getServer(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { key, got } = await findServer(scope, req.filter);
      if (!got.item) throw notFound('server', key, got.failures);
      return { server: toServer(got.item) };
    },

    async createServer(req, ctx) {
      const { conn, spec } = await scopeOfSpec(deps, ctx, req.spec);
      try {
        let server = await boot(conn, spec, ctx.signal);
        if (spec.wait) {
          const created = server;
          ({ server } = await waitThroughHub(hub, [conn], server.id, {
            timeoutMs: waitBudget(ctx, spec.timeoutSeconds),
            signal: ctx.signal,
            autoIp: spec.autoIp,
          }));
          if (created.admin_password) server = { ...server, admin_password: created.admin_password };
        }
        return { server: toServer(server) };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async *createServerStream(req, ctx) {
      const { conn, spec } = await scopeOfSpec(deps, ctx, req.spec);
      const queue = new EventQueue<{ server: Server; done: boolean } | { error: unknown }>();
      let created: Server;
      try {
        created = await boot(conn, spec, ctx.signal);
      } catch (err) {
        throw toConnectError(err);
      }
      yield { server: toServer(created), done: false };
      const guard = guardStream(deps.validator, callerOf(ctx), ctx.signal, deps.streamRecheckMs);
      waitThroughHub(hub, [conn], created.id, {
        timeoutMs: waitBudget(ctx, spec.timeoutSeconds),
        signal: guard.signal,
        autoIp: spec.autoIp,
        onChange: (server) => queue.push({ server, done: false }),
      }).then(
        ({ server }) => {
          queue.push({ server, done: true });
          queue.close();
        },
        (error: unknown) => {
          queue.push({ error });
          queue.close();
        },
      );
      try {
        for await (const item of queue.drain(guard.signal)) {
          guard.check();
          if ('error' in item) throw toConnectError(item.error);
          yield { server: toServer(item.server), done: item.done };
        }
        guard.check();
      } finally {
        guard.dispose();
      }
    },

    async deleteServer(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { got } = await findServer(scope, req.filter);
      if (!got.item) return { deleted: false };
      try {
        const deleted = await got.conn.cloudLayer.deleteServer(
          { id: got.item.id },
          {
            wait: req.wait,
            deleteIps: req.deleteIps,
            timeoutMs: waitBudget(ctx, req.timeoutSeconds),
            signal: ctx.signal,
          },
        );
        return { deleted };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async waitForServer(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const key = req.filter?.nameOrId ?? '';
      if (!key) throw invalidArgument('filter.name_or_id is required');
      const lookup = async () => {
        const { got } = await findServer(scope, req.filter);
        if (!got.item) throw notFound('server', key, got.failures);
        return got.conn;
      };
      try {
        const opts = { timeoutMs: waitBudget(ctx, req.timeoutSeconds), signal: ctx.signal, autoIp: req.autoIp };
        // By id: straight from the watches of the selected clouds (no per-server call unless no snapshot has it).
        // By name or with attribute filters: one lookup first.
        if (UUID.test(key) && !attrFilters(req.filter)) {
          const { server } = await waitThroughHub(hub, scope.multi.connections(), key, { ...opts, lookup });
          return { server: toServer(server) };
        }
        const { got } = await findServer(scope, req.filter);
        if (!got.item) throw notFound('server', key, got.failures);
        const { server } = await waitThroughHub(hub, [got.conn], got.item.id, opts);
        return { server: toServer(server) };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async *watchServers(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const guard = guardStream(deps.validator, callerOf(ctx), ctx.signal, deps.streamRecheckMs);
      const queue = new EventQueue<ServerEvent>();
      const stops: (() => void)[] = [];
      const conns = scope.multi.connections();
      // Clouds that could not even be set up are reported once, up front.
      for (const f of scope.multi.connectFailures)
        if (!conns.some((c) => c.name === f.name)) queue.push({ type: 'FAILED', failure: f });
      let pendingSync = conns.length;
      if (pendingSync === 0) queue.push({ type: 'SYNCED' });
      try {
        for (const conn of conns) {
          const stop = await hub
            .subscribe(
              conn,
              (events) => {
                for (const ev of events) {
                  if (ev.type === 'SYNCED') {
                    pendingSync--;
                    if (pendingSync === 0) queue.push(ev);
                  } else if (ev.type === 'FAILED' || matches(ev.server, req.filter)) queue.push(ev);
                }
              },
              guard.signal,
            )
            .catch((err: unknown) => {
              queue.push({
                type: 'FAILED',
                failure: {
                  cloud: conn.cloud,
                  region: conn.region,
                  name: conn.name,
                  error: OcxError.from(err, { cloud: conn.cloud, region: conn.region }),
                  durationMs: 0,
                },
              });
              pendingSync--;
              if (pendingSync === 0) queue.push({ type: 'SYNCED' });
              return () => undefined;
            });
          stops.push(stop);
        }
        for await (const ev of queue.drain(guard.signal)) {
          guard.check();
          if (ev.type === 'SYNCED') yield { type: EventType.SYNCED };
          else if (ev.type === 'FAILED') yield { type: EventType.FAILED, failure: cloudFailure(ev.failure) };
          else yield { type: EventType[ev.type], server: toServer(ev.server) };
        }
        guard.check();
      } finally {
        for (const stop of stops) stop();
        guard.dispose();
      }
    },
  };
}
