/**
 * Per-call plumbing shared by the services: the caller (validated token) from the auth interceptor, the caller's
 * clouds narrowed by a LocationFilter, per-cloud deadlines bounded by the caller's gRPC deadline, and the
 * fan-out shapes (lists with failures; exactly-one lookups).
 */
import { Code, ConnectError, createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { TokenValidator, ValidatedToken } from '@ocx/sdk';
import { type CallFailure, type Connection, ErrorCode, type FanOutContext, type MultiCloud, OcxError } from '@ocx/sdk';
import type { Filter, Location, LocationFilter } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import type { UserClouds } from './auth/user-clouds.ts';
import { toConnectError } from './errors.ts';

const FANOUT_GRACE_MS = 300;

export interface Caller {
  token: string;
  user: ValidatedToken;
}

/** Set by the auth interceptor on every call of an authenticated service. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: 'ocx caller' });

export interface GatewayDeps {
  validator: TokenValidator;
  clouds: UserClouds;
  /** Budget of one cloud within a call over many clouds (ms). */
  perCloudDeadlineMs: number;
  /** How often a long-lived stream re-checks its caller's token (ms). */
  streamRecheckMs: number;
}

/** The clouds one call works on, and the budget it has. */
export interface Scope {
  multi: MultiCloud;
  signal: AbortSignal;
  /** Per-cloud deadline (ms) for fan-outs: the per-cloud budget, never past the caller's deadline. */
  deadlineMs: number;
}

export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new ConnectError('authentication required', Code.Unauthenticated);
  return caller;
}

export async function scopeFor(
  deps: GatewayDeps,
  ctx: HandlerContext,
  loc: LocationFilter | undefined,
): Promise<Scope> {
  const caller = callerOf(ctx);
  let all: MultiCloud;
  try {
    const p = loc?.project;
    all = await deps.clouds.forUser(
      caller.token,
      caller.user,
      p ? { id: p.id, name: p.name, domainId: p.domainId, domainName: p.domainName } : undefined,
    );
  } catch (err) {
    throw toConnectError(err);
  }
  let multi = all;
  const clouds = loc?.clouds.filter(Boolean) ?? [];
  if (clouds.length > 0) {
    const names = all.names();
    const known = new Set([...names, ...all.connections().map((c) => c.cloud)]);
    const unknown = clouds.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      throw toConnectError(
        new OcxError(ErrorCode.NOT_FOUND, `no cloud named ${unknown.join(', ')} (reachable: ${names.join(', ')})`),
      );
    }
    multi = multi.select({ names: clouds });
  }
  if (loc?.region) multi = multi.select({ regions: [loc.region] });
  const left = ctx.timeoutMs();
  // Leave the answer time to travel back before the caller's own deadline passes, counting the grace the fan-out
  // gives a cloud to settle after its deadline (250 ms) before reporting it as TIMEOUT.
  const deadlineMs =
    left === undefined
      ? deps.perCloudDeadlineMs
      : Math.max(1, Math.min(deps.perCloudDeadlineMs, left - Math.max(100, left * 0.1) - FANOUT_GRACE_MS));
  return { multi, signal: ctx.signal, deadlineMs };
}

/** Search filters for the SDK's filterList: the attribute map, or undefined when empty. */
export function attrFilters(f: Filter | undefined): Record<string, string> | undefined {
  const attrs = f?.attributes ?? {};
  return Object.keys(attrs).length > 0 ? { ...attrs } : undefined;
}

export async function listAcross<T>(
  scope: Scope,
  fn: (conn: Connection, ctx: FanOutContext) => Promise<T[]>,
): Promise<{ items: T[]; failures: CallFailure[] }> {
  const out = await scope.multi.call((conn, _name, ctx) => fn(conn, ctx), {
    deadlineMs: scope.deadlineMs,
    signal: scope.signal,
  });
  if (scope.signal.aborted) throw new ConnectError('the call was cancelled or ran out of time', Code.DeadlineExceeded);
  return { items: out.results.flatMap((r) => r.value), failures: out.failures };
}

/**
 * Exactly one match over the selected clouds (shade's get): none → NOT_FOUND (the clouds that failed are in the
 * details; when every cloud failed, the first failure's own code); several → FAILED_PRECONDITION (AMBIGUOUS).
 */
export async function findOne<T extends { id: string }>(
  scope: Scope,
  what: string,
  nameOrId: string,
  search: (conn: Connection, ctx: FanOutContext) => Promise<T[]>,
): Promise<{ item: T; conn: Connection } | { item: null; failures: CallFailure[] }> {
  const out = await scope.multi.call(
    async (conn, _n, ctx) => (await search(conn, ctx)).map((item) => ({ item, conn })),
    { deadlineMs: scope.deadlineMs, signal: scope.signal },
  );
  const found = out.results.flatMap((r) => r.value);
  if (found.length > 1) {
    const where = found.map((f) => `${f.conn.name}:${f.item.id}`).join(', ');
    throw toConnectError(
      new OcxError(ErrorCode.AMBIGUOUS, `${found.length} ${what}s match '${nameOrId}' (${where}); narrow the filter`),
      out.failures,
    );
  }
  const [one] = found;
  if (one) return one;
  // Not found where clouds answered, but a cloud that failed (cut off, timed out, down) may hold it: that cloud's
  // failure is the answer, never NOT_FOUND (which a Delete would report as deleted: false — a leak for nodepool).
  const [failed] = out.failures;
  if (failed) {
    if (out.results.length === 0) throw toConnectError(failed.error, out.failures);
    const e = failed.error;
    throw toConnectError(
      new OcxError(
        e.code,
        `no ${what} matches '${nameOrId}' on the clouds that answered; ${failed.cloud} could not be asked: ${e.message}`,
        { cloud: failed.cloud, region: failed.region, requestId: e.requestId },
      ),
      out.failures,
    );
  }
  return { item: null, failures: out.failures };
}

export function notFound(what: string, nameOrId: string, failures: CallFailure[]): ConnectError {
  return toConnectError(new OcxError(ErrorCode.NOT_FOUND, `no ${what} matches '${nameOrId}'`), failures);
}

/** The one cloud a create goes to: the named one, or the only one the caller reaches. */
export function targetCloud(scope: Scope, cloud: string): Connection {
  const conns = scope.multi.connections();
  if (cloud) {
    try {
      return scope.multi.get(cloud);
    } catch (err) {
      throw toConnectError(err);
    }
  }
  if (conns.length === 1 && conns[0]) return conns[0];
  throw new ConnectError(
    `name the cloud to create in (location.cloud); reachable: ${scope.multi.names().join(', ')}`,
    Code.InvalidArgument,
  );
}

/** The one cloud a create or transfer names by its Location (cloud, region, project). */
export async function cloudAt(deps: GatewayDeps, ctx: HandlerContext, loc: Location | undefined): Promise<Connection> {
  const scope = await scopeFor(deps, ctx, {
    $typeName: 'ocx.cloud.v1.LocationFilter',
    clouds: loc?.cloud ? [loc.cloud] : [],
    region: loc?.region ?? '',
    project: loc?.project,
  });
  return targetCloud(scope, loc?.cloud ?? '');
}
