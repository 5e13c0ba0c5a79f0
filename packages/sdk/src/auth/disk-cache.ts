/**
 * A token cache on disk, for short-lived processes (one `ocx` command each) that would otherwise authenticate on
 * every run: one file per auth key under a private directory (0700; files 0600, written atomically), holding the
 * token with everything its response told (catalog, project, expiry), so a warm run makes no identity call at all.
 *
 * Keys are the in-memory cache's (a hash of URL, identity, scope and hashed secrets: see cache.ts); file names are a
 * further hash of the key, so no name, password or secret ever appears in a path. Expired tokens are dropped when
 * read; the early-refresh margin is applied by cachedAccess as for the memory cache, and a 401 on a cached token
 * deletes it (Session.invalidate / a forced refresh), so the next login rewrites the file.
 *
 * Disk problems never fail a call: a file that cannot be read, parsed or written is treated as a miss.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { MemoryTokenCache, type TokenStore } from './cache.ts';
import type { AccessInfo } from './types.ts';

/** Bumped when the file layout changes: old files are then ignored (a miss), not misread. */
const FORMAT = 1;

interface CacheFile {
  format: number;
  access: Omit<AccessInfo, 'expiresAt' | 'issuedAt'> & { expiresAt: string; issuedAt?: string | undefined };
}

/**
 * The cache directory openstacksdk users expect, for `env`: `$XDG_CACHE_HOME/ocx`, else `$HOME/.cache/ocx`.
 * Undefined when neither is set (then there is no disk cache).
 */
export function defaultTokenCacheDir(env: Record<string, string | undefined>): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'ocx');
  if (env.HOME) return join(env.HOME, '.cache', 'ocx');
  return undefined;
}

/** The file name for a cache key: a hash of it (never the key's inputs, which only ever enter hashes anyway). */
export function tokenFileName(key: string): string {
  return `token-${createHash('sha256').update(`ocx-token-cache:${key}`).digest('hex')}.json`;
}

function revive(file: unknown): AccessInfo | undefined {
  const f = file as Partial<CacheFile> | undefined;
  const a = f?.access;
  if (!f || f.format !== FORMAT || !a || typeof a.token !== 'string' || typeof a.expiresAt !== 'string')
    return undefined;
  const expiresAt = new Date(a.expiresAt);
  if (Number.isNaN(expiresAt.getTime())) return undefined;
  const issuedAt = typeof a.issuedAt === 'string' ? new Date(a.issuedAt) : undefined;
  return { ...a, expiresAt, issuedAt } as AccessInfo;
}

export interface DiskTokenCacheOptions {
  /** The directory (created 0700 when missing). */
  dir: string;
  /** The in-process layer in front of the files (default: a new memory cache). */
  memory?: TokenStore | undefined;
  /** Clock (ms), for tests. */
  now?: (() => number) | undefined;
}

export class DiskTokenCache implements TokenStore {
  readonly dir: string;
  readonly #memory: TokenStore;
  readonly #now: () => number;

  constructor(opts: DiskTokenCacheOptions) {
    this.dir = opts.dir;
    this.#memory = opts.memory ?? new MemoryTokenCache();
    this.#now = opts.now ?? Date.now;
  }

  /** The path of `key`'s file. */
  pathOf(key: string): string {
    return join(this.dir, tokenFileName(key));
  }

  get(key: string): AccessInfo | undefined {
    const hit = this.#memory.get(key);
    if (hit) return hit;
    const path = this.pathOf(key);
    let access: AccessInfo | undefined;
    try {
      const st = statSync(path);
      // A file others can read (or that is not ours) is not trusted: it may have been planted or exposed.
      if ((st.mode & 0o077) !== 0 || (process.getuid && st.uid !== process.getuid())) return undefined;
      access = revive(JSON.parse(readFileSync(path, 'utf8')));
    } catch {
      return undefined;
    }
    if (!access) return undefined;
    if (access.expiresAt.getTime() <= this.#now()) {
      this.#unlink(path);
      return undefined;
    }
    this.#memory.set(key, access);
    return access;
  }

  set(key: string, access: AccessInfo): void {
    this.#memory.set(key, access);
    const { expiresAt, issuedAt, ...rest } = access;
    const file: CacheFile = {
      format: FORMAT,
      access: { ...rest, expiresAt: expiresAt.toISOString(), issuedAt: issuedAt?.toISOString() },
    };
    try {
      this.#ensureDir();
      // Written to a private temporary file and renamed over the old one: a reader never sees half a file.
      const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(file));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        renameSync(tmp, this.pathOf(key));
      } catch (err) {
        this.#unlink(tmp);
        throw err;
      }
    } catch {
      // A read-only or full disk only costs the next process a login.
    }
  }

  delete(key: string): void {
    this.#memory.delete(key);
    this.#unlink(this.pathOf(key));
  }

  #ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = statSync(this.dir);
    if ((st.mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
  }

  #unlink(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}
