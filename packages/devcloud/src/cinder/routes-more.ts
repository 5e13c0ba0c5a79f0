/**
 * Cinder v3 routes beyond volumes, one file per resource, registered in this order: snapshots, backups,
 * attachments, types, quotas/limits (+ zones, services, extensions), transfers.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudContext } from '../context.ts';
import { registerAttachmentRoutes } from './routes-attachments.ts';
import { registerBackupRoutes } from './routes-backups.ts';
import { registerQuotaRoutes } from './routes-quotas.ts';
import { registerSnapshotRoutes } from './routes-snapshots.ts';
import { registerTransferRoutes } from './routes-transfers.ts';
import { registerTypeRoutes } from './routes-types.ts';
import type { CinderState } from './state.ts';

export function registerMoreRoutes(app: FastifyInstance, ctx: CloudContext, state: CinderState): void {
  registerSnapshotRoutes(app, state);
  registerBackupRoutes(app, state);
  registerAttachmentRoutes(app, state);
  registerTypeRoutes(app, state);
  registerQuotaRoutes(app, ctx, state);
  registerTransferRoutes(app, state);
}
