/** Block storage (Cinder) records → normalized volumes. */
import type { CinderVolume } from '../../services/block-storage.ts';
import type { Volume } from '../types.ts';
import { bool, numOr, rest, str } from './fields.ts';
import { type LocationBase, makeLocation } from './location.ts';

export function normalizeVolume(raw: CinderVolume, base: LocationBase): Volume {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw['os-vol-tenant-attr:tenant_id']), str(raw.availability_zone)),
    status: raw.status,
    size: numOr(raw.size, 0),
    description: raw.description ?? null,
    volume_type: raw.volume_type ?? null,
    is_bootable: bool(raw.bootable),
    is_encrypted: raw.encrypted === true,
    is_multiattach: raw.multiattach === true,
    attachments: (raw.attachments ?? []).map((a) => ({ ...a })),
    metadata: { ...(raw.metadata ?? {}) },
    snapshot_id: raw.snapshot_id ?? null,
    source_volume_id: raw.source_volid ?? null,
    created_at: str(raw.created_at),
    updated_at: str(raw.updated_at),
    properties: rest(raw, [
      'id',
      'name',
      'status',
      'size',
      'description',
      'volume_type',
      'bootable',
      'encrypted',
      'multiattach',
      'attachments',
      'metadata',
      'snapshot_id',
      'source_volid',
      'created_at',
      'updated_at',
      'availability_zone',
      'os-vol-tenant-attr:tenant_id',
    ]),
  };
}
