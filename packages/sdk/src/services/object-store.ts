import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Query, ServiceClient, ServiceClientOptions, ServiceResponse, Session } from '../session/types.ts';
import type { RequestBody } from '../transport/types.ts';
import { type CallOptions, callOpts, type ListOptions, seg } from './common.ts';

export interface SwiftContainer {
  name: string;
  count: number;
  bytes: number;
  last_modified?: string;
}

export interface SwiftObject {
  /** Absent for `subdir` entries (pseudo-folders when listing with a delimiter). */
  name?: string;
  subdir?: string;
  hash?: string;
  bytes?: number;
  content_type?: string;
  last_modified?: string;
}

/** Account or container metadata from HEAD: counts plus `X-*-Meta-*` headers (lower-cased keys, prefix removed). */
export interface SwiftStat {
  objectCount: number | undefined;
  bytesUsed: number | undefined;
  containerCount: number | undefined;
  metadata: Record<string, string>;
  headers: Headers;
}

export interface ObjectStat {
  contentLength: number | undefined;
  contentType: string | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  metadata: Record<string, string>;
  headers: Headers;
}

/** A byte range: `{start, end}` inclusive as in HTTP, or `{suffix}` for the last N bytes. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

function rangeHeader(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

function num(h: Headers, name: string): number | undefined {
  const v = h.get(name);
  return v === null ? undefined : Number(v);
}

function metaFrom(h: Headers, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, key) => {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  });
  return out;
}

function metaHeaders(prefix: string, metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) out[`${prefix}${k}`] = v;
  return out;
}

/** Swift. The endpoint is the account URL (…/v1/AUTH_<project>); listings page with `marker` on names. */
export class ObjectStoreClient {
  readonly http: ServiceClient;

  constructor(http: ServiceClient) {
    this.http = http;
  }

  static fromSession(session: Session, opts?: ServiceClientOptions): ObjectStoreClient {
    return new ObjectStoreClient(session.client('object-store', opts));
  }

  private async *markerPages<T extends { name?: string; subdir?: string }>(
    path: string,
    opts: ListOptions | undefined,
  ): AsyncIterable<T> {
    const base: Record<string, unknown> =
      opts?.query instanceof URLSearchParams ? Object.fromEntries(opts.query) : { ...(opts?.query ?? {}) };
    // A caller's own `marker` starts the listing after that name (the loop's marker replaces it page by page).
    let marker: string | undefined = typeof base.marker === 'string' && base.marker ? base.marker : undefined;
    for (;;) {
      const query = { ...base, format: 'json', limit: opts?.pageSize, marker } as Query;
      const res = await this.http.get(path, callOpts(opts, { query }));
      if (res.status === 204) {
        await res.dump();
        return;
      }
      const page = (await res.json<T[] | undefined>()) ?? [];
      for (const item of page) yield item;
      const last = page.at(-1);
      const next = last?.name ?? last?.subdir;
      if (page.length === 0 || next === undefined || (opts?.pageSize !== undefined && page.length < opts.pageSize))
        return;
      marker = next;
    }
  }

  // --- account ---
  async getAccount(opts?: CallOptions): Promise<SwiftStat> {
    const res = await this.http.head('', callOpts(opts, { expect: [200, 204] }));
    await res.dump();
    return {
      objectCount: num(res.headers, 'x-account-object-count'),
      bytesUsed: num(res.headers, 'x-account-bytes-used'),
      containerCount: num(res.headers, 'x-account-container-count'),
      metadata: metaFrom(res.headers, 'x-account-meta-'),
      headers: res.headers,
    };
  }
  async setAccountMetadata(metadata: Record<string, string>, opts?: CallOptions): Promise<void> {
    await (await this.http.post('', callOpts(opts, { headers: metaHeaders('x-account-meta-', metadata) }))).dump();
  }

  // --- containers ---
  /** Containers of the account; filter with `query: { prefix }`. */
  listContainers(opts?: ListOptions): AsyncIterable<SwiftContainer> {
    return this.markerPages<SwiftContainer & { name: string }>('', opts);
  }
  async getContainer(container: string, opts?: CallOptions): Promise<SwiftStat> {
    const res = await this.http.head(`/${seg(container)}`, callOpts(opts, { expect: [200, 204] }));
    await res.dump();
    return {
      objectCount: num(res.headers, 'x-container-object-count'),
      bytesUsed: num(res.headers, 'x-container-bytes-used'),
      containerCount: undefined,
      metadata: metaFrom(res.headers, 'x-container-meta-'),
      headers: res.headers,
    };
  }
  /** PUT is idempotent in Swift: 201 created, 202 already there. */
  async createContainer(
    container: string,
    opts?: CallOptions & { metadata?: Record<string, string>; headers?: Record<string, string> },
  ): Promise<void> {
    const headers = { ...metaHeaders('x-container-meta-', opts?.metadata), ...(opts?.headers ?? {}) };
    await (await this.http.put(`/${seg(container)}`, callOpts(opts, { headers, expect: [201, 202, 204] }))).dump();
  }
  async setContainerMetadata(container: string, metadata: Record<string, string>, opts?: CallOptions): Promise<void> {
    const res = await this.http.post(
      `/${seg(container)}`,
      callOpts(opts, { headers: metaHeaders('x-container-meta-', metadata) }),
    );
    await res.dump();
  }
  async deleteContainer(container: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/${seg(container)}`, callOpts(opts))).dump();
  }

  // --- objects ---
  /** Objects of a container; `query: { prefix, delimiter }` gives pseudo-folders as `subdir` entries. */
  listObjects(container: string, opts?: ListOptions): AsyncIterable<SwiftObject> {
    return this.markerPages<SwiftObject>(`/${seg(container)}`, opts);
  }
  private objectPath(container: string, name: string): string {
    // Object names may contain '/', which Swift treats as part of the name: encode each segment.
    return `/${seg(container)}/${name.split('/').map(encodeURIComponent).join('/')}`;
  }
  async headObject(container: string, name: string, opts?: CallOptions): Promise<ObjectStat> {
    const res = await this.http.head(this.objectPath(container, name), callOpts(opts));
    await res.dump();
    return objectStat(res);
  }
  /**
   * Upload an object, streamed. With `etag` Swift verifies the MD5; a stream body is sent once and never retried.
   * Returns the ETag Swift computed.
   */
  async putObject(
    container: string,
    name: string,
    data: RequestBody,
    opts?: CallOptions & {
      contentType?: string;
      etag?: string;
      size?: number;
      metadata?: Record<string, string>;
      headers?: Record<string, string>;
    },
  ): Promise<string | undefined> {
    const headers: Record<string, string> = {
      'content-type': opts?.contentType ?? 'application/octet-stream',
      ...metaHeaders('x-object-meta-', opts?.metadata),
      ...(opts?.headers ?? {}),
    };
    if (opts?.etag) headers.etag = opts.etag;
    if (opts?.size !== undefined) headers['content-length'] = String(opts.size);
    const res = await this.http.put(
      this.objectPath(container, name),
      callOpts(opts, { body: data, headers, expect: [201] }),
    );
    await res.dump();
    return res.headers.get('etag') ?? undefined;
  }
  /**
   * Open an object for reading as a stream (optionally a byte range: status 206). Consume or `dump()` the body.
   */
  async getObject(
    container: string,
    name: string,
    opts?: CallOptions & { range?: ByteRange },
  ): Promise<{ stat: ObjectStat; status: number; body: Readable }> {
    const headers: Record<string, string> = {};
    if (opts?.range) headers.range = rangeHeader(opts.range);
    const res = await this.http.get(this.objectPath(container, name), callOpts(opts, { headers, stream: true }));
    return { stat: objectStat(res), status: res.status, body: res.body };
  }
  /** Stream an object (or a range of it) into `sink`. */
  async downloadObject(
    container: string,
    name: string,
    sink: Writable,
    opts?: CallOptions & { range?: ByteRange },
  ): Promise<ObjectStat & { status: number }> {
    const { stat, status, body } = await this.getObject(container, name, opts);
    await pipeline(body, sink, opts?.signal ? { signal: opts.signal } : {});
    return { ...stat, status };
  }
  async setObjectMetadata(
    container: string,
    name: string,
    metadata: Record<string, string>,
    opts?: CallOptions,
  ): Promise<void> {
    const res = await this.http.post(
      this.objectPath(container, name),
      callOpts(opts, { headers: metaHeaders('x-object-meta-', metadata) }),
    );
    await res.dump();
  }
  async copyObject(
    container: string,
    name: string,
    destination: { container: string; name: string },
    opts?: CallOptions,
  ): Promise<void> {
    const res = await this.http.put(
      this.objectPath(destination.container, destination.name),
      callOpts(opts, {
        headers: { 'x-copy-from': `${encodeURIComponent(container)}/${name}`, 'content-length': '0' },
        expect: [201],
      }),
    );
    await res.dump();
  }
  async deleteObject(container: string, name: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(this.objectPath(container, name), callOpts(opts))).dump();
  }
}

function objectStat(res: ServiceResponse): ObjectStat {
  return {
    contentLength: num(res.headers, 'content-length'),
    contentType: res.headers.get('content-type') ?? undefined,
    etag: res.headers.get('etag')?.replace(/"/g, '') ?? undefined,
    lastModified: res.headers.get('last-modified') ?? undefined,
    metadata: metaFrom(res.headers, 'x-object-meta-'),
    headers: res.headers,
  };
}
