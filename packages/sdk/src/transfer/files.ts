import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { seg } from '../services/common.ts';

/** `bytes` bytes of a file from `start`, read in 1 MiB chunks (never the whole range in memory). */
export function readRange(path: string, start: number, bytes: number, signal?: AbortSignal): AsyncIterable<Buffer> {
  if (bytes === 0) return (async function* () {})();
  return createReadStream(path, {
    start,
    end: start + bytes - 1,
    highWaterMark: 1 << 20,
    ...(signal ? { signal } : {}),
  }) as AsyncIterable<Buffer>;
}

/** Hex MD5 of a byte range of a file (Swift's ETag of that range stored as an object). */
export async function md5OfRange(path: string, start: number, bytes: number, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of readRange(path, start, bytes, signal)) h.update(chunk);
  return h.digest('hex');
}

/** Swift's ETag of a static large object: MD5 of the segments' hex ETags joined. */
export function sloEtag(segmentEtags: readonly string[]): string {
  return createHash('md5').update(segmentEtags.join('')).digest('hex');
}

export function unquote(etag: string | null | undefined): string | undefined {
  return etag ? etag.replace(/"/g, '') : undefined;
}

/** A checksum the server reported that is not the data we sent or received. */
export function checksumMismatch(what: string, expected: string, got: string | undefined): OcxError {
  return new OcxError(
    ErrorCode.INVALID_RESPONSE,
    `${what}: checksum mismatch (expected MD5 ${expected}, the server reported ${got ?? 'none'})`,
  );
}

/** A local file problem (missing, unreadable) as a stable error, without a stack dump. */
export function fileError(path: string, err: unknown): OcxError {
  const code = (err as { code?: string } | undefined)?.code;
  return new OcxError(ErrorCode.BAD_REQUEST, `cannot use file '${path}': ${code ?? String(err)}`, {}, { cause: err });
}

/** The path of an object under the account endpoint; '/' in a name is part of it, so each piece is encoded. */
export function objectPath(container: string, name: string): string {
  return `/${seg(container)}/${name.split('/').map(encodeURIComponent).join('/')}`;
}
