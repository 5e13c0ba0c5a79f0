import { createReadStream } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import type { RequestBody } from '../transport/types.ts';
import { type ApiObject, type CallOptions, callOpts, type ListOptions, pages, seg, unwrap } from './common.ts';

export interface GlanceImage extends ApiObject {
  id: string;
  name: string | null;
  status: string;
  visibility?: string;
  protected?: boolean;
  checksum?: string | null;
  os_hash_algo?: string | null;
  os_hash_value?: string | null;
  size?: number | null;
  virtual_size?: number | null;
  disk_format?: string | null;
  container_format?: string | null;
  min_ram?: number;
  min_disk?: number;
  owner?: string;
  tags?: string[];
  created_at?: string;
  updated_at?: string;
  file?: string;
  direct_url?: string;
  locations?: unknown[];
}

/** Fields accepted by `POST /v2/images`: the standard ones plus any string properties. */
export interface CreateImageRequest {
  name: string;
  id?: string;
  disk_format?: string;
  container_format?: string;
  visibility?: 'public' | 'private' | 'shared' | 'community';
  protected?: boolean;
  min_ram?: number;
  min_disk?: number;
  tags?: string[];
  [property: string]: unknown;
}

/** An RFC 6902 operation as Glance's `application/openstack-images-v2.1-json-patch` takes it. */
export type ImagePatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/** Image data to upload: bytes, a stream, an async iterable of chunks, or `{ path }` of a local file. */
export type ImageData = Uint8Array | Readable | AsyncIterable<Uint8Array> | { path: string };

const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

function toBody(data: ImageData): RequestBody {
  if (data instanceof Uint8Array || data instanceof Readable) return data;
  if (typeof data === 'object' && data !== null && 'path' in data && typeof data.path === 'string') {
    return createReadStream(data.path);
  }
  return data as AsyncIterable<Uint8Array>;
}

/** Glance v2. Lists follow Glance's top-level `next` link. */
export class ImageClient {
  readonly http: ServiceClient;

  constructor(http: ServiceClient) {
    this.http = http;
  }

  static fromSession(session: Session, opts?: ServiceClientOptions): ImageClient {
    return new ImageClient(session.client('image', opts));
  }

  /**
   * All images visible to the caller. Filters and sort go in `query`, e.g.
   * `{ name: 'x', status: 'active', visibility: 'all', tag: ['a', 'b'], sort: 'name:asc,created_at:desc' }`.
   */
  listImages(opts?: ListOptions): AsyncIterable<GlanceImage> {
    return pages<GlanceImage>(this.http, '/images', 'images', opts);
  }

  async getImage(id: string, opts?: CallOptions): Promise<GlanceImage> {
    const res = await this.http.get(`/images/${seg(id)}`, callOpts(opts));
    return res.json<GlanceImage>();
  }

  async createImage(image: CreateImageRequest, opts?: CallOptions): Promise<GlanceImage> {
    const res = await this.http.post('/images', callOpts(opts, { json: image, expect: [201] }));
    return res.json<GlanceImage>();
  }

  /** JSON-patch update (`PATCH /images/{id}`). */
  async updateImage(id: string, ops: ImagePatchOp[], opts?: CallOptions): Promise<GlanceImage> {
    const res = await this.http.patch(
      `/images/${seg(id)}`,
      callOpts(opts, { body: JSON.stringify(ops), headers: { 'content-type': PATCH_TYPE } }),
    );
    return res.json<GlanceImage>();
  }

  /** Set (add or replace) top-level properties. `existing` decides add vs replace per key. */
  async setImageProperties(
    id: string,
    properties: Record<string, unknown>,
    existing: ApiObject,
    opts?: CallOptions,
  ): Promise<GlanceImage> {
    const ops: ImagePatchOp[] = Object.entries(properties).map(([key, value]) => ({
      op: key in existing ? 'replace' : 'add',
      path: `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      value,
    }));
    return this.updateImage(id, ops, opts);
  }

  async deleteImage(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/images/${seg(id)}`, callOpts(opts, { expect: [204] }))).dump();
  }

  /**
   * Upload image data (`PUT /images/{id}/file`), streamed: a file path is read as a stream, never into memory.
   * A stream body is sent once and never retried.
   */
  async uploadImageData(id: string, data: ImageData, opts?: CallOptions & { size?: number }): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (opts?.size !== undefined) headers['content-length'] = String(opts.size);
    const res = await this.http.put(
      `/images/${seg(id)}/file`,
      callOpts(opts, { body: toBody(data), headers, expect: [204] }),
    );
    await res.dump();
  }

  /** Stream the image data (`GET /images/{id}/file`) into `sink`. Returns the byte count and Content-MD5 if sent. */
  async downloadImageData(
    id: string,
    sink: Writable,
    opts?: CallOptions,
  ): Promise<{ bytes: number; contentMd5: string | undefined }> {
    const res = await this.http.get(`/images/${seg(id)}/file`, callOpts(opts, { stream: true }));
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Uint8Array, _enc, done) {
        bytes += chunk.byteLength;
        done(null, chunk);
      },
    });
    await pipeline(res.body, counter, sink, opts?.signal ? { signal: opts.signal } : {});
    return { bytes, contentMd5: res.headers.get('content-md5') ?? undefined };
  }

  async addTag(id: string, tag: string, opts?: CallOptions): Promise<void> {
    await (await this.http.put(`/images/${seg(id)}/tags/${seg(tag)}`, callOpts(opts))).dump();
  }

  async removeTag(id: string, tag: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/images/${seg(id)}/tags/${seg(tag)}`, callOpts(opts))).dump();
  }

  async deactivateImage(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.post(`/images/${seg(id)}/actions/deactivate`, callOpts(opts))).dump();
  }

  async reactivateImage(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.post(`/images/${seg(id)}/actions/reactivate`, callOpts(opts))).dump();
  }

  /** Glance's image schema (`GET /schemas/image`). */
  async getImageSchema(opts?: CallOptions): Promise<ApiObject> {
    return (await this.http.get('/schemas/image', callOpts(opts))).json<ApiObject>();
  }

  /** Stores available for import (multi-store Glance); `unwrap` fails with INVALID_RESPONSE on other Glances. */
  async listStores(opts?: CallOptions): Promise<ApiObject[]> {
    return unwrap(await this.http.get('/info/stores', callOpts(opts)), 'stores');
  }
}
