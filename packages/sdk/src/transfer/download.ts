/**
 * Download an object to a file in parallel byte ranges, each written at its offset. A static large object is read
 * segment by segment (from its manifest, `multipart-manifest=get`) and each range is checked against its segment's
 * ETag; a plain object is checked against its ETag (the MD5 of the file once all ranges are in). The data goes to
 * `<file>.part` and is renamed to `<file>` only when verified.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import type { ObjectStoreClient } from '../services/object-store.ts';
import { checksumMismatch, fileError, md5OfRange, objectPath, sloEtag, unquote } from './files.ts';
import { abortError, runParts } from './pool.ts';
import { ProgressTracker } from './tracker.ts';
import type { TransferOptions } from './types.ts';
import { DEFAULT_SEGMENT_SIZE, DEFAULT_THREADS } from './upload.ts';

export interface DownloadOptions extends TransferOptions {
  /** Bytes per range of a plain object (default 32 MiB). An SLO is read in its segments. */
  partSize?: number | undefined;
}

export interface DownloadResult {
  container: string;
  name: string;
  file: string;
  size: number;
  etag: string | undefined;
  slo: boolean;
  parts: number;
  /** False only for a dynamic large object (X-Object-Manifest), whose ETag is not a checksum of its bytes. */
  verified: boolean;
  bytesReceived: number;
}

interface Part {
  start: number;
  bytes: number;
  /** Expected MD5 of the range (SLO segments). */
  md5?: string | undefined;
}

interface ManifestSegment {
  name: string;
  bytes: number;
  hash: string;
  range?: string;
}

async function downloadFileInner(
  store: ObjectStoreClient,
  container: string,
  name: string,
  file: string,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  const call = { signal: opts.signal, timeoutMs: opts.timeoutMs };
  const head = await store.headObject(container, name, call);
  const size = head.contentLength ?? 0;
  const etag = head.etag;
  const slo = head.headers.get('x-static-large-object')?.toLowerCase() === 'true';
  const dlo = head.headers.get('x-object-manifest') !== null;

  let parts: Part[];
  let manifestEtags: string[] | undefined;
  if (slo) {
    const manifest = await store.http.getJson<ManifestSegment[]>(objectPath(container, name), {
      ...call,
      query: { 'multipart-manifest': 'get' },
    });
    if (!Array.isArray(manifest)) {
      throw new OcxError(ErrorCode.INVALID_RESPONSE, `the manifest of ${container}/${name} is not a list`);
    }
    let offset = 0;
    parts = manifest.map((s) => {
      // A segment that is a sub-range of another object has no ETag of its own bytes: not checked by range.
      const p: Part = { start: offset, bytes: Number(s.bytes), md5: s.range ? undefined : s.hash };
      offset += p.bytes;
      return p;
    });
    if (manifest.every((s) => !s.range)) manifestEtags = manifest.map((s) => s.hash);
    if (offset !== size) {
      throw new OcxError(
        ErrorCode.INVALID_RESPONSE,
        `the manifest of ${container}/${name} adds up to ${offset} bytes, the object has ${size}`,
      );
    }
  } else if (dlo) {
    parts = [{ start: 0, bytes: size }];
  } else {
    const partSize = opts.partSize ?? DEFAULT_SEGMENT_SIZE;
    parts = [];
    for (let start = 0; start < size; start += partSize) parts.push({ start, bytes: Math.min(partSize, size - start) });
  }

  const tmp = `${file}.part`;
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(tmp, 'w');
  } catch (err) {
    throw fileError(file, err);
  }
  const tracker = new ProgressTracker(size, parts.length, opts.onProgress);
  try {
    await fh.truncate(size);
    await runParts(parts.length, opts.threads ?? DEFAULT_THREADS, opts.signal, async (i, signal) => {
      const part = parts[i] as Part;
      if (part.bytes === 0) return tracker.partDone();
      const range = { start: part.start, end: part.start + part.bytes - 1 };
      const whole = parts.length === 1;
      const { body, status } = await store.getObject(container, name, {
        signal,
        timeoutMs: opts.timeoutMs,
        ...(whole ? {} : { range }),
      });
      if (!whole && status !== 206) {
        body.destroy();
        throw new OcxError(ErrorCode.INVALID_RESPONSE, `asked ${container}/${name} for a range, got status ${status}`);
      }
      const hash = createHash('md5');
      let pos = part.start;
      let got = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (got + chunk.length > part.bytes)
            throw new OcxError(ErrorCode.INVALID_RESPONSE, 'range longer than asked');
          hash.update(chunk);
          await fh.write(chunk, 0, chunk.length, pos);
          pos += chunk.length;
          got += chunk.length;
          tracker.transferred(chunk.length);
        }
      } catch (err) {
        tracker.undo(got);
        body.destroy();
        throw err;
      }
      if (got !== part.bytes) {
        throw new OcxError(
          ErrorCode.INVALID_RESPONSE,
          `range of ${container}/${name} ended after ${got} of ${part.bytes} bytes`,
        );
      }
      const md5 = hash.digest('hex');
      if (part.md5 !== undefined && md5 !== part.md5) {
        throw checksumMismatch(`${container}/${name} bytes ${range.start}-${range.end}`, part.md5, md5);
      }
      tracker.partDone();
    });
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();

  let verified = false;
  try {
    if (slo && manifestEtags) {
      const expected = sloEtag(manifestEtags);
      if (etag !== undefined && etag !== expected)
        throw checksumMismatch(`manifest of ${container}/${name}`, expected, etag);
      verified = true;
    } else if (slo) {
      verified = parts.every((p) => p.md5 !== undefined);
    } else if (!dlo && etag !== undefined) {
      const local = await md5OfRange(tmp, 0, size, opts.signal);
      if (unquote(etag) !== local) throw checksumMismatch(`${container}/${name}`, local, etag);
      verified = true;
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return {
    container,
    name,
    file,
    size,
    etag,
    slo,
    parts: parts.length,
    verified,
    bytesReceived: tracker.state.bytesTransferred,
  };
}

/**
 * Download `container/name` into `file` (written as `<file>.part`, renamed once verified).
 * Every call carries `signal` and `timeoutMs`; an abort ends it with CANCELLED (or the signal's OcxError reason).
 */
export async function downloadFile(
  store: ObjectStoreClient,
  container: string,
  name: string,
  file: string,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  try {
    return await downloadFileInner(store, container, name, file, opts);
  } catch (err) {
    if (opts.signal?.aborted && !isOcxError(err)) throw abortError(opts.signal, err);
    throw err;
  }
}
