/**
 * Ansible's `state: present|absent` on one cloud, shared by the write services: the caller's own resource of a
 * name (never another project's shared one), which requested fields differ from what is there, errors converted
 * once, and the delete shape (exactly one match over the selected clouds, or deleted false).
 */
import type { HandlerContext } from '@connectrpc/connect';
import { type Connection, ErrorCode, type Location, OcxError } from '@ocx/sdk';
import type { Filter } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import { attrFilters, findOne, type GatewayDeps, scopeFor } from '../context.ts';
import { invalidArgument, toConnectError } from '../errors.ts';

/** `fn`'s answer, with any failure as the gateway's ConnectError (OCX code → gRPC code). */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConnectError(err);
  }
}

export function required(value: string, field: string): string {
  if (!value) throw invalidArgument(`${field} is required`);
  return value;
}

/**
 * The one resource named `name` that the connection's project owns (resources of other projects the caller sees,
 * such as a shared network, are not "present" for it); null when none; AMBIGUOUS when several share the name.
 */
export async function ownNamed<T extends { id: string; name?: string | null; location: Location }>(
  conn: Connection,
  kind: string,
  name: string,
  items: readonly T[],
): Promise<T | null> {
  const project = (await conn.cloudLayer.currentLocation()).project.id;
  const own = items.filter(
    (i) => i.name === name && (!project || !i.location.project.id || i.location.project.id === project),
  );
  if (own.length > 1)
    throw new OcxError(
      ErrorCode.AMBIGUOUS,
      `${own.length} ${kind}s named '${name}' in this project (${own.map((i) => i.id).join(', ')}); use the id`,
    );
  return own[0] ?? null;
}

/** The fields of `want` (undefined: not asked for) whose value differs from `have`'s (arrays compared as sets). */
export function differing(have: Record<string, unknown>, want: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(want)) {
    if (v === undefined) continue;
    const h = have[k];
    const same =
      Array.isArray(v) && Array.isArray(h)
        ? v.length === h.length && v.every((x) => h.includes(x))
        : (h ?? null) === (v ?? null);
    if (!same) out[k] = v;
  }
  return out;
}

/**
 * `state: absent` over the request's filter: the one match (name or id, else NOT_FOUND-free `deleted: false`),
 * deleted by `del` on its cloud.
 */
export async function deleteOne<T extends { id: string }>(
  deps: GatewayDeps,
  ctx: HandlerContext,
  filter: Filter | undefined,
  kind: string,
  search: (conn: Connection, key: string, attrs: Record<string, string> | undefined) => Promise<T[]>,
  del: (conn: Connection, item: T) => Promise<boolean>,
): Promise<{ deleted: boolean }> {
  const key = required(filter?.nameOrId ?? '', 'filter.name_or_id');
  const scope = await scopeFor(deps, ctx, filter?.location);
  const got = await findOne(scope, kind, key, (conn) => search(conn, key, attrFilters(filter)));
  if (!('conn' in got)) return { deleted: false };
  const { item, conn } = got;
  return { deleted: await guarded(() => del(conn, item)) };
}

/**
 * The resource a request names: by id, else by name in the caller's project, else the one resource of that name
 * the caller can see (an admin sees every project's, which must not make its own ambiguous). NOT_FOUND when none;
 * AMBIGUOUS when several others share the name.
 */
export async function pickNamed<T extends { id: string; name?: string | null; location: Location }>(
  conn: Connection,
  kind: string,
  ref: string,
  items: readonly T[],
): Promise<T> {
  const found = items.find((x) => x.id === ref) ?? (await ownNamed(conn, kind, ref, items)) ?? undefined;
  if (found) return found;
  const named = items.filter((x) => x.name === ref);
  if (named.length === 1 && named[0]) return named[0];
  if (named.length > 1)
    throw new OcxError(ErrorCode.AMBIGUOUS, `${named.length} ${kind}s match '${ref}' on ${conn.name}; use the id`);
  throw new OcxError(ErrorCode.NOT_FOUND, `no ${kind} matches '${ref}' on ${conn.name}`);
}
