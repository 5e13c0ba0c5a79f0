import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import { type ApiObject, type CallOptions, callOpts, type ListOptions, pages, seg, unwrap } from './common.ts';

export interface CinderVolume extends ApiObject {
  id: string;
  name: string | null;
  status: string;
  size: number;
  availability_zone?: string;
  bootable?: string | boolean;
  volume_type?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  attachments?: { server_id: string; attachment_id?: string; device?: string; volume_id?: string }[];
  'os-vol-tenant-attr:tenant_id'?: string;
  created_at?: string;
  updated_at?: string | null;
  snapshot_id?: string | null;
  source_volid?: string | null;
  multiattach?: boolean;
  encrypted?: boolean;
}

export interface CinderSnapshot extends ApiObject {
  id: string;
  name: string | null;
  status: string;
  size: number;
  volume_id: string;
  description?: string | null;
  created_at?: string;
  metadata?: Record<string, string>;
}

export interface CreateVolumeRequest {
  size: number;
  name?: string;
  description?: string;
  volume_type?: string;
  availability_zone?: string;
  imageRef?: string;
  snapshot_id?: string;
  source_volid?: string;
  metadata?: Record<string, string>;
  [extra: string]: unknown;
}

export interface CinderTransfer extends ApiObject {
  id: string;
  name: string | null;
  volume_id: string;
  created_at?: string;
  /** Only in the create answer. */
  auth_key?: string;
}

/** One quota entry with usage (`?usage=true`): `{limit, in_use, reserved, allocated?}`. */
export interface QuotaUsage {
  limit: number;
  in_use: number;
  reserved: number;
  allocated?: number;
}

/** Cinder v3. Paths are relative to the versioned endpoint (which carries the project id). */
export class BlockStorageClient {
  readonly http: ServiceClient;

  constructor(http: ServiceClient) {
    this.http = http;
  }

  static fromSession(session: Session, opts?: ServiceClientOptions): BlockStorageClient {
    return new BlockStorageClient(session.client('block-storage', opts));
  }

  // --- volumes ---
  listVolumes(opts?: ListOptions & { detailed?: boolean }): AsyncIterable<CinderVolume> {
    return pages<CinderVolume>(this.http, opts?.detailed === false ? '/volumes' : '/volumes/detail', 'volumes', opts);
  }

  /** GET /limits: the project's absolute limits (maxTotalVolumes, totalGigabytesUsed, ...). */
  async getLimits(opts?: CallOptions): Promise<{ absolute: Record<string, number>; rate?: unknown[] }> {
    return unwrap(await this.http.get('/limits', callOpts(opts)), 'limits');
  }

  async getVolume(id: string, opts?: CallOptions): Promise<CinderVolume> {
    return unwrap(await this.http.get(`/volumes/${seg(id)}`, callOpts(opts)), 'volume');
  }

  async createVolume(volume: CreateVolumeRequest, opts?: CallOptions): Promise<CinderVolume> {
    return unwrap(await this.http.post('/volumes', callOpts(opts, { json: { volume } })), 'volume');
  }

  async updateVolume(
    id: string,
    volume: { name?: string; description?: string; metadata?: Record<string, string> },
    opts?: CallOptions,
  ): Promise<CinderVolume> {
    return unwrap(await this.http.put(`/volumes/${seg(id)}`, callOpts(opts, { json: { volume } })), 'volume');
  }

  async deleteVolume(id: string, opts?: CallOptions & { cascade?: boolean; force?: boolean }): Promise<void> {
    const query = opts?.cascade ? { cascade: true } : undefined;
    if (opts?.force) {
      await this.volumeAction(id, { 'os-force_delete': {} }, opts);
      return;
    }
    await (await this.http.delete(`/volumes/${seg(id)}`, callOpts(opts, { query }))).dump();
  }

  async volumeAction(id: string, action: Record<string, unknown>, opts?: CallOptions): Promise<unknown> {
    const res = await this.http.post(`/volumes/${seg(id)}/action`, callOpts(opts, { json: action }));
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  async extendVolume(id: string, newSize: number, opts?: CallOptions): Promise<void> {
    await this.volumeAction(id, { 'os-extend': { new_size: newSize } }, opts);
  }

  // --- snapshots ---
  listSnapshots(opts?: ListOptions & { detailed?: boolean }): AsyncIterable<CinderSnapshot> {
    return pages<CinderSnapshot>(
      this.http,
      opts?.detailed === false ? '/snapshots' : '/snapshots/detail',
      'snapshots',
      opts,
    );
  }

  async getSnapshot(id: string, opts?: CallOptions): Promise<CinderSnapshot> {
    return unwrap(await this.http.get(`/snapshots/${seg(id)}`, callOpts(opts)), 'snapshot');
  }

  async createSnapshot(
    snapshot: {
      volume_id: string;
      name?: string;
      description?: string;
      force?: boolean;
      metadata?: Record<string, string>;
    },
    opts?: CallOptions,
  ): Promise<CinderSnapshot> {
    return unwrap(await this.http.post('/snapshots', callOpts(opts, { json: { snapshot } })), 'snapshot');
  }

  async deleteSnapshot(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/snapshots/${seg(id)}`, callOpts(opts))).dump();
  }

  // --- quotas ---
  /** `GET /os-quota-sets/{project}`; with `usage` each entry is `{limit, in_use, reserved}`. */
  async getQuotaSet(
    projectId: string,
    opts?: CallOptions & { usage?: false },
  ): Promise<Record<string, number | string>>;
  async getQuotaSet(
    projectId: string,
    opts: CallOptions & { usage: true },
  ): Promise<Record<string, QuotaUsage | string>>;
  async getQuotaSet(projectId: string, opts?: CallOptions & { usage?: boolean }): Promise<ApiObject> {
    const query = opts?.usage ? { usage: true } : undefined;
    return unwrap(await this.http.get(`/os-quota-sets/${seg(projectId)}`, callOpts(opts, { query })), 'quota_set');
  }

  async updateQuotaSet(projectId: string, quotaSet: Record<string, number>, opts?: CallOptions): Promise<ApiObject> {
    const res = await this.http.put(
      `/os-quota-sets/${seg(projectId)}`,
      callOpts(opts, { json: { quota_set: quotaSet } }),
    );
    return unwrap(res, 'quota_set');
  }

  // --- transfers (the pre-3.55 `os-volume-transfer` resource, which every v3 Cinder still serves) ---
  listTransfers(opts?: ListOptions): AsyncIterable<CinderTransfer> {
    return pages<CinderTransfer>(this.http, '/os-volume-transfer/detail', 'transfers', opts);
  }

  async getTransfer(id: string, opts?: CallOptions): Promise<CinderTransfer> {
    return unwrap(await this.http.get(`/os-volume-transfer/${seg(id)}`, callOpts(opts)), 'transfer');
  }

  /** The answer carries `auth_key`, which the receiving project needs to accept. */
  async createTransfer(volumeId: string, opts?: CallOptions & { name?: string }): Promise<CinderTransfer> {
    const transfer: Record<string, string> = { volume_id: volumeId };
    if (opts?.name) transfer.name = opts.name;
    return unwrap(await this.http.post('/os-volume-transfer', callOpts(opts, { json: { transfer } })), 'transfer');
  }

  async acceptTransfer(id: string, authKey: string, opts?: CallOptions): Promise<CinderTransfer> {
    const res = await this.http.post(
      `/os-volume-transfer/${seg(id)}/accept`,
      callOpts(opts, { json: { accept: { auth_key: authKey } } }),
    );
    return unwrap(res, 'transfer');
  }

  async deleteTransfer(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/os-volume-transfer/${seg(id)}`, callOpts(opts))).dump();
  }
}
