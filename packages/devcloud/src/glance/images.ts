/** Glance image records, how they look on the wire, who may see them, and schema checks on writes. */
import { randomUUID } from 'node:crypto';
import type { TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import type { StoredBlob } from '../storage/blob-store.ts';

export interface ImageMember {
  memberId: string;
  status: 'pending' | 'accepted' | 'rejected';
  createdAt: string;
  updatedAt: string;
}

export interface ImageRow {
  id: string;
  name: string | null;
  status: string;
  visibility: 'public' | 'private' | 'shared' | 'community';
  protected: boolean;
  os_hidden: boolean;
  owner: string | null;
  min_disk: number;
  min_ram: number;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  container_format: string | null;
  disk_format: string | null;
  /** ISO timestamps with milliseconds; shown to the second. */
  created_at: string;
  updated_at: string;
  tags: string[];
  properties: Record<string, string>;
  members: ImageMember[];
  /** Blob key in the BlobStore when data was uploaded. */
  blob: string | null;
}

/** A new image row: Glance's defaults for a `queued` image with no data, then `fields` on top. */
export function newImageRow(fields: Partial<ImageRow> = {}): ImageRow {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    name: null,
    status: 'queued',
    visibility: 'shared',
    protected: false,
    os_hidden: false,
    owner: null,
    min_disk: 0,
    min_ram: 0,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    container_format: null,
    disk_format: null,
    created_at: now,
    updated_at: now,
    tags: [],
    properties: {},
    members: [],
    blob: null,
    ...fields,
  };
}

/** An image once its data is stored: active, with the data's size, checksums and blob key. */
export function activateWithData(img: ImageRow, stored: StoredBlob): void {
  Object.assign(img, {
    status: 'active',
    size: stored.size,
    virtual_size: stored.size,
    checksum: stored.md5,
    os_hash_algo: 'sha512',
    os_hash_value: stored.sha512,
    blob: stored.key,
    updated_at: new Date().toISOString(),
  });
}

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
export const VISIBILITIES = ['public', 'private', 'shared', 'community'];
export const STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'uploading',
  'importing',
  'pending_delete',
  'deactivated',
];

/** Attributes that are part of the image schema (everything else is a custom property). */
export const CORE_ATTRS = new Set([
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'checksum',
  'owner',
  'min_disk',
  'min_ram',
  'size',
  'virtual_size',
  'container_format',
  'disk_format',
  'created_at',
  'updated_at',
  'tags',
  'self',
  'file',
  'schema',
  'os_hash_algo',
  'os_hash_value',
  'locations',
  'direct_url',
  'stores',
]);
export const READ_ONLY = new Set([
  'status',
  'checksum',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'os_hash_algo',
  'os_hash_value',
  'direct_url',
  'stores',
]);

export const glanceTime = (iso: string): string => `${iso.slice(0, 19)}Z`;

export function renderImage(img: ImageRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...img.properties };
  Object.assign(out, {
    name: img.name,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: img.visibility,
    size: img.size,
    virtual_size: img.virtual_size,
    status: img.status,
    checksum: img.checksum,
    protected: img.protected,
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    owner: img.owner,
    os_hidden: img.os_hidden,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    id: img.id,
    created_at: glanceTime(img.created_at),
    updated_at: glanceTime(img.updated_at),
    tags: [...img.tags],
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: '/v2/schemas/image',
  });
  if (img.blob) out.stores = 'fs';
  return out;
}

export function isMember(img: ImageRow, projectId: string | undefined): ImageMember | undefined {
  if (!projectId) return undefined;
  return img.members.find((m) => m.memberId === projectId);
}

/** May this token GET the image? */
export function canSee(img: ImageRow, tok: TokenInfo): boolean {
  if (tok.isAdmin) return true;
  if (img.visibility === 'public' || img.visibility === 'community') return true;
  if (img.owner && img.owner === tok.projectId) return true;
  if (img.visibility === 'shared' && isMember(img, tok.projectId)) return true;
  return false;
}

/** May this token change or delete the image? */
export function canModify(img: ImageRow, tok: TokenInfo): boolean {
  return tok.isAdmin || (img.owner !== null && img.owner === tok.projectId);
}

function schemaError(detail: string): ApiFault {
  return new ApiFault(400, `Provided object does not match schema 'image': ${detail}`);
}

/** Check one attribute's value against the image schema; throws 400 like Glance's jsonschema validation. */
export function checkAttr(key: string, value: unknown): void {
  const str = JSON.stringify(value);
  switch (key) {
    case 'name':
      if (value !== null && typeof value !== 'string') throw schemaError(`${str} is not of type 'null', 'string'`);
      if (typeof value === 'string' && value.length > 255) throw schemaError(`${str} is too long`);
      return;
    case 'visibility':
      if (typeof value !== 'string' || !VISIBILITIES.includes(value))
        throw schemaError(`${str} is not one of ${JSON.stringify(VISIBILITIES)}`);
      return;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean') throw schemaError(`${str} is not of type 'boolean'`);
      return;
    case 'min_disk':
    case 'min_ram':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw schemaError(`${str} is not of type 'integer'`);
      if (value < 0) throw schemaError(`${str} is less than the minimum of 0`);
      return;
    case 'disk_format':
      if (value !== null && (typeof value !== 'string' || !DISK_FORMATS.includes(value)))
        throw schemaError(`${str} is not one of [None, ${DISK_FORMATS.map((f) => `'${f}'`).join(', ')}]`);
      return;
    case 'container_format':
      if (value !== null && (typeof value !== 'string' || !CONTAINER_FORMATS.includes(value)))
        throw schemaError(`${str} is not one of [None, ${CONTAINER_FORMATS.map((f) => `'${f}'`).join(', ')}]`);
      return;
    case 'tags':
      if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || t.length > 255))
        throw schemaError(`${str} is not a valid list of tags`);
      if (value.length > 128) throw new ApiFault(413, 'Maximum number of tags exceeded (128).');
      return;
    case 'owner':
      if (value !== null && (typeof value !== 'string' || value.length > 255))
        throw schemaError(`${str} is not of type 'null', 'string'`);
      return;
    case 'id':
      if (typeof value !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
        throw schemaError(`${str} does not match the UUID pattern`);
      return;
    default:
      if (key.length > 255) throw schemaError(`property name ${JSON.stringify(key)} is too long`);
      if (typeof value !== 'string') throw schemaError(`${str} is not of type 'string'`);
      if (value.length > 65535) throw schemaError(`${str.slice(0, 40)}... is too long`);
  }
}

/** Set a writable attribute (core or custom) on a row after validation. */
export function setAttr(img: ImageRow, key: string, value: unknown): void {
  checkAttr(key, value);
  switch (key) {
    case 'name':
      img.name = value as string | null;
      return;
    case 'visibility':
      img.visibility = value as ImageRow['visibility'];
      return;
    case 'protected':
      img.protected = value as boolean;
      return;
    case 'os_hidden':
      img.os_hidden = value as boolean;
      return;
    case 'min_disk':
      img.min_disk = value as number;
      return;
    case 'min_ram':
      img.min_ram = value as number;
      return;
    case 'disk_format':
      img.disk_format = value as string | null;
      return;
    case 'container_format':
      img.container_format = value as string | null;
      return;
    case 'tags':
      img.tags = [...new Set(value as string[])];
      return;
    case 'owner':
      img.owner = value as string | null;
      return;
    default:
      img.properties[key] = value as string;
  }
}

/** Sortable value of an attribute (null sorts first ascending, as in SQL with NULLs low). */
export function sortValue(img: ImageRow, key: string): string | number | null {
  switch (key) {
    case 'name':
    case 'status':
    case 'container_format':
    case 'disk_format':
    case 'id':
    case 'visibility':
    case 'owner':
    case 'created_at':
    case 'updated_at':
      return img[key];
    case 'size':
    case 'virtual_size':
    case 'min_disk':
    case 'min_ram':
      return img[key];
    default:
      return null;
  }
}

export const SORT_KEYS = new Set([
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'id',
  'created_at',
  'updated_at',
]);
