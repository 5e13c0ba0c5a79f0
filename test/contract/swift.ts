// Raw Swift access for the object-store contract tests: the exact statuses, headers and bodies a user with curl
// would see (the SDK gives the token and the account URL from the catalog). Every call has a deadline.
import { createHash } from 'node:crypto';
import type { Session } from '@ocx/sdk';
import type { Target } from './target.ts';

export interface SwiftReply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}

export interface SwiftOpts {
  headers?: Record<string, string>;
  body?: string | Buffer;
  query?: Record<string, string>;
  /** Send no X-Auth-Token (TempURL, public reads). */
  anonymous?: boolean;
}

export interface Swift {
  /** The account URL from the catalog, e.g. http://127.0.0.1:27047/v1/AUTH_<project>. */
  account: string;
  /**
   * `path` is relative to the account ('' = the account, '/c', '/c/o') or an absolute URL (another account); names
   * are sent as given (pre-encoded).
   */
  call(method: string, path: string, opts?: SwiftOpts): Promise<SwiftReply>;
  /** Containers this test made: removed with their objects by cleanup(). */
  container(suffix: string, headers?: Record<string, string>): Promise<string>;
  cleanup(): Promise<void>;
}

export const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

/** Swift as `cloud`'s user sees it, or through `session` (e.g. a K2K session) when given. */
export async function swiftFor(t: Target, cloud = 'sp1', session: Session = t.session(cloud)): Promise<Swift> {
  const account = (await session.client('object-store').endpoint()).replace(/\/+$/, '');
  const made: string[] = [];
  const call = async (method: string, path: string, opts: SwiftOpts = {}): Promise<SwiftReply> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (!opts.anonymous) headers['x-auth-token'] = (await session.getAccess()).token;
    const qs = opts.query ? `?${new URLSearchParams(opts.query)}` : '';
    const res = await fetch(`${/^https?:/.test(path) ? path : account + path}${qs}`, {
      method,
      headers,
      ...(opts.body !== undefined
        ? { body: typeof opts.body === 'string' ? opts.body : new Uint8Array(opts.body) }
        : {}),
      signal: AbortSignal.timeout(t.kind === 'real' ? 240_000 : 30_000),
    });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, text: body.toString('utf8') };
  };
  // The first call makes the proxy validate the token with Keystone, which can take minutes on a loaded CI machine
  // (seen: 115 s at load 40): pay for it here, in the suite's set-up.
  const warm = await call('HEAD', '');
  if (warm.status !== 204 && warm.status !== 200) throw new Error(`HEAD account: ${warm.status} ${warm.text}`);
  return {
    account,
    call,
    async container(suffix, headers) {
      const name = `${t.prefix}-${suffix}`;
      const r = await call('PUT', `/${name}`, headers ? { headers } : {});
      if (r.status !== 201 && r.status !== 202) throw new Error(`PUT container ${name}: ${r.status} ${r.text}`);
      made.push(name);
      return name;
    },
    async cleanup() {
      for (const c of made) {
        const list = await call('GET', `/${c}`, { query: { format: 'json' } });
        const names =
          list.status === 200 ? (JSON.parse(list.text) as { name: string }[]).map((o) => o.name).reverse() : [];
        // plain DELETEs: manifests and their segments all live in containers made here
        for (const n of names) await call('DELETE', `/${c}/${n.split('/').map(encodeURIComponent).join('/')}`);
        await call('DELETE', `/${c}`);
      }
    },
  };
}

/** The parts of a multipart/byteranges body: each part's Content-Range and bytes. */
export function byteranges(contentType: string, body: Buffer): { range: string; data: string }[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const out: { range: string; data: string }[] = [];
  for (const part of body.toString('latin1').split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    const range = /content-range:\s*(.+)/i.exec(head)?.[1]?.trim();
    if (!range) continue;
    out.push({ range, data: part.slice(sep + 4).replace(/\r\n$/, '') });
  }
  return out;
}
