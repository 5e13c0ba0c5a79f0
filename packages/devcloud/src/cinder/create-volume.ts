/** Volume creation: size and type resolution, snapshot/volume/image sources, quota, then the timed build. */
import { randomUUID } from 'node:crypto';
import type { ImageRow as GlanceImageRow } from '../glance/images.ts';
import { badRequest, notFound } from './errors.ts';
import { FAULT_METADATA_KEY, nowIso, type TypeRow, type VolumeRow } from './rows.ts';
import type { CinderState } from './state.ts';

export interface CreateVolumeArgs {
  projectId: string;
  userId: string;
  size?: number;
  name?: string | null;
  description?: string | null;
  volumeType?: string;
  availabilityZone?: string;
  snapshotId?: string;
  sourceVolid?: string;
  imageId?: string;
  metadata?: Record<string, string>;
  multiattach?: boolean;
  isAdmin?: boolean;
}

/** Create a volume row (status creating → available). Validates sources and quota. */
export function createVolume(st: CinderState, args: CreateVolumeArgs): VolumeRow {
  st.settle();
  let size = args.size;
  let typeRow: TypeRow | undefined;
  if (args.volumeType !== undefined && args.volumeType !== null) {
    typeRow = st.type(args.volumeType);
    if (!typeRow) throw notFound(`Volume type with name ${args.volumeType} could not be found.`);
  }
  if (args.availabilityZone && args.availabilityZone !== 'nova') {
    throw badRequest(`Invalid input received: Availability zone '${args.availabilityZone}' is invalid.`);
  }
  const visible = (projectId: string) => args.isAdmin || projectId === args.projectId;
  let imageMeta: Record<string, string> | null = null;
  if (args.snapshotId) {
    const snap = st.snapshots.get(args.snapshotId);
    if (!snap || !visible(snap.projectId)) throw notFound(`Snapshot ${args.snapshotId} could not be found.`);
    if (snap.status !== 'available') {
      throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    }
    size ??= snap.size;
    if (size < snap.size) {
      throw badRequest(
        `Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.size}GB. They must be >= original snapshot size.`,
      );
    }
    const src = st.volumes.get(snap.volumeId);
    if (src && !typeRow) typeRow = st.types.get(src.volumeTypeId);
  }
  if (args.sourceVolid) {
    const src = st.volumes.get(args.sourceVolid);
    if (!src || !visible(src.projectId)) throw notFound(`Volume ${args.sourceVolid} could not be found.`);
    if (!['available', 'in-use'].includes(src.status)) {
      throw badRequest(`Invalid volume: Unable to clone volumes that are in a ${src.status} state.`);
    }
    size ??= src.size;
    if (size < src.size) {
      throw badRequest(
        `Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size ${src.size}GB. They must be >= original volume size.`,
      );
    }
    if (!typeRow) typeRow = st.types.get(src.volumeTypeId);
    imageMeta = src.imageMeta ? { ...src.imageMeta } : null;
  }
  if (args.imageId) {
    const img = st.ctx.internal.images.get(args.imageId);
    if (!img) throw notFound(`Image ${args.imageId} could not be found.`);
    if (img.status !== 'active') {
      throw badRequest(`Invalid image identifier or unable to access requested image.`);
    }
    const imageGb = Math.max(img.minDisk, Math.ceil((img.size ?? 0) / 1024 ** 3));
    size ??= Math.max(1, imageGb);
    if (size < imageGb) {
      throw badRequest(
        `Invalid input received: Size of specified image ${imageGb}GB is larger than volume size ${size}GB.`,
      );
    }
    imageMeta = {
      image_id: img.id,
      min_disk: String(img.minDisk),
      min_ram: String(img.minRam),
      size: String(img.size ?? 0),
    };
    // Glance of the same cloud keeps the rest of what Cinder copies (name, formats, checksum, properties).
    const row = st.ctx.store.table<GlanceImageRow>('glance_images').get(img.id);
    if (row) {
      if (row.name !== null) imageMeta.image_name = row.name;
      if (row.checksum) imageMeta.checksum = row.checksum;
      if (row.container_format) imageMeta.container_format = row.container_format;
      if (row.disk_format) imageMeta.disk_format = row.disk_format;
      for (const [k, val] of Object.entries(row.properties)) {
        if (!k.startsWith('devcloud_') && !k.startsWith('owner_specified.')) imageMeta[k] = val;
      }
    }
  }
  if (size === undefined || !Number.isInteger(size) || size < 1) {
    throw badRequest(`Invalid input for field/attribute size. Value: ${size}. ${size} is less than the minimum of 1`);
  }
  typeRow ??= st.defaultType();
  st.checkQuota(args.projectId, { volumes: 1, gigabytes: size, size });
  const now = nowIso();
  const row: VolumeRow = {
    id: randomUUID(),
    projectId: args.projectId,
    userId: args.userId,
    name: args.name ?? null,
    description: args.description ?? null,
    size,
    status: 'creating',
    availabilityZone: 'nova',
    volumeTypeId: typeRow.id,
    snapshotId: args.snapshotId ?? null,
    sourceVolid: args.sourceVolid ?? null,
    imageId: args.imageId ?? null,
    imageMeta,
    bootable: imageMeta !== null,
    multiattach: args.multiattach ?? false,
    metadata: { ...(args.metadata ?? {}) },
    createdAt: now,
    updatedAt: null,
    migrationStatus: null,
    pending: null,
  };
  // Injected failure, as in Nova: metadata key `devcloud:fault` makes the build end in 'error'.
  st.schedule(st.volumes, row, row.metadata[FAULT_METADATA_KEY] !== undefined ? 'error' : 'available');
  return row;
}
