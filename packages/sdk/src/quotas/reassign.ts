/**
 * Reassign a resource to another project of the same cloud. On Synnefo: the native `reassign` action (servers,
 * networks, floating IPs, volumes) and a container's project policy. On OpenStack: a volume moves by a Cinder
 * transfer (created in the source project, accepted with a token of the destination, microversion 3.55+), a
 * container by copying every object server-side into the destination account (containers.ts);
 * servers and Neutron resources cannot change project on OpenStack (their project is fixed at create), so that
 * is an UNSUPPORTED error that says why and what to do instead. The destination's quota is checked first, and
 * nothing is changed when the resource would not fit.
 */
import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import type { Connection } from '../multicloud/types.ts';
import { type CycladesKind, isSynnefoCloud } from '../synnefo/client.ts';
import { synnefoClientFor } from '../synnefo/quotas.ts';
import { projectQuotas, projectsOf } from './across.ts';
import { type ContainerMoveOptions, moveContainer } from './containers.ts';
import { connectionForProject } from './scoped.ts';
import type { MyProject } from './types.ts';

/** What can be named in `ocx <kind> reassign`. */
export type ReassignKind = 'volume' | 'server' | 'network' | 'floatingip' | 'container' | 'image';

interface Opts {
  signal?: AbortSignal | undefined;
}

const GiB = 2 ** 30;

/** A server message as one plain line (Glance's 403 page carries HTML line breaks). */
const plain = (s: string) =>
  s
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** A project of the connection's user by id or name (NOT_FOUND naming it, AMBIGUOUS when a name repeats). */
export async function resolveProject(conn: Connection, ref: string, opts: Opts = {}): Promise<MyProject> {
  const all = await projectsOf(conn, opts);
  const byId = all.find((p) => p.id === ref);
  if (byId) return byId;
  const named = all.filter((p) => p.name === ref);
  if (named.length === 1) return named[0] as MyProject;
  if (named.length > 1)
    throw new OcxError(ErrorCode.AMBIGUOUS, `more than one project of ${conn.cloud} is named '${ref}'; use its id`, {
      cloud: conn.cloud,
    });
  throw new OcxError(
    ErrorCode.NOT_FOUND,
    `no project '${ref}' among your projects on ${conn.cloud} (${all.map((p) => p.name).join(', ') || 'none'})`,
    { cloud: conn.cloud },
  );
}

/** A connection whose token is scoped to the named project (id or name), for creates in that project. */
export async function connectionInProject(conn: Connection, ref: string, opts: Opts = {}): Promise<Connection> {
  return connectionForProject(conn, (await resolveProject(conn, ref, opts)).id, opts);
}

function unsupported(conn: Connection, what: string, why: string, instead: string): OcxError {
  return new OcxError(
    ErrorCode.UNSUPPORTED,
    `${what} cannot be moved to another project on OpenStack: ${why}. ${instead}`,
    {
      cloud: conn.cloud,
    },
  );
}

/** Move `id` to project `to` (id or name). Resolves with the destination project. */
export async function reassign(
  conn: Connection,
  kind: ReassignKind,
  id: string,
  to: string,
  opts: Opts & { from?: string | undefined; onProgress?: ContainerMoveOptions['onProgress'] } = {},
): Promise<MyProject> {
  if (isSynnefoCloud(conn.config)) {
    const client = synnefoClientFor(conn);
    const dest = await client.resolveProject(to, opts);
    if (kind === 'container') await client.reassignContainer(id, dest.id, opts);
    else if (kind === 'image')
      throw new OcxError(
        ErrorCode.UNSUPPORTED,
        'Synnefo images (Plankton) are not quotable resources and have no reassign action; share the image instead',
        { cloud: conn.cloud },
      );
    else await client.reassign(kind as CycladesKind, id, dest.id, opts);
    return resolveProject(conn, dest.id, opts);
  }
  switch (kind) {
    case 'volume':
      return reassignVolume(conn, id, to, opts);
    case 'server':
      throw unsupported(
        conn,
        `server ${id}`,
        "Nova's server update accepts only name, description and access addresses; the project is fixed when the server is created",
        'Instead: snapshot it and boot the image in the destination project, or boot from a volume, move the volume with `ocx volume reassign` and boot it there (a new server, new id and addresses)',
      );
    case 'network':
    case 'floatingip':
      throw unsupported(
        conn,
        `${kind === 'network' ? 'network' : 'floating IP'} ${id}`,
        "Neutron's project_id can be set on create but never updated, not even by an admin",
        kind === 'network'
          ? 'Instead: share it with the destination project by an RBAC policy (access_as_shared), or create a new network there'
          : 'Instead: release it and allocate a new floating IP in the destination project (the address may change)',
      );
    case 'image': {
      // Glance lets only an admin change the owner (images.py _do_replace); try, and explain when policy refuses.
      const dest = await resolveProject(conn, to, opts);
      const source = opts.from ? await connectionInProject(conn, opts.from, opts) : conn;
      try {
        const res = await source.client('image').patch(`/images/${encodeURIComponent(id)}`, {
          ...opts,
          body: JSON.stringify([{ op: 'replace', path: '/owner', value: dest.id }]),
          headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
        });
        await res.dump();
        return dest;
      } catch (err) {
        if (!isOcxError(err) || err.code !== ErrorCode.FORBIDDEN) throw err;
        throw unsupported(
          conn,
          `image ${id}`,
          `Glance lets only an admin change an image owner (it answered: ${plain(err.serverMessage ?? err.message)})`,
          `Instead: share it with the destination project ('openstack image add project ${id} ${dest.id}', then accept it there: 'openstack image set --accept ${id}' with a token of ${dest.name}), or ask an admin to change the owner`,
        );
      }
    }
    case 'container': {
      const dest = await resolveProject(conn, to, opts);
      const source = opts.from ? await connectionInProject(conn, opts.from, opts) : conn;
      if ((await source.session.projectId()) === dest.id) return dest;
      await moveContainer(source, await connectionForProject(conn, dest.id, opts), dest, id, opts);
      return dest;
    }
  }
}

/**
 * A volume by Cinder transfer: check the destination's volumes and gigabytes quota, create the transfer in the
 * source project, accept it with a token of the destination; when the accept fails the transfer is deleted, so
 * the volume stays where it was.
 */
export async function reassignVolume(
  conn: Connection,
  volumeId: string,
  to: string,
  opts: Opts & { from?: string | undefined } = {},
): Promise<MyProject> {
  const dest = await resolveProject(conn, to, opts);
  const source = opts.from ? await connectionInProject(conn, opts.from, opts) : conn;
  const cinder = source.client('block-storage');
  const vol = (
    await cinder.getJson<{ volume: { id: string; size: number; status: string; volume_type?: string } }>(
      `/volumes/${encodeURIComponent(volumeId)}`,
      opts,
    )
  ).volume;
  const sourceProject = await source.session.projectId();
  if (sourceProject === dest.id) return dest;
  if (vol.status !== 'available')
    throw new OcxError(
      ErrorCode.CONFLICT,
      `volume ${volumeId} is ${vol.status}; Cinder transfers only an available (detached) volume`,
      { cloud: conn.cloud },
    );
  // The destination's room first: nothing is changed when the volume would not fit.
  const { rows, failures } = await projectQuotas(conn, dest, { signal: opts.signal, services: ['volume'] });
  if (failures[0]) throw failures[0].error;
  const need: Record<string, number> = { 'volume.volumes': 1, 'volume.gigabytes': vol.size * GiB };
  if (vol.volume_type) {
    need[`volume.volumes_${vol.volume_type}`] = 1;
    need[`volume.gigabytes_${vol.volume_type}`] = vol.size * GiB;
  }
  for (const r of rows) {
    const n = need[r.resource];
    if (n === undefined || r.limit === null || r.usage === null) continue;
    const room = r.limit - r.usage - r.reserved;
    if (n > room)
      throw new OcxError(
        ErrorCode.OVER_QUOTA,
        `project '${dest.name}' has room for ${Math.max(0, room)} of ${r.resource}, ${n} needed; nothing was changed`,
        { cloud: conn.cloud, service: 'block-storage' },
      );
  }
  const mv = (await cinder.negotiateMicroversion('latest')) ?? '3.0';
  const modern = Number(mv.split('.')[1] ?? 0) >= 55 && mv.startsWith('3.');
  const base = modern ? '/volume-transfers' : '/os-volume-transfer';
  const call = { ...opts, microversion: modern ? '3.55' : undefined };
  const created = await (
    await cinder.post(base, { ...call, json: { transfer: { volume_id: volumeId, name: `ocx-reassign-${volumeId}` } } })
  ).json<{ transfer: { id: string; auth_key: string } }>();
  const destConn = await connectionForProject(conn, dest.id, opts);
  try {
    const res = await destConn
      .client('block-storage')
      .post(`${base}/${encodeURIComponent(created.transfer.id)}/accept`, {
        ...call,
        json: { accept: { auth_key: created.transfer.auth_key } },
      });
    await res.dump();
  } catch (err) {
    await cinder
      .delete(`${base}/${encodeURIComponent(created.transfer.id)}`, call)
      .then((r) => r.dump())
      .catch(() => undefined);
    throw isOcxError(err) ? err : new OcxError(ErrorCode.SERVICE_ERROR, String(err), { cloud: conn.cloud });
  }
  return dest;
}
