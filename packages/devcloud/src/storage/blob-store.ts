/**
 * Bytes on disk for Glance image data and Swift objects. Uploads are piped from the request stream to a
 * temporary file while hashing (md5 + sha512) — never held whole in memory — and renamed into place once complete.
 */
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CloudContext } from '../context.ts';

/** Where state files from before `CloudContext.dataDir` recorded each service's blob directory. */
export const LEGACY_BLOB_DIRS_TABLE = 'devcloud_blob_dirs';

export interface StoredBlob {
  /** File name inside the store (not a path; safe to persist). */
  key: string;
  size: number;
  md5: string;
  sha512: string;
}

/** Thrown when an upload exceeds `maxBytes`. */
export class BlobTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`upload exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/** Temp dirs owned by live stores: removed at process exit even when nobody closed the cloud. */
const ownedDirs = new Set<string>();
let exitHookInstalled = false;
function trackOwnedDir(dir: string): void {
  ownedDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  });
}

export class BlobStore {
  readonly dir: string;
  private readonly ownsDir: boolean;

  /** `dir` is created if missing; without one a private temp dir is used and removed by `close()`. */
  constructor(dir?: string, label = 'blobs') {
    if (dir) {
      mkdirSync(dir, { recursive: true });
      this.dir = dir;
      this.ownsDir = false;
    } else {
      this.dir = mkdtempSync(join(tmpdir(), `devcloud-${label.replace(/[^a-z0-9-]/gi, '')}-`));
      this.ownsDir = true;
      trackOwnedDir(this.dir);
    }
  }

  /**
   * The blob store of one service of one cloud: `<ctx.dataDir>/<service>` (the cloud owns and cleans up its data
   * dir). A context without a data dir (hand-made in tests) gets a private temp dir removed by `close()`.
   *
   * State files written before `dataDir` existed kept their blobs in a temp dir named in the
   * `devcloud_blob_dirs` table: those files are moved into the data dir on first use and the row is dropped.
   */
  static forService(ctx: CloudContext, service: string): BlobStore {
    if (!ctx.dataDir) return new BlobStore(undefined, `${ctx.name}-${service}`);
    const dir = join(ctx.dataDir, service);
    const legacy = ctx.store.table<{ id: string; dir: string }>(LEGACY_BLOB_DIRS_TABLE);
    const old = legacy.get(service);
    if (old) {
      if (old.dir !== dir && existsSync(old.dir)) {
        mkdirSync(dir, { recursive: true });
        cpSync(old.dir, dir, { recursive: true, force: false, errorOnExist: false });
        rmSync(old.dir, { recursive: true, force: true });
      }
      legacy.delete(service);
    }
    return new BlobStore(dir);
  }

  path(key: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(key)) throw new Error('invalid blob key');
    return join(this.dir, key);
  }

  /** Stream `source` to a new blob. On any error (client abort, limit) the partial file is removed. */
  async write(source: Readable, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    const key = randomUUID();
    const tmp = join(this.dir, `.${key}.part`);
    const md5 = createHash('md5');
    const sha512 = createHash('sha512');
    let size = 0;
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) {
          cb(new BlobTooLargeError(max));
          return;
        }
        md5.update(chunk);
        sha512.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, hasher, createWriteStream(tmp));
      await rename(tmp, join(this.dir, key));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { key, size, md5: md5.digest('hex'), sha512: sha512.digest('hex') };
  }

  /** Write a small in-memory buffer (seed data). */
  async writeBuffer(data: Buffer): Promise<StoredBlob> {
    const { Readable: R } = await import('node:stream');
    return this.write(R.from([data]));
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.path(key), range ? { start: range.start, end: range.end } : {});
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.path(key));
      return true;
    } catch {
      return false;
    }
  }

  async remove(key: string | null | undefined): Promise<void> {
    if (!key) return;
    await rm(this.path(key), { force: true });
  }

  close(): void {
    if (!this.ownsDir) return;
    rmSync(this.dir, { recursive: true, force: true });
    ownedDirs.delete(this.dir);
  }
}
