import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import { type ApiObject, type CallOptions, callOpts, type ListOptions, pages, seg, unwrap } from './common.ts';

/** One address entry of a Nova server (`addresses[network][i]`). */
export interface NovaAddress {
  addr: string;
  version: 4 | 6;
  'OS-EXT-IPS:type'?: 'fixed' | 'floating' | string;
  'OS-EXT-IPS-MAC:mac_addr'?: string;
}

/** A server as Nova returns it (GET /servers/detail). Unlisted keys are kept as they come. */
export interface NovaServer extends ApiObject {
  id: string;
  name: string;
  status: string;
  tenant_id?: string;
  user_id?: string;
  addresses?: Record<string, NovaAddress[]>;
  accessIPv4?: string;
  accessIPv6?: string;
  /** `""` when booted from volume. */
  image?: { id?: string; [k: string]: unknown } | string;
  flavor?: { id?: string; original_name?: string; [k: string]: unknown };
  key_name?: string | null;
  metadata?: Record<string, string>;
  hostId?: string;
  created?: string;
  updated?: string;
  fault?: { message?: string; code?: number; details?: string; created?: string };
  security_groups?: { name: string }[];
  config_drive?: string | boolean;
  progress?: number;
  'OS-EXT-AZ:availability_zone'?: string;
  'os-extended-volumes:volumes_attached'?: { id: string; delete_on_termination?: boolean }[];
}

export interface NovaFlavor extends ApiObject {
  id: string;
  name: string;
  ram: number;
  vcpus: number;
  disk: number;
  'OS-FLV-EXT-DATA:ephemeral'?: number;
  'OS-FLV-DISABLED:disabled'?: boolean;
  'os-flavor-access:is_public'?: boolean;
  swap?: number | string;
  rxtx_factor?: number;
  extra_specs?: Record<string, string>;
}

export interface NovaKeypair extends ApiObject {
  name: string;
  public_key: string;
  fingerprint: string;
  type?: string;
  /** Only when the server generated the key pair. */
  private_key?: string;
  user_id?: string;
}

export interface NovaLimits extends ApiObject {
  absolute: Record<string, number>;
  rate?: unknown[];
}

export interface NovaVolumeAttachment extends ApiObject {
  id?: string;
  volumeId: string;
  serverId: string;
  device?: string | null;
}

export interface NovaAvailabilityZone extends ApiObject {
  zoneName: string;
  zoneState: { available: boolean };
  hosts?: Record<string, unknown> | null;
}

/** `POST /servers` body (`server` object). */
export interface CreateServerRequest {
  name: string;
  imageRef?: string;
  flavorRef: string;
  networks?: { uuid?: string; port?: string; fixed_ip?: string; tag?: string }[] | 'auto' | 'none';
  key_name?: string;
  /** Base64. */
  user_data?: string;
  metadata?: Record<string, string>;
  security_groups?: { name: string }[];
  availability_zone?: string;
  config_drive?: boolean;
  adminPass?: string;
  min_count?: number;
  max_count?: number;
  block_device_mapping_v2?: Record<string, unknown>[];
  [extra: string]: unknown;
}

/** The immediate answer of `POST /servers`. */
export interface CreatedServer extends ApiObject {
  id: string;
  adminPass?: string;
  links?: unknown[];
  security_groups?: { name: string }[];
}

export type RebootType = 'SOFT' | 'HARD';

/** Nova (compute v2.1). Thin: one method per API call, paths relative to the versioned endpoint. */
export class ComputeClient {
  readonly http: ServiceClient;

  constructor(http: ServiceClient) {
    this.http = http;
  }

  static fromSession(session: Session, opts?: ServiceClientOptions): ComputeClient {
    return new ComputeClient(session.client('compute', opts));
  }

  // --- servers ---
  /** All servers (detailed by default), across `servers_links` pages. */
  listServers(opts?: ListOptions & { detailed?: boolean }): AsyncIterable<NovaServer> {
    const path = opts?.detailed === false ? '/servers' : '/servers/detail';
    return pages<NovaServer>(this.http, path, 'servers', opts);
  }

  async getServer(id: string, opts?: CallOptions): Promise<NovaServer> {
    return unwrap(await this.http.get(`/servers/${seg(id)}`, callOpts(opts)), 'server');
  }

  /** `POST /servers`; scheduler hints travel beside the server object as `os:scheduler_hints`. */
  async createServer(
    server: CreateServerRequest,
    opts?: CallOptions & { microversion?: string; schedulerHints?: Record<string, unknown> },
  ): Promise<CreatedServer> {
    const json: Record<string, unknown> = { server };
    if (opts?.schedulerHints && Object.keys(opts.schedulerHints).length)
      json['os:scheduler_hints'] = opts.schedulerHints;
    const res = await this.http.post('/servers', callOpts(opts, { json, microversion: opts?.microversion }));
    return unwrap(res, 'server');
  }

  /** Server groups (`GET /os-server-groups`). */
  listServerGroups(opts?: ListOptions): AsyncIterable<ApiObject & { id: string; name: string; policies?: string[] }> {
    return pages(this.http, '/os-server-groups', 'server_groups', opts);
  }

  async updateServer(
    id: string,
    server: { name?: string; description?: string },
    opts?: CallOptions,
  ): Promise<NovaServer> {
    return unwrap(await this.http.put(`/servers/${seg(id)}`, callOpts(opts, { json: { server } })), 'server');
  }

  async deleteServer(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/servers/${seg(id)}`, callOpts(opts, { expect: [204] }))).dump();
  }

  /** POST /servers/{id}/action with any action body (e.g. `{ 'os-getConsoleOutput': {} }`). */
  async serverAction(id: string, action: Record<string, unknown>, opts?: CallOptions): Promise<unknown> {
    const res = await this.http.post(`/servers/${seg(id)}/action`, callOpts(opts, { json: action }));
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  /**
   * Snapshot a server into a new image (`createImage` action). Returns the image id: from the body
   * (microversion 2.45+) or the Location header (older).
   */
  async createServerImage(
    id: string,
    name: string,
    opts?: CallOptions & { metadata?: Record<string, string> },
  ): Promise<string> {
    const res = await this.http.post(
      `/servers/${seg(id)}/action`,
      callOpts(opts, { json: { createImage: { name, metadata: opts?.metadata ?? {} } } }),
    );
    const text = await res.text();
    const body = text ? (JSON.parse(text) as { image_id?: string }) : {};
    const fromHeader = res.headers.get('location')?.split('/').filter(Boolean).at(-1);
    const imageId = body.image_id ?? fromHeader;
    if (!imageId) {
      throw new OcxError(ErrorCode.INVALID_RESPONSE, 'createImage action answered without an image id', {
        method: res.method,
        url: res.url,
        status: res.status,
        requestId: res.requestId,
      });
    }
    return imageId;
  }

  async rebootServer(id: string, type: RebootType = 'SOFT', opts?: CallOptions): Promise<void> {
    await this.serverAction(id, { reboot: { type } }, opts);
  }

  async stopServer(id: string, opts?: CallOptions): Promise<void> {
    await this.serverAction(id, { 'os-stop': null }, opts);
  }

  async startServer(id: string, opts?: CallOptions): Promise<void> {
    await this.serverAction(id, { 'os-start': null }, opts);
  }

  async getServerConsoleOutput(id: string, length?: number, opts?: CallOptions): Promise<string> {
    const out = (await this.serverAction(
      id,
      { 'os-getConsoleOutput': length === undefined ? {} : { length } },
      opts,
    )) as { output?: string } | undefined;
    return out?.output ?? '';
  }

  async setServerMetadata(
    id: string,
    metadata: Record<string, string>,
    opts?: CallOptions,
  ): Promise<Record<string, string>> {
    const res = await this.http.post(`/servers/${seg(id)}/metadata`, callOpts(opts, { json: { metadata } }));
    return unwrap(res, 'metadata');
  }

  // --- flavors ---
  listFlavors(opts?: ListOptions & { detailed?: boolean }): AsyncIterable<NovaFlavor> {
    const path = opts?.detailed === false ? '/flavors' : '/flavors/detail';
    return pages<NovaFlavor>(this.http, path, 'flavors', opts);
  }

  async getFlavor(id: string, opts?: CallOptions): Promise<NovaFlavor> {
    return unwrap(await this.http.get(`/flavors/${seg(id)}`, callOpts(opts)), 'flavor');
  }

  async getFlavorExtraSpecs(id: string, opts?: CallOptions): Promise<Record<string, string>> {
    return unwrap(await this.http.get(`/flavors/${seg(id)}/os-extra_specs`, callOpts(opts)), 'extra_specs');
  }

  // --- keypairs ---
  /** Key pairs of the current user (`GET /os-keypairs`; each item is wrapped as `{keypair: …}` on the wire). */
  async *listKeypairs(opts?: ListOptions): AsyncIterable<NovaKeypair> {
    for await (const item of pages<{ keypair: NovaKeypair }>(this.http, '/os-keypairs', 'keypairs', opts, {
      marker: false,
    })) {
      yield item.keypair;
    }
  }

  async getKeypair(name: string, opts?: CallOptions): Promise<NovaKeypair> {
    return unwrap(await this.http.get(`/os-keypairs/${seg(name)}`, callOpts(opts)), 'keypair');
  }

  /** Without `public_key` the server generates the pair and returns `private_key` (microversion < 2.92). */
  async createKeypair(
    keypair: { name: string; public_key?: string; type?: 'ssh' | 'x509' },
    opts?: CallOptions & { microversion?: string },
  ): Promise<NovaKeypair> {
    const res = await this.http.post(
      '/os-keypairs',
      callOpts(opts, { json: { keypair }, microversion: opts?.microversion }),
    );
    return unwrap(res, 'keypair');
  }

  async deleteKeypair(name: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/os-keypairs/${seg(name)}`, callOpts(opts))).dump();
  }

  // --- limits, quotas, availability zones ---
  async getLimits(opts?: CallOptions & { projectId?: string }): Promise<NovaLimits> {
    const query = opts?.projectId ? { tenant_id: opts.projectId } : undefined;
    return unwrap(await this.http.get('/limits', callOpts(opts, { query })), 'limits');
  }

  async getQuotaSet(projectId: string, opts?: CallOptions & { detail?: boolean }): Promise<ApiObject> {
    const path = `/os-quota-sets/${seg(projectId)}${opts?.detail ? '/detail' : ''}`;
    return unwrap(await this.http.get(path, callOpts(opts)), 'quota_set');
  }

  async updateQuotaSet(projectId: string, quotaSet: Record<string, number>, opts?: CallOptions): Promise<ApiObject> {
    const res = await this.http.put(
      `/os-quota-sets/${seg(projectId)}`,
      callOpts(opts, { json: { quota_set: quotaSet } }),
    );
    return unwrap(res, 'quota_set');
  }

  async listAvailabilityZones(opts?: CallOptions & { detailed?: boolean }): Promise<NovaAvailabilityZone[]> {
    const path = opts?.detailed ? '/os-availability-zone/detail' : '/os-availability-zone';
    return unwrap(await this.http.get(path, callOpts(opts)), 'availabilityZoneInfo');
  }

  // --- volume attachments ---
  async listVolumeAttachments(serverId: string, opts?: CallOptions): Promise<NovaVolumeAttachment[]> {
    const res = await this.http.get(`/servers/${seg(serverId)}/os-volume_attachments`, callOpts(opts));
    return unwrap(res, 'volumeAttachments');
  }

  async attachVolume(
    serverId: string,
    volumeId: string,
    opts?: CallOptions & { device?: string },
  ): Promise<NovaVolumeAttachment> {
    const volumeAttachment: Record<string, string> = { volumeId };
    if (opts?.device) volumeAttachment.device = opts.device;
    const res = await this.http.post(
      `/servers/${seg(serverId)}/os-volume_attachments`,
      callOpts(opts, { json: { volumeAttachment } }),
    );
    return unwrap(res, 'volumeAttachment');
  }

  async detachVolume(serverId: string, volumeId: string, opts?: CallOptions): Promise<void> {
    const res = await this.http.delete(
      `/servers/${seg(serverId)}/os-volume_attachments/${seg(volumeId)}`,
      callOpts(opts),
    );
    await res.dump();
  }
}
