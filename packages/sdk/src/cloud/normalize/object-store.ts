/** Object store (Swift) listings and HEADs → normalized containers and objects. */
import type { ObjectStat, SwiftContainer, SwiftObject, SwiftStat } from '../../services/object-store.ts';
import type { Container, StoredObject } from '../types.ts';
import { numOr, rest, str } from './fields.ts';
import { type LocationBase, makeLocation } from './location.ts';

export function normalizeContainer(raw: SwiftContainer, base: LocationBase): Container {
  return {
    id: raw.name,
    name: raw.name,
    location: makeLocation(base),
    count: numOr(raw.count, 0),
    bytes: numOr(raw.bytes, 0),
    metadata: {},
    last_modified: str(raw.last_modified),
    properties: rest(raw as unknown as Record<string, unknown>, ['name', 'count', 'bytes', 'last_modified']),
  };
}

/** A container from its HEAD. */
export function containerFromStat(name: string, stat: SwiftStat, base: LocationBase): Container {
  return {
    id: name,
    name,
    location: makeLocation(base),
    count: stat.objectCount ?? 0,
    bytes: stat.bytesUsed ?? 0,
    metadata: { ...stat.metadata },
    last_modified: stat.headers.get('last-modified'),
    properties: {},
  };
}

/** An object from a listing entry (pseudo-folder `subdir` entries are not objects: the caller skips them). */
export function normalizeObject(
  container: string,
  raw: SwiftObject & { name: string },
  base: LocationBase,
): StoredObject {
  return {
    id: raw.name,
    name: raw.name,
    location: makeLocation(base),
    container,
    bytes: numOr(raw.bytes, 0),
    hash: str(raw.hash),
    content_type: str(raw.content_type),
    last_modified: str(raw.last_modified),
    metadata: {},
    properties: rest(raw as unknown as Record<string, unknown>, [
      'name',
      'bytes',
      'hash',
      'content_type',
      'last_modified',
    ]),
  };
}

/** An object from its HEAD. */
export function objectFromStat(container: string, name: string, stat: ObjectStat, base: LocationBase): StoredObject {
  return {
    id: name,
    name,
    location: makeLocation(base),
    container,
    bytes: stat.contentLength ?? 0,
    hash: stat.etag?.replace(/^"|"$/g, '') ?? null,
    content_type: stat.contentType ?? null,
    last_modified: stat.lastModified ?? null,
    metadata: { ...stat.metadata },
    properties: {},
  };
}
