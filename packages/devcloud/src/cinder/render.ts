/** How Cinder v3 shows its resources, by microversion and by who is asking. */
import type { AttachmentRow, CinderState, SnapshotRow, TransferRow, TypeRow, VolumeRow } from './state.ts';
import { cinderTime } from './state.ts';

export interface View {
  /** Microversion minor number (3.x → x). */
  mv: number;
  isAdmin: boolean;
  /** Base of the API for links: `${baseUrl}/volume`. */
  apiBase: string;
  /** Project id in the request URL. */
  urlProject: string;
}

export const MIN_MV = 0;
export const MAX_MV = 70;

export function links(view: View, collection: string, id: string) {
  return [
    { rel: 'self', href: `${view.apiBase}/v3/${view.urlProject}/${collection}/${id}` },
    { rel: 'bookmark', href: `${view.apiBase}/${view.urlProject}/${collection}/${id}` },
  ];
}

export function volumeSummary(view: View, v: VolumeRow) {
  return { id: v.id, name: v.name, links: links(view, 'volumes', v.id) };
}

export function volumeAttachments(state: CinderState, v: VolumeRow) {
  return state
    .liveAttachments(v.id)
    .filter((a) => a.status === 'attached')
    .map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.instanceUuid,
      host_name: a.hostName,
      device: a.mountpoint,
      attached_at: cinderTime(a.attachedAt),
    }));
}

/** The full volume body. `created` is the shape of the 202 answer to a create (no tenant attribute). */
export function volumeDetail(state: CinderState, view: View, v: VolumeRow, created = false): Record<string, unknown> {
  const type = state.types.get(v.volumeTypeId);
  const out: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: v.availabilityZone,
    created_at: cinderTime(v.createdAt),
    updated_at: cinderTime(v.updatedAt),
    name: v.name,
    description: v.description,
    volume_type: type?.name ?? null,
    snapshot_id: v.snapshotId,
    source_volid: v.sourceVolid,
    metadata: { ...v.metadata },
    links: links(view, 'volumes', v.id),
    user_id: v.userId,
    bootable: v.bootable ? 'true' : 'false',
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: v.multiattach,
    attachments: volumeAttachments(state, v),
  };
  if (view.isAdmin && !created) out.migration_status = v.migrationStatus;
  if (view.mv >= 13) out.group_id = null;
  if (view.mv >= 21 && view.isAdmin && !created) out.provider_id = null;
  if (view.mv >= 48) {
    out.shared_targets = false;
    out.service_uuid = created ? null : 'e3f3bc4e-5ee5-4b8c-a0c4-d3f0f0d0c0de';
  }
  if (view.mv >= 61 && view.isAdmin && !created) out.cluster_name = null;
  if (view.mv >= 63) out.volume_type_id = v.volumeTypeId;
  if (view.mv >= 65) out.consumes_quota = true;
  if (v.imageMeta) out.volume_image_metadata = { ...v.imageMeta };
  if (!created) {
    out['os-vol-tenant-attr:tenant_id'] = v.projectId;
    if (view.isAdmin) {
      out['os-vol-mig-status-attr:migstat'] = v.migrationStatus;
      out['os-vol-mig-status-attr:name_id'] = null;
      out['os-vol-host-attr:host'] = 'devcloud@lvmdriver-1#lvmdriver-1';
    }
  }
  return out;
}

export function snapshotBody(view: View, s: SnapshotRow, detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    created_at: cinderTime(s.createdAt),
    updated_at: cinderTime(s.updatedAt),
    name: s.name,
    description: s.description,
    volume_id: s.volumeId,
    status: s.status,
    size: s.size,
    metadata: { ...s.metadata },
  };
  if (detail) {
    if (view.mv >= 14) out.group_snapshot_id = null;
    if (view.mv >= 41) out.user_id = s.userId;
    if (view.mv >= 65) out.consumes_quota = true;
    out['os-extended-snapshot-attributes:project_id'] = s.projectId;
    out['os-extended-snapshot-attributes:progress'] = s.status === 'available' ? '100%' : '0%';
  }
  return out;
}

export function connectionInfo(a: AttachmentRow): Record<string, unknown> {
  if (!a.connector) return {};
  return {
    access_mode: a.attachMode ?? 'rw',
    qos_specs: null,
    encrypted: false,
    cacheable: false,
    driver_volume_type: 'iscsi',
    attachment_id: a.id,
    target_discovered: false,
    target_portal: '127.0.0.1:3260',
    target_iqn: `iqn.2010-10.org.openstack:volume-${a.volumeId}`,
    target_lun: 1,
    volume_id: a.volumeId,
  };
}

export function attachmentBody(a: AttachmentRow, detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { id: a.id, status: a.status, instance: a.instanceUuid, volume_id: a.volumeId };
  if (!detail) return out;
  return {
    ...out,
    attached_at: cinderTime(a.attachedAt) ?? '',
    detached_at: cinderTime(a.detachedAt) ?? '',
    attach_mode: a.attachMode ?? 'null',
    connection_info: connectionInfo(a),
  };
}

export function typeBody(t: TypeRow, view: View): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    is_public: t.isPublic,
    description: t.description,
    extra_specs: view.isAdmin ? { ...t.extraSpecs } : {},
  };
  out['os-volume-type-access:is_public'] = t.isPublic;
  if (view.isAdmin) out.qos_specs_id = null;
  return out;
}

export function transferBody(view: View, t: TransferRow, mode: 'summary' | 'detail' | 'created' | 'accepted') {
  const l = links(view, 'os-volume-transfer', t.id);
  if (mode === 'summary' || mode === 'accepted') return { id: t.id, volume_id: t.volumeId, name: t.name, links: l };
  const out: Record<string, unknown> = {
    id: t.id,
    created_at: cinderTime(t.createdAt),
    name: t.name,
    volume_id: t.volumeId,
  };
  if (mode === 'created') out.auth_key = t.authKey;
  out.links = l;
  if (view.mv >= 57) {
    out.source_project_id = t.sourceProjectId;
    out.destination_project_id = t.destinationProjectId;
    out.accepted = t.accepted;
    out.no_snapshots = t.noSnapshots;
  }
  return out;
}
