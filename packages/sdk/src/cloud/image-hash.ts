import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Property keys openstacksdk stores on images it uploads (and, for old images, shade's). */
export const IMAGE_MD5_KEY = 'owner_specified.openstack.md5';
export const IMAGE_SHA256_KEY = 'owner_specified.openstack.sha256';
export const IMAGE_OBJECT_KEY = 'owner_specified.openstack.object';
export const SHADE_MD5_KEY = 'owner_specified.shade.md5';
export const SHADE_SHA256_KEY = 'owner_specified.shade.sha256';

export interface ImageHashes {
  md5: string;
  sha256: string;
  size: number;
}

/** Stream a file once through MD5 and SHA-256 (never read whole into memory). */
export async function hashFile(path: string, signal?: AbortSignal): Promise<ImageHashes> {
  const hasher = new HashingStream();
  await pipeline(
    createReadStream(path),
    hasher,
    async (source: AsyncIterable<unknown>) => {
      for await (const _ of source) {
        // drain
      }
    },
    signal ? { signal } : {},
  );
  return hasher.digests();
}

/** A pass-through that hashes what flows through it. */
export class HashingStream extends Transform {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: unknown) => void): void {
    this.md5.update(chunk);
    this.sha256.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  digests(): ImageHashes {
    return { md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex'), size: this.size };
  }
}

/**
 * The data as it is, hashed on the way with only the digests asked for (a hash the caller already gave is not
 * computed again). `digests()` once the data has been read to its end.
 */
export function hashedOnTheWay(
  data: Readable | AsyncIterable<Uint8Array>,
  want: { md5: boolean; sha256: boolean },
): { body: AsyncIterable<Uint8Array>; digests: () => { md5?: string | undefined; sha256?: string | undefined } } {
  const md5 = want.md5 ? createHash('md5') : undefined;
  const sha256 = want.sha256 ? createHash('sha256') : undefined;
  async function* body(): AsyncGenerator<Uint8Array> {
    for await (const chunk of data as AsyncIterable<Uint8Array>) {
      md5?.update(chunk);
      sha256?.update(chunk);
      yield chunk;
    }
  }
  return { body: body(), digests: () => ({ md5: md5?.digest('hex'), sha256: sha256?.digest('hex') }) };
}

/** Any supported image data source as a Readable (so it can be piped through a HashingStream). */
export function toReadable(data: Readable | AsyncIterable<Uint8Array> | Uint8Array): Readable {
  if (data instanceof Readable) return data;
  if (data instanceof Uint8Array) return Readable.from([data]);
  return Readable.from(data);
}

/** The md5/sha256 an image was uploaded with (openstacksdk or shade keys), from its properties. */
export function storedHashes(properties: Record<string, unknown>): { md5: string; sha256: string } {
  const s = (k: string) => (typeof properties[k] === 'string' ? (properties[k] as string) : '');
  return { md5: s(IMAGE_MD5_KEY) || s(SHADE_MD5_KEY), sha256: s(IMAGE_SHA256_KEY) || s(SHADE_SHA256_KEY) };
}
