/**
 * Swift temporary URLs, as Swift's tempurl middleware checks them. An object request that carries
 * `temp_url_sig` and `temp_url_expires` (unix seconds, or ISO 8601 `YYYY-MM-DDTHH:MM:SSZ`) is allowed without a
 * token when the signature is the HMAC of `"METHOD\nEXPIRES\nPATH"` (with `"ip=RANGE\n"` first when
 * `temp_url_ip_range` is given; EXPIRES always as unix seconds) under one of the account's or the container's
 * `Temp-URL-Key[-2]` metadata keys. The digest is sha1 (40 hex), sha256 (64) or sha512 (128), or `algo:<base64>`,
 * and must be one of the allowed digests (default sha256 and sha512; sha1 only when configured, as recent Swift).
 * PATH is `/v1/AUTH_x/c/o` as Swift sees it (devcloud also takes it under its `/object-store` prefix), or
 * `prefix:/v1/AUTH_x/c/<temp_url_prefix>` for a signature that opens every object under a prefix.
 * Anything else is 401 with Swift's body; an expired URL is 401 too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { header } from './http.ts';
import type { SwiftStore } from './store.ts';

export const TEMPURL_DIGESTS = ['sha1', 'sha256', 'sha512'] as const;
export type TempUrlDigest = (typeof TEMPURL_DIGESTS)[number];

export interface TempUrlOptions {
  /** Methods a temp URL may be used with (Swift's default: GET HEAD PUT POST DELETE). */
  methods?: string[];
  /** Digests a signature may use (default sha256 and sha512, as Swift since sha1 was deprecated). */
  allowedDigests?: TempUrlDigest[];
}

export interface TempUrlConfig {
  methods: string[];
  allowedDigests: TempUrlDigest[];
}

export function tempUrlConfig(options: TempUrlOptions = {}): TempUrlConfig {
  return {
    methods: options.methods ?? ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
    allowedDigests: [...new Set<TempUrlDigest>(options.allowedDigests ?? ['sha256', 'sha512'])].sort(),
  };
}

/** The `tempurl` section of Swift's `/info`. */
export function tempUrlInfo(config: TempUrlConfig): Record<string, string[]> {
  return {
    methods: config.methods,
    incoming_remove_headers: ['x-timestamp'],
    incoming_allow_headers: [],
    outgoing_remove_headers: ['x-object-meta-*'],
    outgoing_allow_headers: ['x-object-meta-public-*'],
    allowed_digests: config.allowedDigests,
  };
}

/** What a valid signature grants: objects of the whole account (account key) or of one container. */
export interface TempUrlGrant {
  account: string;
  container?: string;
  /** Unix seconds, for the response's `Expires`. */
  expires: number;
  filename?: string;
  inline: boolean;
}

const HEX_DIGESTS: Record<number, TempUrlDigest> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

/** The signature's digest and bytes, or undefined when it is malformed. */
export function parseSignature(sig: string): { digest: string; raw: Buffer } | undefined {
  const colon = sig.indexOf(':');
  if (colon >= 0) {
    let b64 = sig.slice(colon + 1);
    if (/[-_]/.test(b64) && !/[+/]/.test(b64)) b64 = b64.replaceAll('-', '+').replaceAll('_', '/');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
    return { digest: sig.slice(0, colon), raw: Buffer.from(b64, 'base64') };
  }
  const digest = HEX_DIGESTS[sig.length];
  if (!digest || !/^[0-9a-fA-F]+$/.test(sig)) return undefined;
  return { digest, raw: Buffer.from(sig, 'hex') };
}

/** `temp_url_expires` as unix seconds: an integer, or ISO 8601 `YYYY-MM-DDTHH:MM:SSZ`; 0 when neither. */
export function parseExpires(value: string): number {
  if (/^[+-]?\d+$/.test(value.trim())) return Number(value.trim());
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) return 0;
  const t = Date.parse(value);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Is `address` inside `range` (an address or a CIDR network)? False when either does not parse. */
export function inIpRange(address: string, range: string): boolean {
  const addr = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const [net, bits] = range.split('/', 2) as [string, string | undefined];
  const family = isIP(net);
  if (family === 0 || isIP(addr) !== family) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!/^\d+$/.test(bits ?? String(max)) || prefix > max) return false;
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return list.check(addr, type);
}

export interface TempUrlRequest {
  method: string;
  query: Record<string, string | undefined>;
  account: string;
  container: string;
  object: string;
  clientIp: string;
  accountKeys: string[];
  containerKeys: string[];
  /** Unix seconds. */
  now: number;
}

/** Check a temp URL request; the grant when its signature is valid, undefined otherwise. */
export function verifyTempUrl(config: TempUrlConfig, r: TempUrlRequest): TempUrlGrant | undefined {
  const sigRaw = r.query.temp_url_sig;
  const expRaw = r.query.temp_url_expires;
  if (!sigRaw || !expRaw) return undefined;
  const expires = parseExpires(expRaw);
  if (expires === 0 || expires < r.now) return undefined;
  const sig = parseSignature(sigRaw);
  if (!sig || !(config.allowedDigests as string[]).includes(sig.digest)) return undefined;
  if (!config.methods.includes(r.method) || r.object === '') return undefined;
  const ipRange = r.query.temp_url_ip_range;
  if (ipRange && !inIpRange(r.clientIp, ipRange)) return undefined;
  const prefix = r.query.temp_url_prefix;
  if (prefix !== undefined && !r.object.startsWith(prefix)) return undefined;
  const base = `/v1/${r.account}/${r.container}`;
  const signed = prefix === undefined ? `${base}/${r.object}` : `prefix:${base}/${prefix}`;
  const paths = [signed, signed.replace('/v1/', '/object-store/v1/')];
  // HEAD may use a HEAD, GET, POST or PUT signature, as in Swift.
  const methods = r.method === 'HEAD' ? ['HEAD', 'GET', 'POST', 'PUT'] : [r.method];
  const scoped = [
    ...r.accountKeys.map((key) => ({ key, container: undefined })),
    ...r.containerKeys.map((key) => ({ key, container: r.container })),
  ];
  for (const { key, container } of scoped) {
    for (const method of methods) {
      for (const path of paths) {
        const body = `${ipRange ? `ip=${ipRange}\n` : ''}${method}\n${expires}\n${path}`;
        const mac = createHmac(sig.digest, key).update(body).digest();
        if (mac.length === sig.raw.length && timingSafeEqual(mac, sig.raw)) {
          const inline = r.query.inline !== undefined;
          return { account: r.account, container, expires, inline, filename: r.query.filename || undefined };
        }
      }
    }
  }
  return undefined;
}

const KEYS = ['temp-url-key', 'temp-url-key-2'];
const DISALLOWED_HEADERS = ['x-object-manifest', 'x-symlink-target'];
const KEPT_QUERY = ['temp_url_sig', 'temp_url_expires', 'temp_url_prefix', 'filename'];

/** Python's `urllib.parse.quote`: only letters, digits, `_.-~` and `safe` stay as they are. */
function pyQuote(s: string, safe: string): string {
  return Array.from(Buffer.from(s, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_.\-~]/.test(c) || safe.includes(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function disposition(type: string, filename: string): string {
  return `${type}; filename="${pyQuote(filename, ' /')}"; filename*=UTF-8''${pyQuote(filename, '/')}`;
}

type ObjectParams = { Params: { account: string; container: string; '*': string } };
export type TempUrlCheck = (req: FastifyRequest<ObjectParams>, reply: FastifyReply) => Promise<void>;

/**
 * The preHandler of object routes: a request with temp URL parameters is either granted (`req.swiftTempUrl`,
 * its query cut down to the temp URL parameters as Swift does) or refused with 401.
 */
export function tempUrlCheck(s: SwiftStore, config: TempUrlConfig): TempUrlCheck {
  return async (req) => {
    const query = req.query as Record<string, string | undefined>;
    if (query.temp_url_sig === undefined && query.temp_url_expires === undefined) return;
    const { account, container, '*': object } = req.params;
    const keysOf = (meta: Record<string, string> | undefined) =>
      KEYS.map((k) => meta?.[k]).filter((k): k is string => typeof k === 'string' && k !== '');
    const grant = verifyTempUrl(config, {
      method: req.method,
      query,
      account,
      container,
      object,
      clientIp: req.ip,
      accountKeys: keysOf(s.accounts.get(account)?.meta),
      containerKeys: keysOf(s.getContainer(account, container)?.meta),
      now: Date.now() / 1000,
    });
    if (!grant) {
      throw new ApiFault(401, req.method === 'HEAD' ? '' : '401 Unauthorized: Temp URL invalid\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      for (const h of DISALLOWED_HEADERS) {
        if (header(req, h) !== undefined) {
          const name = h.replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
          throw new ApiFault(400, `The header '${name}' is not allowed in this tempurl`);
        }
      }
    }
    req.swiftTempUrl = grant;
    (req as { query: unknown }).query = Object.fromEntries(
      KEPT_QUERY.flatMap((k) => (k in query ? [[k, query[k]]] : [])),
    );
  };
}

/**
 * Responses to temp URL requests, as the middleware rewrites them: object metadata headers are dropped (except
 * `X-Object-Meta-Public-*`); a successful GET/HEAD gets `Content-Disposition` (inline/filename from the query,
 * else the object's own, else an attachment named after the object) and `Expires` = the URL's expiry.
 */
export function installTempUrlResponses(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const grant = req.swiftTempUrl;
    if (!grant) return payload;
    for (const name of Object.keys(reply.getHeaders())) {
      const n = name.toLowerCase();
      if (n.startsWith('x-object-meta-') && !n.startsWith('x-object-meta-public-')) reply.removeHeader(name);
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && reply.statusCode >= 200 && reply.statusCode < 300) {
      const existing = reply.getHeader('content-disposition');
      const object = (req.params as { '*'?: string })['*'] ?? '';
      let value: string;
      if (grant.inline) value = grant.filename ? disposition('inline', grant.filename) : 'inline';
      else if (grant.filename) value = disposition('attachment', grant.filename);
      else if (typeof existing === 'string') value = existing;
      else value = disposition('attachment', object.replace(/\/+$/, '').split('/').pop() ?? object);
      reply.header('content-disposition', value.replaceAll('\n', '%0A'));
      reply.header('expires', new Date(grant.expires * 1000).toUTCString());
    }
    return payload;
  });
}
