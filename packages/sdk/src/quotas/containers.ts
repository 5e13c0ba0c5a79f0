/**
 * A Swift container to another project on OpenStack, where no API moves one: the source container lets the user's
 * token of the destination project read it (an ACL `<dest project>:<user>`), every object is copied server-side into
 * the destination account (`X-Copy-From` + `X-Copy-From-Account`), each copy is verified by its ETag, and only when
 * all are there are the source objects and container deleted. Objects already in the destination with the same ETag
 * are skipped, so an interrupted move resumes where it stopped. The destination's object quota is checked first.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Connection } from '../multicloud/types.ts';
import { collect } from '../services/common.ts';
import { projectQuotas } from './across.ts';
import type { MyProject } from './types.ts';

export interface ContainerMoveProgress {
  object: string;
  /** Objects done so far (copied or already there) and the total. */
  done: number;
  total: number;
  copied: boolean;
}

export interface ContainerMoveOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((p: ContainerMoveProgress) => void) | undefined;
}

const seg = (s: string) => encodeURIComponent(s);
const objPath = (container: string, name: string) => `/${seg(container)}/${name.split('/').map(seg).join('/')}`;
const unquote = (etag: string | null) => (etag ?? '').replace(/^"|"$/g, '');

export async function moveContainer(
  source: Connection,
  dest: Connection,
  destProject: MyProject,
  container: string,
  opts: ContainerMoveOptions = {},
): Promise<{ objects: number; copied: number; bytes: number }> {
  const call = { signal: opts.signal };
  const src = source.client('object-store');
  const dst = dest.client('object-store');
  const objects = (await collect(source.objectStore.listObjects(container, call))).filter(
    (o): o is typeof o & { name: string } => typeof o.name === 'string',
  );
  const bytes = objects.reduce((n, o) => n + (o.bytes ?? 0), 0);

  const { rows, failures } = await projectQuotas(dest, destProject, { signal: opts.signal, services: ['object'] });
  if (failures[0]) throw failures[0].error;
  const room = rows.find((r) => r.resource === 'object.bytes');
  if (room && room.limit !== null && room.usage !== null && bytes > room.limit - room.usage)
    throw new OcxError(
      ErrorCode.OVER_QUOTA,
      `project '${destProject.name}' has room for ${Math.max(0, room.limit - room.usage)} of object.bytes, ${bytes} needed; nothing was changed`,
      { cloud: source.cloud, service: 'object-store' },
    );

  const sourceAccount = decodeURIComponent((await src.endpoint(call)).replace(/\/+$/, '').split('/').pop() ?? '');
  const user = (await dest.session.getAccess(call)).user.id;
  const head = await src.head(`/${seg(container)}`, call);
  await head.dump();
  const oldRead = head.headers.get('x-container-read');
  const grant = `${destProject.id}:${user}`;
  await (
    await src.post(`/${seg(container)}`, {
      ...call,
      headers: { 'x-container-read': oldRead ? `${oldRead},${grant}` : grant },
    })
  ).dump();
  await (await dst.put(`/${seg(container)}`, { ...call, expect: [201, 202, 204] })).dump();

  let copied = 0;
  for (const [i, o] of objects.entries()) {
    const etag = o.hash ?? '';
    const there = await dst.head(objPath(container, o.name), { ...call, expect: [200, 404] });
    await there.dump();
    const already = there.status === 200 && unquote(there.headers.get('etag')) === etag;
    if (!already) {
      const res = await dst.put(objPath(container, o.name), {
        ...call,
        body: '',
        headers: {
          'x-copy-from': `${container}/${o.name}`,
          'x-copy-from-account': sourceAccount,
          'content-length': '0',
        },
      });
      await res.dump();
      if (etag && unquote(res.headers.get('etag')) !== etag)
        throw new OcxError(
          ErrorCode.INVALID_RESPONSE,
          `copy of ${container}/${o.name} has ETag ${unquote(res.headers.get('etag'))}, the source ${etag}; the source is kept`,
          { cloud: source.cloud, service: 'object-store' },
        );
      copied++;
    }
    opts.onProgress?.({ object: o.name, done: i + 1, total: objects.length, copied: !already });
  }
  for (const o of objects) await (await src.delete(objPath(container, o.name), call)).dump();
  await (await src.delete(`/${seg(container)}`, call)).dump();
  return { objects: objects.length, copied, bytes };
}
