/** Image (Glance) records → normalized images. */
import type { GlanceImage } from '../../services/image.ts';
import type { Image } from '../types.ts';
import { numOr, numOrNull, rest, str } from './fields.ts';
import { type LocationBase, makeLocation } from './location.ts';

const IMAGE_KEYS = [
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'checksum',
  'size',
  'virtual_size',
  'min_ram',
  'min_disk',
  'disk_format',
  'container_format',
  'owner',
  'tags',
  'created_at',
  'updated_at',
  'os_hash_algo',
  'os_hash_value',
  'self',
  'schema',
  'file',
];

export function normalizeImage(raw: GlanceImage, base: LocationBase): Image {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw.owner)),
    status: raw.status,
    visibility: raw.visibility ?? 'private',
    is_public: raw.visibility === 'public',
    is_protected: raw.protected === true,
    checksum: raw.checksum ?? null,
    size: numOrNull(raw.size),
    virtual_size: numOrNull(raw.virtual_size),
    min_ram: numOr(raw.min_ram, 0),
    min_disk: numOr(raw.min_disk, 0),
    disk_format: raw.disk_format ?? null,
    container_format: raw.container_format ?? null,
    owner: str(raw.owner),
    tags: [...(raw.tags ?? [])],
    created_at: str(raw.created_at),
    updated_at: str(raw.updated_at),
    hash_algo: str(raw.os_hash_algo),
    hash_value: str(raw.os_hash_value),
    properties: rest(raw, IMAGE_KEYS),
  };
}
