/**
 * Upload a file to Swift: one PUT for a small file, else a static large object of segments sent in parallel.
 * Segments are named like python-swiftclient's (`<object>/slo/<mtime>/<size>/<segment size>/<index>` in
 * `<container>_segments`), so an interrupted upload of the same unchanged file finds its stored segments and sends
 * only the missing ones; each stored segment counts only when its size and ETag match the local bytes' MD5.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { isNotFound } from '../services/common.ts';
import type { ObjectStoreClient } from '../services/object-store.ts';
import { checksumMismatch, fileError, md5OfRange, objectPath, readRange, sloEtag, unquote } from './files.ts';
import { type SwiftLimits, swiftLimits } from './info.ts';
import { abortError, runParts } from './pool.ts';
import { ProgressTracker } from './tracker.ts';
import type { TransferOptions } from './types.ts';

/** Segment size when neither the caller nor the cluster's limits decide it. */
export const DEFAULT_SEGMENT_SIZE = 32 * 1024 * 1024;
export const DEFAULT_THREADS = 4;

export interface UploadOptions extends TransferOptions {
  /** Bytes per segment (default 32 MiB, raised to the cluster's `min_segment_size` and to fit `max_manifest_segments`). */
  segmentSize?: number | undefined;
  /** Container for the segments (default `<container>_segments`, like swiftclient). */
  segmentContainer?: string | undefined;
  contentType?: string | undefined;
  metadata?: Record<string, string> | undefined;
  /** Cluster limits, when the caller already read `/info`. */
  limits?: SwiftLimits | undefined;
}

export interface UploadResult {
  container: string;
  name: string;
  /** ETag Swift reports for the object (an SLO's is the MD5 of its segments' ETags). */
  etag: string;
  size: number;
  slo: boolean;
  segmentSize: number;
  segments: number;
  segmentContainer: string | undefined;
  /** Bytes sent in request bodies by this call (manifests excluded). */
  bytesSent: number;
  /** Bytes not sent because they were already stored and matched. */
  bytesSkipped: number;
  /** Segments of the object's previous version (an SLO it replaced) deleted after the new one was in place. */
  staleSegmentsDeleted: number;
}

/** The segment size for a file: the caller's (or the default), no smaller than the cluster allows and few enough segments. */
export function chooseSegmentSize(size: number, limits: SwiftLimits, requested?: number): number {
  if (requested !== undefined && !(Number.isInteger(requested) && requested > 0)) {
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `segment size must be a positive whole number of bytes, got ${requested}`,
    );
  }
  if (requested !== undefined && requested < limits.minSegmentSize) {
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `segment size ${requested} is below the cluster's min_segment_size ${limits.minSegmentSize}`,
    );
  }
  const fit = Math.ceil(size / limits.maxManifestSegments);
  const chosen = Math.max(requested ?? DEFAULT_SEGMENT_SIZE, limits.minSegmentSize, fit);
  if (chosen > limits.maxFileSize) {
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `a ${size}-byte file needs segments over the cluster's max_file_size ${limits.maxFileSize}`,
    );
  }
  return chosen;
}

async function uploadFileInner(
  store: ObjectStoreClient,
  container: string,
  name: string,
  file: string,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const call = { signal: opts.signal, timeoutMs: opts.timeoutMs };
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(file);
  } catch (err) {
    throw fileError(file, err);
  }
  if (!st.isFile()) throw fileError(file, 'not a regular file');
  const size = st.size;
  const limits = opts.limits ?? (await swiftLimits(store, call));
  const segmentSize = chooseSegmentSize(size, limits, opts.segmentSize);
  if (size <= segmentSize || !limits.slo) {
    if (size > limits.maxFileSize) {
      throw new OcxError(ErrorCode.BAD_REQUEST, `'${file}' is over max_file_size and the cluster has no SLO`);
    }
    return uploadWhole(store, container, name, file, size, segmentSize, opts);
  }

  const segmentContainer = opts.segmentContainer ?? `${container}_segments`;
  const count = Math.ceil(size / segmentSize);
  // No leading '/': a manifest path is `/<container>/<object>` and must not hold `//`.
  const prefix = `${name.replace(/^\/+/, '')}/slo/${(st.mtimeMs / 1000).toFixed(6)}/${size}/${segmentSize}/`;
  const segName = (i: number) => `${prefix}${String(i).padStart(8, '0')}`;
  const segBytes = (i: number) => Math.min(segmentSize, size - i * segmentSize);

  await store.createContainer(segmentContainer, call);
  const stored = new Map<string, { bytes: number; hash: string }>();
  for await (const o of store.listObjects(segmentContainer, { ...call, query: { prefix } })) {
    if (o.name !== undefined && o.bytes !== undefined && o.hash) stored.set(o.name, { bytes: o.bytes, hash: o.hash });
  }

  const tracker = new ProgressTracker(size, count, opts.onProgress);
  const etags: string[] = new Array(count);
  await runParts(count, opts.threads ?? DEFAULT_THREADS, opts.signal, async (i, signal) => {
    const start = i * segmentSize;
    const bytes = segBytes(i);
    const have = stored.get(segName(i));
    if (have && have.bytes === bytes) {
      const local = await md5OfRange(file, start, bytes, signal);
      if (local === have.hash) {
        etags[i] = local;
        tracker.skipped(bytes);
        return;
      }
    }
    etags[i] = await sendRange(store, segmentContainer, segName(i), file, start, bytes, tracker, {
      signal,
      timeoutMs: opts.timeoutMs,
    });
    tracker.partDone();
  });

  const manifest = etags.map((etag, i) => ({
    path: `/${segmentContainer}/${segName(i)}`,
    etag,
    size_bytes: segBytes(i),
  }));
  const expected = sloEtag(etags);
  const previous = await storedSegments(store, container, name, call);
  const res = await store.http.put(objectPath(container, name), {
    ...call,
    query: { 'multipart-manifest': 'put' },
    body: JSON.stringify(manifest),
    headers: {
      'content-type': opts.contentType ?? 'application/octet-stream',
      etag: expected,
      ...metaHeaders(opts.metadata),
    },
    expect: [201],
  });
  await res.dump();
  const got = unquote(res.headers.get('etag'));
  if (got !== undefined && got !== expected) throw checksumMismatch(`manifest of ${container}/${name}`, expected, got);
  return {
    container,
    name,
    etag: expected,
    size,
    slo: true,
    segmentSize,
    segments: count,
    segmentContainer,
    bytesSent: tracker.state.bytesTransferred,
    bytesSkipped: tracker.state.bytesSkipped,
    staleSegmentsDeleted: await deleteStale(store, previous, new Set(manifest.map((m) => m.path)), call),
  };
}

/** The segment paths (`/<container>/<object>`) of the stored object when it is a static large object, else none. */
async function storedSegments(
  store: ObjectStoreClient,
  container: string,
  name: string,
  call: { signal: AbortSignal | undefined; timeoutMs: number | undefined },
): Promise<string[]> {
  const head = await store.headObject(container, name, call).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (head?.headers.get('x-static-large-object')?.toLowerCase() !== 'true') return [];
  const manifest = await store.http.getJson<Array<{ name?: unknown }>>(objectPath(container, name), {
    ...call,
    query: { 'multipart-manifest': 'get' },
  });
  return Array.isArray(manifest) ? manifest.flatMap((s) => (typeof s.name === 'string' ? [s.name] : [])) : [];
}

/**
 * Delete the segments of a replaced SLO that the new version does not use (as swiftclient does unless told to leave
 * them), so that overwriting a large object does not leave its old bytes behind. Already gone is fine.
 */
async function deleteStale(
  store: ObjectStoreClient,
  previous: readonly string[],
  keep: ReadonlySet<string>,
  call: { signal: AbortSignal | undefined; timeoutMs: number | undefined },
): Promise<number> {
  let deleted = 0;
  for (const path of new Set(previous)) {
    if (keep.has(path)) continue;
    const p = path.replace(/^\//, '');
    const slash = p.indexOf('/');
    if (slash <= 0) continue;
    await store.deleteObject(p.slice(0, slash), p.slice(slash + 1), call).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    deleted++;
  }
  return deleted;
}

function metaHeaders(metadata: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [`x-object-meta-${k}`, v]));
}

/** PUT one byte range of the file as an object, hashing it on the way; the ETag Swift returns must be that MD5. */
async function sendRange(
  store: ObjectStoreClient,
  container: string,
  name: string,
  file: string,
  start: number,
  bytes: number,
  tracker: ProgressTracker,
  call: { signal: AbortSignal; timeoutMs: number | undefined },
  extra: { contentType?: string | undefined; metadata?: Record<string, string> | undefined; etag?: string } = {},
): Promise<string> {
  const hash = createHash('md5');
  let sent = 0;
  async function* body() {
    for await (const chunk of readRange(file, start, bytes, call.signal)) {
      hash.update(chunk);
      sent += chunk.length;
      tracker.transferred(chunk.length);
      yield chunk;
    }
  }
  let got: string | undefined;
  try {
    got = unquote(
      await store.putObject(container, name, body(), {
        ...call,
        size: bytes,
        ...(extra.contentType ? { contentType: extra.contentType } : {}),
        ...(extra.metadata ? { metadata: extra.metadata } : {}),
        ...(extra.etag ? { etag: extra.etag } : {}),
      }),
    );
  } catch (err) {
    tracker.undo(sent);
    throw err;
  }
  const local = hash.digest('hex');
  if (sent !== bytes) throw fileError(file, `it changed while being read (${sent} of ${bytes} bytes)`);
  if (got !== local) throw checksumMismatch(`${container}/${name}`, local, got);
  return local;
}

/** A file small enough for one PUT: skipped when the stored object already has its size and MD5. */
async function uploadWhole(
  store: ObjectStoreClient,
  container: string,
  name: string,
  file: string,
  size: number,
  segmentSize: number,
  opts: UploadOptions,
): Promise<UploadResult> {
  const call = { signal: opts.signal, timeoutMs: opts.timeoutMs };
  const tracker = new ProgressTracker(size, 1, opts.onProgress);
  const local = await md5OfRange(file, 0, size, opts.signal);
  const existing = await store.headObject(container, name, call).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const result = {
    container,
    name,
    etag: local,
    size,
    slo: false,
    segmentSize,
    segments: 1,
    segmentContainer: undefined,
  };
  const sameMeta = Object.entries(opts.metadata ?? {}).every(([k, v]) => existing?.metadata[k.toLowerCase()] === v);
  if (existing && existing.contentLength === size && existing.etag === local && sameMeta) {
    tracker.skipped(size);
    return { ...result, bytesSent: 0, bytesSkipped: size, staleSegmentsDeleted: 0 };
  }
  const previous =
    existing?.headers.get('x-static-large-object')?.toLowerCase() === 'true'
      ? await storedSegments(store, container, name, call)
      : [];
  const signal = opts.signal ?? new AbortController().signal;
  // Sending the ETag lets Swift refuse (422) bytes that arrive damaged; the returned ETag is checked too.
  await sendRange(
    store,
    container,
    name,
    file,
    0,
    size,
    tracker,
    { signal, timeoutMs: opts.timeoutMs },
    {
      contentType: opts.contentType,
      metadata: opts.metadata,
      etag: local,
    },
  );
  tracker.partDone();
  const staleSegmentsDeleted = await deleteStale(store, previous, new Set(), call);
  return { ...result, bytesSent: tracker.state.bytesTransferred, bytesSkipped: 0, staleSegmentsDeleted };
}

/**
 * Upload `file` as `container/name`. The container must exist (the segment container is created when needed).
 * Every call carries `signal` and `timeoutMs`; an abort ends it with CANCELLED (or the signal's OcxError reason).
 */
export async function uploadFile(
  store: ObjectStoreClient,
  container: string,
  name: string,
  file: string,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  try {
    return await uploadFileInner(store, container, name, file, opts);
  } catch (err) {
    if (opts.signal?.aborted && !isOcxError(err)) throw abortError(opts.signal, err);
    throw err;
  }
}
