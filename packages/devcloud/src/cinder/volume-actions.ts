/** Cinder volume actions (`POST /volumes/{id}/action`): attach/detach, reserve, extend, reset, upload, ... */
import type { FastifyInstance } from 'fastify';
import { badRequest, forbidden, notFound } from './errors.ts';
import { findVolume, requireMv, rs, truthy } from './http.ts';
import { assertInt, type CinderState, nowIso } from './state.ts';

export function volumeActionRoutes(app: FastifyInstance, state: CinderState): void {
  const P = '/v3/:project_id';
  // Volume actions.
  app.post<{ Params: { id: string } }>(`${P}/volumes/:id/action`, async (req, reply) => {
    const { tok, view } = rs(req);
    const v = findVolume(state, req, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const keys = Object.keys(b);
    if (keys.length !== 1) throw badRequest('Invalid request body: exactly one action expected.');
    const action = keys[0]!;
    const args = (b[action] ?? {}) as Record<string, unknown>;
    const setStatus = (from: string[], to: string) => {
      if (!from.includes(v.status)) {
        throw badRequest(
          `Invalid volume: Volume status must be ${from.join(' or ')}, but current status is: ${v.status}.`,
        );
      }
      v.status = to;
      v.updatedAt = nowIso();
      state.volumes.put(v);
    };
    switch (action) {
      case 'os-attach': {
        const instance = args.instance_uuid;
        const host = args.host_name;
        if (typeof instance !== 'string' && typeof host !== 'string') {
          throw badRequest('Invalid request to attach volume to an invalid target');
        }
        const mode = typeof args.mode === 'string' ? args.mode : 'rw';
        if (mode !== 'rw' && mode !== 'ro') throw badRequest('Invalid request to attach volume with an invalid mode.');
        state.attach(v, {
          instanceUuid: typeof instance === 'string' ? instance : '',
          mountpoint: typeof args.mountpoint === 'string' ? args.mountpoint : null,
          hostName: typeof host === 'string' ? host : null,
          mode,
        });
        return reply.code(202).send();
      }
      case 'os-detach': {
        const live = state.liveAttachments(v.id);
        const attId = args.attachment_id;
        const a =
          typeof attId === 'string' ? live.find((x) => x.id === attId) : live.length === 1 ? live[0] : undefined;
        if (!a) {
          // Real Cinder answers 202 and does nothing when there is nothing to detach.
          if (live.length === 0) return reply.code(202).send();
          throw badRequest('Invalid volume: Volume has multiple attachments; an attachment_id is required to detach.');
        }
        state.detachAttachment(v, a);
        return reply.code(202).send();
      }
      case 'os-reserve':
        setStatus(v.multiattach ? ['available', 'in-use'] : ['available'], 'attaching');
        return reply.code(202).send();
      case 'os-unreserve':
        if (v.status === 'attaching') state.refreshAttachStatus(v);
        return reply.code(202).send();
      case 'os-begin_detaching':
        setStatus(['in-use'], 'detaching');
        return reply.code(202).send();
      case 'os-roll_detaching':
        if (v.status === 'detaching') state.refreshAttachStatus(v);
        return reply.code(202).send();
      case 'os-initialize_connection': {
        if (typeof args.connector !== 'object' || args.connector === null) {
          throw badRequest('Must specify a connector');
        }
        return reply.code(200).send({
          connection_info: {
            driver_volume_type: 'iscsi',
            data: {
              target_discovered: false,
              target_portal: '127.0.0.1:3260',
              target_iqn: `iqn.2010-10.org.openstack:volume-${v.id}`,
              target_lun: 1,
              volume_id: v.id,
              access_mode: 'rw',
              encrypted: false,
            },
          },
        });
      }
      case 'os-terminate_connection':
        return reply.code(202).send();
      case 'os-extend': {
        const newSize = assertInt(args.new_size, 'new_size', 1);
        const allowed = view.mv >= 42 ? ['available', 'in-use'] : ['available'];
        if (!allowed.includes(v.status)) {
          throw badRequest(
            `Invalid volume: Volume status must be ${allowed.join(' or ')} to extend, but current status is: ${v.status}.`,
          );
        }
        if (newSize <= v.size) {
          throw badRequest(
            `Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`,
          );
        }
        state.checkQuota(v.projectId, { gigabytes: newSize - v.size, size: newSize });
        const back = v.status;
        v.size = newSize;
        v.status = 'extending';
        v.updatedAt = nowIso();
        state.schedule(state.volumes, v, back);
        return reply.code(202).send();
      }
      case 'os-reset_status': {
        if (!tok.isAdmin) throw forbidden('volume_extension:volume_admin_actions:reset_status');
        const valid = [
          'available',
          'error',
          'creating',
          'deleting',
          'in-use',
          'attaching',
          'detaching',
          'error_deleting',
          'maintenance',
          'reserved',
          'error_extending',
          'awaiting-transfer',
        ];
        if (args.status !== undefined) {
          if (typeof args.status !== 'string' || !valid.includes(args.status)) {
            throw badRequest(`Invalid input for field/attribute status. Value: ${String(args.status)}.`);
          }
          v.status = args.status;
        }
        if (typeof args.migration_status === 'string')
          v.migrationStatus = args.migration_status === 'none' ? null : args.migration_status;
        if (args.attach_status === 'detached') {
          for (const a of state.liveAttachments(v.id)) state.attachments.delete(a.id);
        }
        v.pending = null;
        v.updatedAt = nowIso();
        state.volumes.put(v);
        return reply.code(202).send();
      }
      case 'os-force_delete': {
        if (!tok.isAdmin) throw forbidden('volume_extension:volume_admin_actions:force_delete');
        for (const a of state.liveAttachments(v.id)) state.attachments.delete(a.id);
        v.status = 'deleting';
        for (const s of state.snapshots.filter((x) => x.volumeId === v.id)) state.snapshots.delete(s.id);
        state.schedule(state.volumes, v, 'deleted');
        return reply.code(202).send();
      }
      case 'os-set_bootable': {
        const val = args.bootable;
        const bool = typeof val === 'boolean' ? val : typeof val === 'string' ? truthy(val) : undefined;
        if (bool === undefined) throw badRequest('Invalid value for bootable: must be a boolean.');
        v.bootable = bool;
        v.updatedAt = nowIso();
        state.volumes.put(v);
        return reply.code(200).send();
      }
      case 'os-update_readonly_flag': {
        const val = args.readonly;
        if (typeof val !== 'boolean') throw badRequest('Invalid value for readonly: must be a boolean.');
        v.metadata.readonly = val ? 'True' : 'False';
        state.volumes.put(v);
        return reply.code(202).send();
      }
      case 'os-retype': {
        const t = typeof args.new_type === 'string' ? state.type(args.new_type) : undefined;
        if (!t) throw notFound(`Volume type with name ${String(args.new_type)} could not be found.`);
        if (!['available', 'in-use'].includes(v.status)) {
          throw badRequest(
            `Invalid volume: Volume status must be available or in-use, but current status is: ${v.status}.`,
          );
        }
        v.volumeTypeId = t.id;
        v.updatedAt = nowIso();
        state.volumes.put(v);
        return reply.code(202).send();
      }
      case 'revert': {
        requireMv(req, 40);
        const snap = typeof args.snapshot_id === 'string' ? state.snapshots.get(args.snapshot_id) : undefined;
        if (!snap || snap.volumeId !== v.id)
          throw badRequest('Invalid snapshot: the snapshot does not belong to this volume.');
        const latest = state.snapshots
          .filter((s) => s.volumeId === v.id)
          .sort((a, b2) => (a.createdAt < b2.createdAt ? 1 : -1))[0];
        if (latest?.id !== snap.id) throw badRequest('Invalid snapshot: Only the latest snapshot can be reverted to.');
        if (v.status !== 'available')
          throw badRequest(`Invalid volume: Volume status must be available, but current status is: ${v.status}.`);
        v.status = 'reverting';
        state.schedule(state.volumes, v, 'available');
        return reply.code(202).send();
      }
      default:
        throw badRequest(
          `There is no such action: ${action}. Verify the request body and Content-Type header and try again.`,
        );
    }
  });
}
