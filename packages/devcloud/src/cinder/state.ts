/**
 * Cinder's state: volumes, snapshots, attachments, transfers and volume types in the cloud's StateStore, with
 * timed status transitions (creating → available, deleting → gone) settled lazily on every access, and quota
 * usage/enforcement shared by the HTTP API and the in-process InternalApis.volumes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CloudContext, Table } from '../context.ts';
import { type CreateVolumeArgs, createVolume } from './create-volume.ts';
import { badRequest, notFound, overLimit } from './errors.ts';
import {
  type AttachmentRow,
  type BackupRow,
  nowIso,
  type PendingTransition,
  type SnapshotRow,
  type TransferRow,
  type TypeRow,
  type VolumeRow,
} from './rows.ts';

export type {
  AttachmentRow,
  BackupRow,
  PendingTransition,
  SnapshotRow,
  TransferRow,
  TypeRow,
  VolumeRow,
} from './rows.ts';
export { nowIso } from './rows.ts';

export const DEFAULT_TYPE_NAME = 'lvmdriver-1';
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

/** Cinder's timestamps: `2026-11-23T09:15:59.711818` (no zone, microseconds). */
export function cinderTime(iso: string | null): string | null {
  if (!iso) return null;
  return `${iso.slice(0, 23)}000`;
}

export class CinderState {
  readonly volumes: Table<VolumeRow>;
  readonly snapshots: Table<SnapshotRow>;
  readonly attachments: Table<AttachmentRow>;
  readonly transfers: Table<TransferRow>;
  readonly types: Table<TypeRow>;
  readonly backups: Table<BackupRow>;
  readonly ctx: CloudContext;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(ctx: CloudContext) {
    this.ctx = ctx;
    this.volumes = ctx.store.table<VolumeRow>('cinder_volumes');
    this.snapshots = ctx.store.table<SnapshotRow>('cinder_snapshots');
    this.attachments = ctx.store.table<AttachmentRow>('cinder_attachments');
    this.transfers = ctx.store.table<TransferRow>('cinder_transfers');
    this.types = ctx.store.table<TypeRow>('cinder_types');
    this.backups = ctx.store.table<BackupRow>('cinder_backups');
    this.seedTypes();
  }

  private seedTypes(): void {
    if (this.types.all().length > 0) return;
    this.types.put({
      id: randomUUID(),
      name: DEFAULT_TYPE_NAME,
      description: null,
      isPublic: true,
      extraSpecs: { volume_backend_name: DEFAULT_TYPE_NAME },
      isDefault: true,
    });
    this.types.put({
      id: randomUUID(),
      name: '__DEFAULT__',
      description: 'Default Volume Type',
      isPublic: true,
      extraSpecs: {},
      isDefault: false,
    });
  }

  /** Stop pending transition timers (the cloud is closing; rows settle lazily on the next start). */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  get transitionMs(): number {
    return this.ctx.transitionMs;
  }

  /** Apply due transitions to every row (cheap: the simulator holds few rows). */
  settle(): void {
    const now = Date.now();
    for (const v of this.volumes.filter((r) => r.pending !== null && r.pending.at <= now)) {
      if (v.pending!.status === 'deleted') {
        this.volumes.delete(v.id);
        for (const a of this.attachments.filter((x) => x.volumeId === v.id)) this.attachments.delete(a.id);
        continue;
      }
      v.status = v.pending!.status;
      v.pending = null;
      v.updatedAt = nowIso();
      this.volumes.put(v);
    }
    for (const b of this.backups.filter((r) => r.pending !== null && r.pending.at <= now)) {
      if (b.pending!.status === 'deleted') {
        this.backups.delete(b.id);
        continue;
      }
      b.status = b.pending!.status;
      b.pending = null;
      b.updatedAt = nowIso();
      this.backups.put(b);
    }
    for (const s of this.snapshots.filter((r) => r.pending !== null && r.pending.at <= now)) {
      if (s.pending!.status === 'deleted') {
        this.snapshots.delete(s.id);
        continue;
      }
      s.status = s.pending!.status;
      s.pending = null;
      s.updatedAt = nowIso();
      this.snapshots.put(s);
    }
  }

  /** Move a row into `status` now and schedule `next` after the transition delay. */
  schedule<T extends { pending: PendingTransition | null; id: string }>(table: Table<T>, row: T, next: string): void {
    row.pending = { status: next, at: Date.now() + this.transitionMs };
    table.put(row);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        this.settle();
      } catch (err) {
        this.ctx.log.warn('cinder: settling a transition failed', { error: String(err) });
      }
    }, this.transitionMs + 1);
    timer.unref();
    this.timers.add(timer);
  }

  type(idOrName: string): TypeRow | undefined {
    return this.types.get(idOrName) ?? this.types.filter((t) => t.name === idOrName)[0];
  }

  defaultType(): TypeRow {
    return this.types.filter((t) => t.isDefault)[0] ?? this.types.all()[0]!;
  }

  volume(id: string): VolumeRow | undefined {
    this.settle();
    return this.volumes.get(id);
  }

  /** Volume attachments that are attached or in progress (not detached). */
  liveAttachments(volumeId: string): AttachmentRow[] {
    return this.attachments.filter((a) => a.volumeId === volumeId && a.status !== 'detached');
  }

  usage(projectId: string): Record<string, number> {
    this.settle();
    const out: Record<string, number> = { volumes: 0, gigabytes: 0, snapshots: 0, backups: 0, backup_gigabytes: 0 };
    for (const t of this.types.all()) {
      out[`volumes_${t.name}`] = 0;
      out[`gigabytes_${t.name}`] = 0;
      out[`snapshots_${t.name}`] = 0;
    }
    const typeName = new Map(this.types.all().map((t) => [t.id, t.name]));
    for (const v of this.volumes.filter((r) => r.projectId === projectId)) {
      out.volumes! += 1;
      out.gigabytes! += v.size;
      const tn = typeName.get(v.volumeTypeId);
      if (tn) {
        out[`volumes_${tn}`]! += 1;
        out[`gigabytes_${tn}`]! += v.size;
      }
    }
    for (const s of this.snapshots.filter((r) => r.projectId === projectId)) {
      out.snapshots! += 1;
      out.gigabytes! += s.size;
      const v = this.volumes.get(s.volumeId);
      const tn = v ? typeName.get(v.volumeTypeId) : undefined;
      if (tn) {
        out[`snapshots_${tn}`]! += 1;
        out[`gigabytes_${tn}`]! += s.size;
      }
    }
    for (const b of this.backups.filter((r) => r.projectId === projectId)) {
      out.backups! += 1;
      out.backup_gigabytes! += b.size;
    }
    return out;
  }

  /** Throw Cinder's 413 if adding these resources would exceed the project's quota. */
  checkQuota(
    projectId: string,
    add: {
      volumes?: number;
      snapshots?: number;
      gigabytes?: number;
      size?: number;
      backups?: number;
      backupGigabytes?: number;
    },
  ): void {
    const used = this.usage(projectId);
    const limit = (r: string) => this.ctx.quotaLimit('volume', projectId, r);
    const perVolume = limit('per_volume_gigabytes');
    if (add.size !== undefined && perVolume >= 0 && add.size > perVolume) {
      throw overLimit(
        `VolumeSizeExceedsLimit: Requested volume size ${add.size}G is larger than maximum allowed limit ${perVolume}G.`,
      );
    }
    if (add.volumes) {
      const l = limit('volumes');
      if (l >= 0 && used.volumes! + add.volumes > l) {
        throw overLimit(`VolumeLimitExceeded: Maximum number of volumes allowed (${l}) exceeded for quota 'volumes'.`);
      }
    }
    if (add.snapshots) {
      const l = limit('snapshots');
      if (l >= 0 && used.snapshots! + add.snapshots > l) {
        throw overLimit(`SnapshotLimitExceeded: Maximum number of snapshots allowed (${l}) exceeded`);
      }
    }
    if (add.backups) {
      const l = limit('backups');
      if (l >= 0 && used.backups! + add.backups > l) {
        throw overLimit(`BackupLimitExceeded: Maximum number of backups allowed (${l}) exceeded`);
      }
    }
    if (add.backupGigabytes) {
      const l = limit('backup_gigabytes');
      if (l >= 0 && used.backup_gigabytes! + add.backupGigabytes > l) {
        throw overLimit(
          `VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested ${add.backupGigabytes}G, quota is ${l}G and ${used.backup_gigabytes}G has been consumed.`,
        );
      }
    }
    if (add.gigabytes) {
      const l = limit('gigabytes');
      if (l >= 0 && used.gigabytes! + add.gigabytes > l) {
        throw overLimit(
          `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${add.gigabytes}G, quota is ${l}G and ${used.gigabytes}G has been consumed.`,
        );
      }
    }
  }
  /** Create a volume row (status creating → available). Validates sources and quota. */
  createVolume(args: CreateVolumeArgs): VolumeRow {
    return createVolume(this, args);
  }

  /** Why a volume cannot be deleted, in Cinder's words, or undefined. */
  deleteProblem(v: VolumeRow, opts: { cascade?: boolean; force?: boolean }): string | undefined {
    const attached = this.liveAttachments(v.id).length > 0;
    const hasSnapshots = this.snapshots.filter((s) => s.volumeId === v.id).length > 0;
    if (opts.force) return attached ? 'volume is attached' : undefined;
    if (
      !DELETABLE.includes(v.status) ||
      attached ||
      (hasSnapshots && !opts.cascade) ||
      v.status === 'awaiting-transfer'
    ) {
      return 'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';
    }
    return undefined;
  }

  deleteVolume(v: VolumeRow, opts: { cascade?: boolean; force?: boolean } = {}): void {
    const problem = this.deleteProblem(v, opts);
    if (problem) throw badRequest(problem);
    for (const s of this.snapshots.filter((x) => x.volumeId === v.id)) {
      s.status = 'deleting';
      this.schedule(this.snapshots, s, 'deleted');
    }
    for (const t of this.transfers.filter((x) => x.volumeId === v.id)) this.transfers.delete(t.id);
    v.status = 'deleting';
    v.updatedAt = nowIso();
    this.schedule(this.volumes, v, 'deleted');
  }

  /** Attach directly (os-attach and Nova's in-process attach): an attached attachment, volume in-use. */
  attach(
    v: VolumeRow,
    args: { instanceUuid: string; mountpoint: string | null; hostName?: string | null; mode?: string },
  ): AttachmentRow {
    const live = this.liveAttachments(v.id);
    if (!v.multiattach && live.some((a) => a.status === 'attached')) {
      throw badRequest('Invalid volume: volume is already attached and multiple attachments are not enabled');
    }
    const okStatus =
      ['available', 'reserved', 'attaching'].includes(v.status) || (v.multiattach && v.status === 'in-use');
    if (!okStatus) {
      throw badRequest(
        `Invalid volume: Volume ${v.id} status must be available or reserved or attaching, but current status is: ${v.status}.`,
      );
    }
    if (live.some((a) => a.status === 'attached' && a.instanceUuid === args.instanceUuid)) {
      throw badRequest(`Invalid volume: Volume ${v.id} is already attached to instance ${args.instanceUuid}.`);
    }
    const now = nowIso();
    let a = live.find(
      (x) => x.status !== 'attached' && (x.instanceUuid === args.instanceUuid || x.instanceUuid === null),
    );
    a ??= {
      id: randomUUID(),
      volumeId: v.id,
      projectId: v.projectId,
      instanceUuid: args.instanceUuid,
      status: 'attached',
      mountpoint: null,
      hostName: null,
      attachMode: null,
      connector: null,
      attachedAt: null,
      detachedAt: null,
      createdAt: now,
    };
    Object.assign(a, {
      instanceUuid: args.instanceUuid,
      status: 'attached',
      mountpoint: args.mountpoint,
      hostName: args.hostName ?? a.hostName,
      attachMode: args.mode ?? 'rw',
      attachedAt: now,
    });
    this.attachments.put(a);
    v.status = 'in-use';
    v.metadata.readonly ??= 'False';
    v.metadata.attached_mode = a.attachMode ?? 'rw';
    v.updatedAt = now;
    v.pending = null;
    this.volumes.put(v);
    return a;
  }

  /** Mark an attachment detached and recompute the volume's status. */
  detachAttachment(v: VolumeRow, a: AttachmentRow): void {
    a.status = 'detached';
    a.detachedAt = nowIso();
    this.attachments.delete(a.id);
    this.refreshAttachStatus(v);
  }

  refreshAttachStatus(v: VolumeRow): void {
    const live = this.liveAttachments(v.id);
    if (live.some((a) => a.status === 'attached')) v.status = 'in-use';
    else if (live.some((a) => a.status === 'attaching')) v.status = 'attaching';
    else if (live.length > 0) v.status = 'reserved';
    else {
      v.status = 'available';
      delete v.metadata.attached_mode;
      delete v.metadata.readonly;
    }
    v.updatedAt = nowIso();
    this.volumes.put(v);
  }

  newTransfer(v: VolumeRow, name: string | null, noSnapshots: boolean): TransferRow {
    if (v.status !== 'available') {
      throw badRequest('Invalid volume: status must be available');
    }
    const t: TransferRow = {
      id: randomUUID(),
      volumeId: v.id,
      name,
      authKey: randomBytes(8).toString('hex'),
      sourceProjectId: v.projectId,
      destinationProjectId: null,
      accepted: false,
      noSnapshots,
      createdAt: nowIso(),
    };
    this.transfers.put(t);
    v.status = 'awaiting-transfer';
    v.updatedAt = nowIso();
    this.volumes.put(v);
    return t;
  }

  acceptTransfer(t: TransferRow, authKey: unknown, projectId: string, userId: string): VolumeRow {
    if (typeof authKey !== 'string' || authKey !== t.authKey) {
      throw badRequest(`Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`);
    }
    const v = this.volume(t.volumeId);
    if (!v) throw notFound(`Volume ${t.volumeId} could not be found.`);
    const snaps = t.noSnapshots ? [] : this.snapshots.filter((s) => s.volumeId === v.id);
    this.checkQuota(projectId, {
      volumes: 1,
      snapshots: snaps.length,
      gigabytes: v.size + snaps.reduce((n, s) => n + s.size, 0),
      size: v.size,
    });
    v.projectId = projectId;
    v.userId = userId;
    v.status = 'available';
    v.updatedAt = nowIso();
    this.volumes.put(v);
    for (const s of snaps) {
      s.projectId = projectId;
      s.userId = userId;
      this.snapshots.put(s);
    }
    this.transfers.delete(t.id);
    return v;
  }

  cancelTransfer(t: TransferRow): void {
    const v = this.volume(t.volumeId);
    this.transfers.delete(t.id);
    if (v && v.status === 'awaiting-transfer') {
      v.status = 'available';
      v.updatedAt = nowIso();
      this.volumes.put(v);
    }
  }
}

export function assertInt(value: unknown, field: string, min: number): number {
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    if (typeof value === 'string') {
      throw badRequest(
        `Invalid input for field/attribute ${field}. Value: ${value}. '${value}' does not match '^[0-9]+$'`,
      );
    }
    throw badRequest(
      `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'integer', 'string'`,
    );
  }
  if (n < min)
    throw badRequest(
      `Invalid input for field/attribute ${field}. Value: ${n}. ${n} is less than the minimum of ${min}`,
    );
  return n;
}
