/**
 * The rows Cinder keeps in the StateStore: volumes, snapshots, attachments, transfers, backups, types; and the
 * two values both state.ts and create-volume.ts stamp rows with (here, so that neither imports the other).
 */

/** Volume metadata key that makes creation end in 'error' (devcloud's injected failure). */
export const FAULT_METADATA_KEY = 'devcloud:fault';

export function nowIso(): string {
  return new Date().toISOString();
}

export interface PendingTransition {
  /** Status to take at `at`; 'deleted' removes the row. */
  status: string;
  at: number;
}

export interface VolumeRow {
  id: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  availabilityZone: string;
  volumeTypeId: string;
  snapshotId: string | null;
  sourceVolid: string | null;
  imageId: string | null;
  imageMeta: Record<string, string> | null;
  bootable: boolean;
  multiattach: boolean;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string | null;
  migrationStatus: string | null;
  pending: PendingTransition | null;
}

export interface SnapshotRow {
  id: string;
  projectId: string;
  userId: string;
  volumeId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string | null;
  pending: PendingTransition | null;
}

export interface AttachmentRow {
  id: string;
  volumeId: string;
  projectId: string;
  instanceUuid: string | null;
  status: 'reserved' | 'attaching' | 'attached' | 'detached';
  mountpoint: string | null;
  hostName: string | null;
  attachMode: string | null;
  connector: Record<string, unknown> | null;
  attachedAt: string | null;
  detachedAt: string | null;
  createdAt: string;
}

export interface TransferRow {
  id: string;
  volumeId: string;
  name: string | null;
  authKey: string;
  sourceProjectId: string;
  destinationProjectId: string | null;
  accepted: boolean;
  noSnapshots: boolean;
  createdAt: string;
}

export interface BackupRow {
  id: string;
  projectId: string;
  userId: string;
  volumeId: string;
  snapshotId: string | null;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  incremental: boolean;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string | null;
  dataTimestamp: string;
  pending: PendingTransition | null;
}

export interface TypeRow {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
  isDefault: boolean;
}
