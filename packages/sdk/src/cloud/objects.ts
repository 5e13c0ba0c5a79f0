/**
 * Containers and objects (openstacksdk `cloud/_object_store.py`): list, get → null on 404, idempotent container
 * create, delete → false on 404. Transfers (segmented upload, ranged download) stay with the object-store client.
 */
import { collect } from '../services/common.ts';
import { type CloudCore, falseOn404, nullOn404, type Signal } from './core.ts';
import { containerFromStat, normalizeContainer, normalizeObject, objectFromStat } from './normalize/object-store.ts';
import type { Container, ObjectFolder, StoredObject } from './types.ts';

export async function listContainers(core: CloudCore, opts: Signal & { prefix?: string } = {}): Promise<Container[]> {
  const base = await core.base();
  const query = opts.prefix ? { prefix: opts.prefix } : undefined;
  const raw = await collect(core.objectStore.listContainers({ query, signal: opts.signal }));
  return raw.map((c) => normalizeContainer(c, base));
}

/** HEAD of the container; null when it does not exist. */
export async function getContainer(core: CloudCore, name: string, opts: Signal = {}): Promise<Container | null> {
  const stat = await nullOn404(() => core.objectStore.getContainer(name, { signal: opts.signal }));
  return stat && containerFromStat(name, stat, await core.base());
}

/** The container, created when missing (as openstacksdk: an existing one is returned as it is). */
export async function createContainer(
  core: CloudCore,
  name: string,
  opts: Signal & { metadata?: Record<string, string> } = {},
): Promise<Container> {
  const existing = await getContainer(core, name, opts);
  if (existing) return existing;
  await core.objectStore.createContainer(name, { metadata: opts.metadata, signal: opts.signal });
  // A HEAD right after the PUT can still miss on an eventually consistent Swift: then it is new and empty.
  return (await getContainer(core, name, opts)) ?? normalizeContainer({ name, count: 0, bytes: 0 }, await core.base());
}

/** False when it does not exist. A container that still holds objects is a CONFLICT from Swift. */
export function deleteContainer(core: CloudCore, name: string, opts: Signal = {}): Promise<boolean> {
  return falseOn404(() => core.objectStore.deleteContainer(name, { signal: opts.signal }));
}

export interface ListObjectEntriesOptions extends Signal {
  prefix?: string | undefined;
  /** Roll the names up at this string after `prefix`: each pseudo-folder comes once, as an `ObjectFolder`. */
  delimiter?: string | undefined;
}

/**
 * The objects of a container and, with `delimiter`, the pseudo-folders their names roll up into (Swift's `subdir`
 * entries), in name order; NOT_FOUND when the container does not exist.
 */
export async function listObjectEntries(
  core: CloudCore,
  container: string,
  opts: ListObjectEntriesOptions = {},
): Promise<(StoredObject | ObjectFolder)[]> {
  const base = await core.base();
  const query: Record<string, string> = {};
  if (opts.prefix) query.prefix = opts.prefix;
  if (opts.delimiter) query.delimiter = opts.delimiter;
  const raw = await collect(core.objectStore.listObjects(container, { query, signal: opts.signal }));
  return raw.map((o) =>
    o.name === undefined ? { subdir: o.subdir ?? '' } : normalizeObject(container, { ...o, name: o.name }, base),
  );
}

export const isFolder = (e: StoredObject | ObjectFolder): e is ObjectFolder => 'subdir' in e;

/**
 * Swift's roll-up done on a listing of every object under `prefix` (for a backend whose listing has no delimiter):
 * a name holding `delimiter` after the prefix stands as its folder, once, where Swift would list it.
 */
export function rollUp(
  objects: readonly StoredObject[],
  prefix: string,
  delimiter: string,
): (StoredObject | ObjectFolder)[] {
  const out: (StoredObject | ObjectFolder)[] = [];
  let last: string | undefined;
  for (const o of objects) {
    const at = o.name.indexOf(delimiter, prefix.length);
    if (at === -1) {
      out.push(o);
      continue;
    }
    const subdir = o.name.slice(0, at + delimiter.length);
    if (subdir !== last) out.push({ subdir });
    last = subdir;
  }
  return out;
}

/** The objects of a container (pseudo-folder entries left out); NOT_FOUND when the container does not exist. */
export async function listObjects(
  core: CloudCore,
  container: string,
  opts: Signal & { prefix?: string } = {},
): Promise<StoredObject[]> {
  const entries = await listObjectEntries(core, container, { prefix: opts.prefix, signal: opts.signal });
  return entries.filter((e): e is StoredObject => !isFolder(e));
}

/** HEAD of the object; null when it (or its container) does not exist. */
export async function getObjectMetadata(
  core: CloudCore,
  container: string,
  name: string,
  opts: Signal = {},
): Promise<StoredObject | null> {
  const stat = await nullOn404(() => core.objectStore.headObject(container, name, { signal: opts.signal }));
  return stat && objectFromStat(container, name, stat, await core.base());
}

/** False when it does not exist. */
export function deleteObject(core: CloudCore, container: string, name: string, opts: Signal = {}): Promise<boolean> {
  return falseOn404(() => core.objectStore.deleteObject(container, name, { signal: opts.signal }));
}

export interface PageOptions extends Signal {
  prefix?: string | undefined;
  /** Names after this one. */
  marker?: string | undefined;
  /** At most this many (Swift's own cap applies); 0 or absent: every one. */
  limit?: number | undefined;
}

/** The first `limit` of `items`, and the marker of the next page when one more came (asked for limit + 1). */
async function page<T extends { name: string }>(
  items: AsyncIterable<T>,
  limit: number | undefined,
): Promise<{ items: T[]; nextMarker: string | null }> {
  const out: T[] = [];
  for await (const item of items) {
    if (limit && out.length === limit) return { items: out, nextMarker: out.at(-1)?.name ?? null };
    out.push(item);
  }
  return { items: out, nextMarker: null };
}

const pageQuery = (o: PageOptions) => {
  const query: Record<string, string> = {};
  if (o.prefix) query.prefix = o.prefix;
  if (o.marker) query.marker = o.marker;
  return query;
};

/** One page of containers (Swift's `prefix`, `marker`, `limit`); `nextMarker` when there are more. */
export async function listContainersPage(
  core: CloudCore,
  o: PageOptions = {},
): Promise<{ items: Container[]; nextMarker: string | null }> {
  const base = await core.base();
  const got = await page(
    core.objectStore.listContainers({
      query: pageQuery(o),
      pageSize: o.limit ? Math.min(o.limit + 1, 10_000) : undefined,
      signal: o.signal,
    }),
    o.limit,
  );
  return { items: got.items.map((c) => normalizeContainer(c, base)), nextMarker: got.nextMarker };
}

/** One page of a container's objects; NOT_FOUND when the container does not exist. */
export async function listObjectsPage(
  core: CloudCore,
  container: string,
  o: PageOptions = {},
): Promise<{ items: StoredObject[]; nextMarker: string | null }> {
  const base = await core.base();
  async function* named() {
    const raw = core.objectStore.listObjects(container, {
      query: pageQuery(o),
      pageSize: o.limit ? Math.min(o.limit + 1, 10_000) : undefined,
      signal: o.signal,
    });
    for await (const x of raw) if (x.name !== undefined) yield { ...x, name: x.name };
  }
  const got = await page(named(), o.limit);
  return { items: got.items.map((x) => normalizeObject(container, x, base)), nextMarker: got.nextMarker };
}

/** Set `X-Container-Meta-*` headers (others are kept). */
export async function setContainerMetadata(
  core: CloudCore,
  name: string,
  metadata: Record<string, string>,
  opts: Signal = {},
): Promise<void> {
  await core.objectStore.setContainerMetadata(name, metadata, { signal: opts.signal });
}
