/**
 * Swift for devcloud, mounted at /object-store: /info, accounts (AUTH_<project>), containers and objects with
 * streaming bodies on disk, ETag/Range/conditional requests, metadata, server-side copy (COPY and X-Copy-From),
 * static and dynamic large objects, container ACLs and quotas, expiring objects.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudContext, ServiceModule, TokenInfo } from '../context.ts';
import { BlobStore, BlobTooLargeError } from '../storage/blob-store.ts';
import { parseRange } from '../storage/range.ts';
import {
  isExpired,
  type Piece,
  type ResolvedBody,
  resolveBody,
  slicePieces,
  sloEtag,
  splitPath,
  streamParts,
  sumPieces,
} from './data.ts';
import { SwiftError, swiftErrorBody } from './errors.ts';
import { listingParams, renderListing, selectEntries } from './listing.ts';
import {
  type AccountRow,
  type ContainerRow,
  containerId,
  guessContentType,
  httpDate,
  LIMITS,
  listingTime,
  metaHeader,
  nowTs,
  type ObjectRow,
  objectId,
  type SloSegment,
  xTimestamp,
} from './model.ts';
import { TEMPURL_METHODS, tempUrlAllows } from './tempurl.ts';

const TEMPURL_DENIED =
  '<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access the document you requested.</p></html>';
const tokens = new WeakMap<FastifyRequest, TokenInfo>();
/** Requests authorized by a valid temp URL signature for their object. */
const tempUrlGrants = new WeakSet<FastifyRequest>();

function transId(): string {
  return `tx${randomBytes(11).toString('hex').slice(0, 21)}-${Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(10, '0')}`;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase());
}

type Kind = 'Account' | 'Container' | 'Object';

/** Apply X-<Kind>-Meta-* and X-Remove-<Kind>-Meta-* headers to a metadata map (validated like Swift). */
function applyMeta(req: FastifyRequest, kind: Kind, meta: Record<string, string>): void {
  const set = `x-${kind.toLowerCase()}-meta-`;
  const remove = `x-remove-${kind.toLowerCase()}-meta-`;
  for (const [name, raw] of Object.entries(req.headers)) {
    const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
    if (name.startsWith(set)) {
      const key = name.slice(set.length);
      if (key === '') throw new SwiftError(400, 'Metadata name cannot be empty');
      if (key.length > LIMITS.maxMetaNameLength) throw new SwiftError(400, `Metadata name too long: ${set}${key}`);
      if (value.length > LIMITS.maxMetaValueLength)
        throw new SwiftError(400, `Metadata value longer than ${LIMITS.maxMetaValueLength}: ${set}${key}`);
      if (value === '') delete meta[key];
      else meta[key] = value;
    } else if (name.startsWith(remove)) {
      delete meta[name.slice(remove.length)];
    }
  }
  const entries = Object.entries(meta);
  if (entries.length > LIMITS.maxMetaCount)
    throw new SwiftError(400, `Too many metadata items; max ${LIMITS.maxMetaCount}`);
  const total = entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (total > LIMITS.maxMetaOverallSize)
    throw new SwiftError(400, `Total metadata too large; max ${LIMITS.maxMetaOverallSize}`);
}

function metaHeaders(reply: FastifyReply, kind: Kind, meta: Record<string, string>): void {
  for (const [k, v] of Object.entries(meta)) reply.header(metaHeader(kind, k), v);
}

/** Parse an ACL string into its elements. */
function aclElements(acl: string | null): string[] {
  return (acl ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function aclGrants(acl: string | null, tok: TokenInfo | undefined): boolean {
  for (const el of aclElements(acl)) {
    if (el.startsWith('.')) continue;
    if (!tok) continue;
    const [p, u] = el.split(':');
    if (u === undefined) {
      if (p === tok.projectId || p === '*') return true;
      continue;
    }
    if (
      (p === '*' || p === tok.projectId || p === tok.projectName) &&
      (u === '*' || u === tok.userId || u === tok.userName)
    )
      return true;
  }
  return false;
}

function infoDoc() {
  return {
    swift: {
      version: '2.30.0',
      max_file_size: LIMITS.maxFileSize,
      max_meta_name_length: LIMITS.maxMetaNameLength,
      max_meta_value_length: LIMITS.maxMetaValueLength,
      max_meta_count: LIMITS.maxMetaCount,
      max_meta_overall_size: LIMITS.maxMetaOverallSize,
      max_header_size: 8192,
      account_listing_limit: LIMITS.listingLimit,
      container_listing_limit: LIMITS.listingLimit,
      max_object_name_length: LIMITS.maxObjectNameLength,
      max_container_name_length: LIMITS.maxContainerNameLength,
      max_account_name_length: 256,
      extra_header_count: 0,
      valid_api_versions: ['v1', 'v1.0'],
      policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
      strict_cors_mode: true,
      allow_account_management: false,
      account_autocreate: true,
    },
    slo: {
      max_manifest_segments: LIMITS.maxManifestSegments,
      max_manifest_size: LIMITS.maxManifestSize,
      yield_frequency: 10,
      min_segment_size: 1,
      allow_async_delete: false,
    },
    tempurl: {
      methods: TEMPURL_METHODS,
      allowed_digests: ['sha1', 'sha256', 'sha512'],
    },
    account_quotas: {},
    container_quotas: {},
  };
}

async function readSmallBody(req: FastifyRequest, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req.raw) {
    n += (chunk as Buffer).length;
    if (n > max) throw new SwiftError(413, `Manifest File > ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function swiftPlugin(app: FastifyInstance, ctx: CloudContext): Promise<void> {
  const blobs = BlobStore.forService(ctx, 'swift');
  const accounts = ctx.store.table<AccountRow>('swift_accounts');
  const containers = ctx.store.table<ContainerRow>('swift_containers');
  const objects = ctx.store.table<ObjectRow>('swift_objects');
  app.addHook('onClose', async () => blobs.close());

  // Object bodies are streams of any type: nothing is parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  if (!app.supportedMethods.includes('COPY')) app.addHttpMethod('COPY', { hasBody: true });

  app.addHook('onRequest', async (req, reply) => {
    const tx = transId();
    reply.header('x-trans-id', tx).header('x-openstack-request-id', tx);
    const t = header(req, 'x-auth-token') ?? header(req, 'x-storage-token');
    if (t) {
      const info = ctx.validateToken(t);
      if (!info) throw new SwiftError(401);
      tokens.set(req, info);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    let status = 500;
    let body: string | undefined;
    if (err instanceof SwiftError) {
      status = err.status;
      body = err.body;
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    } else if (err instanceof BlobTooLargeError) {
      status = 413;
    } else if (
      (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' ||
      (err as { code?: string }).code === 'ECONNRESET'
    ) {
      status = 499;
    } else if (
      typeof (err as { statusCode?: number }).statusCode === 'number' &&
      (err as { statusCode: number }).statusCode < 500
    ) {
      status = (err as { statusCode: number }).statusCode;
    } else {
      ctx.log.warn('swift: unexpected error', { error: String(err) });
    }
    if (status === 401) reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity/v3"`);
    if (status === 499) return reply.code(400).send();
    const text = swiftErrorBody(status, body);
    reply.code(status).type('text/html; charset=UTF-8');
    if (req.method === 'HEAD') return reply.header('content-length', Buffer.byteLength(text)).send();
    return reply.send(text);
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/html; charset=UTF-8').send(swiftErrorBody(404)));

  app.get('/info', async () => infoDoc());

  // --- authorization -------------------------------------------------------------------------------------------
  function owner(req: FastifyRequest, account: string): boolean {
    const t = tokens.get(req);
    if (!t) return false;
    return t.isAdmin || (t.projectId !== undefined && account === `AUTH_${t.projectId}`);
  }
  function deny(req: FastifyRequest): never {
    throw new SwiftError(tokens.get(req) ? 403 : 401);
  }
  function checkAccount(req: FastifyRequest, account: string): void {
    if (!account.startsWith('AUTH_')) deny(req);
    if (!owner(req, account)) deny(req);
  }
  /** Object reads/writes and container listings, through the owner or the container's ACLs. */
  function checkContainer(
    req: FastifyRequest,
    account: string,
    c: ContainerRow | undefined,
    op: 'read' | 'write' | 'list',
  ): void {
    if (!account.startsWith('AUTH_')) deny(req);
    if (owner(req, account)) return;
    if (op !== 'list' && tempUrlGrants.has(req)) return;
    if (!c) deny(req);
    const t = tokens.get(req);
    if (op === 'write') {
      if (aclGrants(c.write, t)) return;
    } else {
      const els = aclElements(c.read);
      const referrerOk = els.some((e) => e === '.r:*');
      if (op === 'read' && referrerOk) return;
      if (op === 'list' && referrerOk && els.includes('.rlistings')) return;
      if (aclGrants(c.read, t)) return;
    }
    deny(req);
  }

  // --- helpers -------------------------------------------------------------------------------------------------
  function accountRow(account: string, create: boolean): AccountRow {
    let row = accounts.get(account);
    if (!row) {
      row = { id: account, meta: {}, timestamp: nowTs() };
      if (create) accounts.put(row);
    }
    return row;
  }
  function liveObjects(account: string, container: string): ObjectRow[] {
    return objects.filter((o) => o.account === account && o.container === container && !isExpired(o));
  }
  function containerStats(c: ContainerRow): { count: number; bytes: number; lastTs: number } {
    let count = 0;
    let bytes = 0;
    let lastTs = c.putTimestamp;
    for (const o of liveObjects(c.account, c.name)) {
      count++;
      bytes += o.size;
      if (o.timestamp > lastTs) lastTs = o.timestamp;
    }
    return { count, bytes, lastTs };
  }
  function accountStats(account: string) {
    const cs = containers.filter((c) => c.account === account);
    let objectsN = 0;
    let bytes = 0;
    for (const c of cs) {
      const s = containerStats(c);
      objectsN += s.count;
      bytes += s.bytes;
    }
    return { containers: cs, objects: objectsN, bytes };
  }
  function getContainer(account: string, name: string): ContainerRow | undefined {
    return containers.get(containerId(account, name));
  }
  function getObject(account: string, container: string, name: string): ObjectRow | undefined {
    const o = objects.get(objectId(account, container, name));
    if (o && isExpired(o)) {
      objects.delete(o.id);
      void blobs.remove(o.blob);
      return undefined;
    }
    return o;
  }
  function validContainerName(name: string): void {
    if (name.length > LIMITS.maxContainerNameLength) {
      throw new SwiftError(400, `Container name length of ${name.length} longer than ${LIMITS.maxContainerNameLength}`);
    }
  }
  function deleteAtFrom(req: FastifyRequest, current: number | null): number | null {
    const after = header(req, 'x-delete-after');
    const at = header(req, 'x-delete-at');
    if (after !== undefined) {
      const n = Number(after);
      if (!Number.isInteger(n) || n < 0) throw new SwiftError(400, 'Non-integer X-Delete-After');
      return Math.floor(Date.now() / 1000) + n;
    }
    if (at !== undefined) {
      if (at === '') return null;
      const n = Number(at);
      if (!Number.isInteger(n)) throw new SwiftError(400, 'Non-integer X-Delete-At');
      if (n * 1000 <= Date.now()) throw new SwiftError(400, 'X-Delete-At in past');
      return n;
    }
    if (header(req, 'x-remove-delete-at') !== undefined) return null;
    return current;
  }
  const PASSTHROUGH = [
    'content-disposition',
    'content-encoding',
    'x-object-manifest',
    'content-language',
    'cache-control',
    'expires',
  ];
  function objectHeadersFrom(req: FastifyRequest, base: Record<string, string>): Record<string, string> {
    const out = { ...base };
    for (const h of PASSTHROUGH) {
      const v = header(req, h);
      if (v !== undefined) {
        if (v === '') delete out[h];
        else out[h] = v;
      }
    }
    return out;
  }
  function checkQuota(req: FastifyRequest, c: ContainerRow, addBytes: number, replacing: ObjectRow | undefined): void {
    const s = containerStats(c);
    const bytesAfter = s.bytes - (replacing?.size ?? 0) + addBytes;
    const countAfter = s.count + (replacing ? 0 : 1);
    const qb = c.meta['quota-bytes'];
    const qc = c.meta['quota-count'];
    if (qb !== undefined && bytesAfter > Number(qb)) throw new SwiftError(413, 'Upload exceeds quota.');
    if (qc !== undefined && countAfter > Number(qc)) throw new SwiftError(413, 'Upload exceeds quota.');
    const aq = accounts.get(c.account)?.meta['quota-bytes'];
    if (aq !== undefined) {
      const a = accountStats(c.account);
      if (a.bytes - (replacing?.size ?? 0) + addBytes > Number(aq)) throw new SwiftError(413, 'Upload exceeds quota.');
    }
    void req;
  }
  function storeObject(row: ObjectRow): void {
    const old = objects.get(row.id);
    objects.put(row);
    if (old?.blob && old.blob !== row.blob) void blobs.remove(old.blob);
  }

  // --- account -------------------------------------------------------------------------------------------------
  async function account(req: FastifyRequest, reply: FastifyReply, acct: string) {
    checkAccount(req, acct);
    const m = req.method;
    if (m === 'GET' || m === 'HEAD') {
      const row = accountRow(acct, false);
      const stats = accountStats(acct);
      reply
        .header('x-account-container-count', stats.containers.length)
        .header('x-account-object-count', stats.objects)
        .header('x-account-bytes-used', stats.bytes)
        .header('x-timestamp', xTimestamp(row.timestamp))
        .header('x-put-timestamp', xTimestamp(row.timestamp))
        .header('accept-ranges', 'bytes');
      metaHeaders(reply, 'Account', row.meta);
      const p = listingParams(req.query as Record<string, unknown>, header(req, 'accept'));
      if (m === 'HEAD') {
        return reply
          .code(204)
          .type(p.format === 'json' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8')
          .send();
      }
      const withNames = stats.containers.map((c) => ({ ...c, stats: containerStats(c) }));
      const entries = selectEntries(withNames, p);
      const out = renderListing(entries, p, 'account', acct, (c) => ({
        name: c.name,
        count: c.stats.count,
        bytes: c.stats.bytes,
        last_modified: listingTime(c.stats.lastTs),
      }));
      reply.type(out.contentType);
      if (out.body === null) return reply.code(204).send();
      return reply.code(200).send(out.body);
    }
    if (m === 'POST') {
      const row = accountRow(acct, true);
      const before = row.meta['quota-bytes'];
      applyMeta(req, 'Account', row.meta);
      if (row.meta['quota-bytes'] !== before && !tokens.get(req)?.isAdmin) {
        if (before === undefined) delete row.meta['quota-bytes'];
        else row.meta['quota-bytes'] = before;
        throw new SwiftError(403);
      }
      accounts.put(row);
      return reply.code(204).type('text/html; charset=UTF-8').send();
    }
    throw new SwiftError(405, undefined, { allow: 'HEAD, GET, POST' });
  }

  // --- container -----------------------------------------------------------------------------------------------
  async function container(req: FastifyRequest, reply: FastifyReply, acct: string, name: string) {
    const m = req.method;
    const c = getContainer(acct, name);
    if (m === 'GET' || m === 'HEAD') {
      checkContainer(req, acct, c, 'list');
      if (!c) throw new SwiftError(404);
      const s = containerStats(c);
      reply
        .header('x-container-object-count', s.count)
        .header('x-container-bytes-used', s.bytes)
        .header('x-timestamp', xTimestamp(c.timestamp))
        .header('x-put-timestamp', xTimestamp(c.putTimestamp))
        .header('last-modified', httpDate(s.lastTs))
        .header('x-storage-policy', 'Policy-0')
        .header('accept-ranges', 'bytes');
      if (owner(req, acct)) {
        if (c.read) reply.header('x-container-read', c.read);
        if (c.write) reply.header('x-container-write', c.write);
      }
      metaHeaders(reply, 'Container', c.meta);
      const p = listingParams(req.query as Record<string, unknown>, header(req, 'accept'));
      if (m === 'HEAD') {
        return reply
          .code(204)
          .type(p.format === 'json' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8')
          .send();
      }
      const entries = selectEntries(liveObjects(acct, name), p);
      const out = renderListing(entries, p, 'container', name, (o) => {
        const body = o.slo ? { etag: sloEtag(o.slo), size: o.size } : { etag: o.etag, size: o.size };
        const row: Record<string, unknown> = {
          hash: body.etag,
          last_modified: listingTime(o.timestamp),
          bytes: body.size,
          name: o.name,
          content_type: o.contentType,
        };
        if (o.slo) row.slo_etag = `"${body.etag}"`;
        return row;
      });
      reply.type(out.contentType);
      if (out.body === null) return reply.code(204).send();
      return reply.code(200).send(out.body);
    }
    if (m === 'PUT') {
      checkAccount(req, acct);
      validContainerName(name);
      const policy = header(req, 'x-storage-policy');
      if (policy !== undefined && policy !== 'Policy-0')
        throw new SwiftError(400, `Invalid X-Storage-Policy '${policy}'`);
      const ts = nowTs();
      const row: ContainerRow = c ?? {
        id: containerId(acct, name),
        account: acct,
        name,
        meta: {},
        read: null,
        write: null,
        timestamp: ts,
        putTimestamp: ts,
      };
      applyContainerHeaders(req, row);
      row.putTimestamp = ts;
      accountRow(acct, true);
      containers.put(row);
      return reply
        .code(c ? 202 : 201)
        .type('text/html; charset=UTF-8')
        .send();
    }
    if (m === 'POST') {
      checkAccount(req, acct);
      if (!c) throw new SwiftError(404);
      applyContainerHeaders(req, c);
      containers.put(c);
      return reply.code(204).type('text/html; charset=UTF-8').send();
    }
    if (m === 'DELETE') {
      checkAccount(req, acct);
      if (!c) throw new SwiftError(404);
      if (liveObjects(acct, name).length > 0) throw new SwiftError(409);
      for (const o of objects.filter((x) => x.account === acct && x.container === name)) {
        objects.delete(o.id);
        await blobs.remove(o.blob);
      }
      containers.delete(c.id);
      return reply.code(204).type('text/html; charset=UTF-8').send();
    }
    throw new SwiftError(405, undefined, { allow: 'HEAD, GET, PUT, POST, DELETE' });
  }

  function applyContainerHeaders(req: FastifyRequest, row: ContainerRow): void {
    applyMeta(req, 'Container', row.meta);
    const read = header(req, 'x-container-read');
    const write = header(req, 'x-container-write');
    if (read !== undefined) row.read = read === '' ? null : read;
    if (write !== undefined) row.write = write === '' ? null : write;
    if (header(req, 'x-remove-container-read') !== undefined) row.read = null;
    if (header(req, 'x-remove-container-write') !== undefined) row.write = null;
  }

  // --- object --------------------------------------------------------------------------------------------------
  function setObjectHeaders(reply: FastifyReply, o: ObjectRow, body: ResolvedBody): void {
    reply
      .header('content-type', o.contentType)
      .header('etag', body.etag)
      .header('last-modified', httpDate(o.timestamp))
      .header('x-timestamp', xTimestamp(o.timestamp))
      .header('accept-ranges', 'bytes');
    for (const [k, v] of Object.entries(o.headers)) reply.header(k, v);
    if (o.slo) reply.header('x-static-large-object', 'True');
    if (o.deleteAt !== null) reply.header('x-delete-at', String(o.deleteAt));
    metaHeaders(reply, 'Object', o.meta);
  }

  /** Conditional GET/HEAD: returns a status to answer with instead of the body, if any. */
  function conditional(req: FastifyRequest, etag: string, ts: number): 304 | 412 | undefined {
    const bare = etag.replaceAll('"', '');
    const matches = (h: string) =>
      h
        .split(',')
        .map((s) => s.trim().replace(/^W\//, '').replaceAll('"', ''))
        .some((s) => s === '*' || s === bare);
    const ifMatch = header(req, 'if-match');
    if (ifMatch !== undefined && !matches(ifMatch)) return 412;
    const ifNone = header(req, 'if-none-match');
    if (ifNone !== undefined && matches(ifNone)) return 304;
    const lastSec = Math.ceil(ts);
    const ims = header(req, 'if-modified-since');
    if (ifNone === undefined && ims !== undefined) {
      const t = Date.parse(ims);
      if (!Number.isNaN(t) && lastSec * 1000 <= t) return 304;
    }
    const ius = header(req, 'if-unmodified-since');
    if (ifMatch === undefined && ius !== undefined) {
      const t = Date.parse(ius);
      if (!Number.isNaN(t) && lastSec * 1000 > t) return 412;
    }
    return undefined;
  }

  async function getObjectReq(req: FastifyRequest, reply: FastifyReply, acct: string, cname: string, name: string) {
    const c = getContainer(acct, cname);
    checkContainer(req, acct, c, 'read');
    const o = c ? getObject(acct, cname, name) : undefined;
    if (!o) throw new SwiftError(404);
    const q = req.query as Record<string, string | undefined>;
    if (o.slo && q['multipart-manifest'] === 'get') {
      const manifest =
        q.format === 'raw'
          ? o.slo.map((s) => ({
              path: s.name,
              etag: s.hash,
              size_bytes: s.bytes,
              ...(s.range ? { range: s.range } : {}),
            }))
          : o.slo;
      const text = JSON.stringify(manifest);
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('etag', createHash('md5').update(text).digest('hex'))
        .header('last-modified', httpDate(o.timestamp))
        .header('x-timestamp', xTimestamp(o.timestamp))
        .header('x-static-large-object', 'True')
        .header('content-length', Buffer.byteLength(text));
      metaHeaders(reply, 'Object', o.meta);
      return req.method === 'HEAD' ? reply.code(200).send() : reply.code(200).send(text);
    }
    const body = resolveBody(objects, o);
    for (const piece of body.pieces) {
      if (!(await blobs.exists(piece.key))) throw new SwiftError(404);
    }
    setObjectHeaders(reply, o, body);
    const cond = conditional(req, body.etag, o.timestamp);
    if (cond === 304) return reply.code(304).send();
    if (cond === 412) throw new SwiftError(412);
    const ranges = parseRange(header(req, 'range'), body.size);
    if (ranges === 'unsatisfiable') {
      throw new SwiftError(416, undefined, { 'content-range': `bytes */${body.size}` });
    }
    if (!ranges) {
      reply.header('content-length', body.size).code(200);
      if (req.method === 'HEAD' || body.size === 0) return reply.send();
      return reply.send(streamParts(blobs, body.pieces));
    }
    if (ranges.length === 1) {
      const r = ranges[0]!;
      reply
        .code(206)
        .header('content-range', `bytes ${r.start}-${r.end}/${body.size}`)
        .header('content-length', r.end - r.start + 1);
      if (req.method === 'HEAD') return reply.send();
      return reply.send(streamParts(blobs, slicePieces(body.pieces, r.start, r.end)));
    }
    const boundary = randomBytes(16).toString('hex');
    const parts: (Piece | Buffer)[] = [];
    for (const r of ranges) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Type: ${o.contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${body.size}\r\n\r\n`,
        ),
      );
      parts.push(...slicePieces(body.pieces, r.start, r.end));
      parts.push(Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--`));
    const length = parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : sumPieces([p])), 0);
    reply
      .code(206)
      .header('content-type', `multipart/byteranges;boundary=${boundary}`)
      .header('content-length', length);
    if (req.method === 'HEAD') return reply.send();
    return reply.send(streamParts(blobs, parts));
  }

  async function putSlo(req: FastifyRequest, reply: FastifyReply, acct: string, c: ContainerRow, name: string) {
    const raw = await readSmallBody(req, LIMITS.maxManifestSize);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new SwiftError(400, 'Manifest must be valid JSON.\n');
    }
    if (!Array.isArray(parsed) || parsed.length === 0)
      throw new SwiftError(400, 'Manifest must be a list of segments.\n');
    if (parsed.length > LIMITS.maxManifestSegments) {
      throw new SwiftError(400, `Too many buffered slo segments to delete.\n`);
    }
    const errors: string[] = [];
    const segments: SloSegment[] = [];
    for (const [i, s] of (parsed as Record<string, unknown>[]).entries()) {
      const path = typeof s?.path === 'string' ? s.path : undefined;
      if (!path) {
        errors.push(`Index ${i}: "path" must be a string`);
        continue;
      }
      const parts = splitPath(decodeURIComponent(path));
      const seg = parts ? getObject(acct, parts.container, parts.object) : undefined;
      if (!seg || !parts) {
        errors.push(`${path}, 404 Not Found`);
        continue;
      }
      const segBody = resolveBody(objects, seg);
      const segEtag = segBody.etag.replaceAll('"', '');
      if (s.etag !== undefined && s.etag !== null && String(s.etag).replaceAll('"', '') !== segEtag) {
        errors.push(`${path}, Etag Mismatch`);
        continue;
      }
      if (s.size_bytes !== undefined && s.size_bytes !== null && Number(s.size_bytes) !== segBody.size) {
        errors.push(`${path}, Size Mismatch`);
        continue;
      }
      if (segBody.size < 1) {
        errors.push(`${path}, Too Small; each segment must be at least 1 byte.`);
        continue;
      }
      segments.push({
        name: `/${parts.container}/${parts.object}`,
        bytes: segBody.size,
        hash: segEtag,
        content_type: seg.contentType,
        last_modified: listingTime(seg.timestamp),
        ...(typeof s.range === 'string' ? { range: s.range } : {}),
      });
    }
    if (errors.length > 0) throw new SwiftError(400, `Errors:\n${errors.join('\n')}\n`);
    const existing = getObject(acct, c.name, name);
    const probe: ObjectRow = {
      id: objectId(acct, c.name, name),
      account: acct,
      container: c.name,
      name,
      blob: null,
      size: 0,
      etag: '',
      contentType: header(req, 'content-type')?.split(';')[0] || guessContentType(name),
      meta: {},
      headers: objectHeadersFrom(req, {}),
      timestamp: nowTs(),
      deleteAt: deleteAtFrom(req, null),
      slo: segments,
    };
    delete probe.headers['x-object-manifest'];
    applyMeta(req, 'Object', probe.meta);
    const body = resolveBody(objects, probe);
    probe.size = body.size;
    probe.etag = sloEtag(segments);
    const expected = header(req, 'etag');
    if (expected && expected.replaceAll('"', '') !== probe.etag) throw new SwiftError(422);
    checkQuota(req, c, 0, existing);
    storeObject(probe);
    return reply
      .code(201)
      .header('etag', `"${probe.etag}"`)
      .header('last-modified', httpDate(probe.timestamp))
      .type('text/html; charset=UTF-8')
      .send();
  }

  async function copyObject(
    req: FastifyRequest,
    reply: FastifyReply,
    src: { account: string; container: string; object: string },
    dst: { account: string; container: string; object: string },
  ) {
    const sc = getContainer(src.account, src.container);
    checkContainer(req, src.account, sc, 'read');
    const so = sc ? getObject(src.account, src.container, src.object) : undefined;
    if (!so) throw new SwiftError(404);
    const dc = getContainer(dst.account, dst.container);
    checkContainer(req, dst.account, dc, 'write');
    if (!dc) throw new SwiftError(404);
    if (dst.object.length > LIMITS.maxObjectNameLength) {
      throw new SwiftError(400, `Object name length of ${dst.object.length} longer than ${LIMITS.maxObjectNameLength}`);
    }
    const q = req.query as Record<string, string | undefined>;
    const fresh = truthy(header(req, 'x-fresh-metadata'));
    const ts = nowTs();
    const row: ObjectRow = {
      id: objectId(dst.account, dst.container, dst.object),
      account: dst.account,
      container: dst.container,
      name: dst.object,
      blob: null,
      size: 0,
      etag: '',
      contentType: header(req, 'content-type')?.split(';')[0] || so.contentType,
      meta: fresh ? {} : { ...so.meta },
      headers: objectHeadersFrom(req, fresh ? {} : { ...so.headers }),
      timestamp: ts,
      deleteAt: deleteAtFrom(req, null),
      slo: null,
    };
    applyMeta(req, 'Object', row.meta);
    const existing = getObject(dst.account, dst.container, dst.object);
    if (so.slo && q['multipart-manifest'] === 'get') {
      row.slo = so.slo.map((s) => ({ ...s }));
      row.size = so.size;
      row.etag = sloEtag(so.slo);
      checkQuota(req, dc, 0, existing);
    } else {
      const body = resolveBody(objects, so);
      checkQuota(req, dc, body.size, existing);
      delete row.headers['x-object-manifest'];
      const stored = await blobs.write(streamParts(blobs, body.pieces), { maxBytes: LIMITS.maxFileSize });
      row.blob = stored.key;
      row.size = stored.size;
      row.etag = stored.md5;
    }
    storeObject(row);
    reply
      .code(201)
      .header('etag', row.slo ? `"${row.etag}"` : row.etag)
      .header('last-modified', httpDate(ts))
      .header(
        'x-copied-from',
        `${encodeURIComponent(src.container)}/${encodeURIComponent(src.object).replaceAll('%2F', '/')}`,
      )
      .header('x-copied-from-last-modified', httpDate(so.timestamp));
    if (src.account !== dst.account) reply.header('x-copied-from-account', src.account);
    return reply.type('text/html; charset=UTF-8').send();
  }

  async function putObject(req: FastifyRequest, reply: FastifyReply, acct: string, cname: string, name: string) {
    const c = getContainer(acct, cname);
    checkContainer(req, acct, c, 'write');
    if (!c) throw new SwiftError(404);
    if (name.length > LIMITS.maxObjectNameLength) {
      throw new SwiftError(400, `Object name length of ${name.length} longer than ${LIMITS.maxObjectNameLength}`);
    }
    const copyFrom = header(req, 'x-copy-from');
    if (copyFrom !== undefined) {
      const parts = splitPath(decodeURIComponent(copyFrom));
      if (!parts) throw new SwiftError(412, 'X-Copy-From header must be of the form <container name>/<object name>');
      const srcAccount = header(req, 'x-copy-from-account') ?? acct;
      return copyObject(
        req,
        reply,
        { account: srcAccount, ...parts },
        { account: acct, container: cname, object: name },
      );
    }
    const q = req.query as Record<string, string | undefined>;
    if (q['multipart-manifest'] === 'put') return putSlo(req, reply, acct, c, name);
    const lengthHeader = header(req, 'content-length');
    const chunked = (header(req, 'transfer-encoding') ?? '').toLowerCase().includes('chunked');
    if (lengthHeader === undefined && !chunked) throw new SwiftError(411);
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (declared !== undefined && (!Number.isInteger(declared) || declared < 0))
      throw new SwiftError(400, 'Invalid Content-Length');
    if (declared !== undefined && declared > LIMITS.maxFileSize)
      throw new SwiftError(413, 'Your request is too large.');
    const existing = getObject(acct, cname, name);
    const ifNone = header(req, 'if-none-match');
    if (ifNone === '*' && existing) throw new SwiftError(412);
    const meta: Record<string, string> = {};
    applyMeta(req, 'Object', meta);
    const deleteAt = deleteAtFrom(req, null);
    if (declared !== undefined) checkQuota(req, c, declared, existing);
    const stored = await blobs.write(req.raw, { maxBytes: LIMITS.maxFileSize });
    const expected = header(req, 'etag');
    try {
      if (expected && expected.replaceAll('"', '').toLowerCase() !== stored.md5) throw new SwiftError(422);
      if (declared !== undefined && stored.size !== declared) throw new SwiftError(499);
      if (declared === undefined) checkQuota(req, c, stored.size, existing);
    } catch (err) {
      await blobs.remove(stored.key);
      throw err;
    }
    const ts = nowTs();
    const ctype = header(req, 'content-type');
    const row: ObjectRow = {
      id: objectId(acct, cname, name),
      account: acct,
      container: cname,
      name,
      blob: stored.key,
      size: stored.size,
      etag: stored.md5,
      contentType: ctype && !truthy(header(req, 'x-detect-content-type')) ? ctype : guessContentType(name),
      meta,
      headers: objectHeadersFrom(req, {}),
      timestamp: ts,
      deleteAt,
      slo: null,
    };
    storeObject(row);
    return reply
      .code(201)
      .header('etag', stored.md5)
      .header('last-modified', httpDate(ts))
      .type('text/html; charset=UTF-8')
      .send();
  }

  async function postObject(req: FastifyRequest, reply: FastifyReply, acct: string, cname: string, name: string) {
    const c = getContainer(acct, cname);
    checkContainer(req, acct, c, 'write');
    const o = c ? getObject(acct, cname, name) : undefined;
    if (!o) throw new SwiftError(404);
    const meta: Record<string, string> = {};
    applyMeta(req, 'Object', meta);
    o.meta = meta;
    const ctype = header(req, 'content-type');
    if (ctype) o.contentType = ctype;
    o.headers = objectHeadersFrom(req, o.headers);
    o.deleteAt = deleteAtFrom(req, o.deleteAt);
    objects.put(o);
    return reply
      .code(202)
      .type('text/html; charset=UTF-8')
      .send('<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>');
  }

  async function deleteObject(req: FastifyRequest, reply: FastifyReply, acct: string, cname: string, name: string) {
    const c = getContainer(acct, cname);
    checkContainer(req, acct, c, 'write');
    const o = c ? getObject(acct, cname, name) : undefined;
    if (!o) throw new SwiftError(404);
    const q = req.query as Record<string, string | undefined>;
    if (q['multipart-manifest'] === 'delete' && o.slo) {
      let deleted = 0;
      let notFound = 0;
      for (const seg of o.slo) {
        const parts = splitPath(seg.name);
        const so = parts ? getObject(acct, parts.container, parts.object) : undefined;
        if (!so) {
          notFound++;
          continue;
        }
        objects.delete(so.id);
        await blobs.remove(so.blob);
        deleted++;
      }
      objects.delete(o.id);
      deleted++;
      const result = {
        'Number Deleted': deleted,
        'Number Not Found': notFound,
        'Response Body': '',
        'Response Status': '200 OK',
        Errors: [],
      };
      if ((header(req, 'accept') ?? '').includes('application/json')) {
        return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(result));
      }
      const text = `Number Deleted: ${deleted}\nNumber Not Found: ${notFound}\nResponse Body: \nResponse Status: 200 OK\nErrors: \n`;
      return reply.code(200).type('text/plain; charset=utf-8').send(text);
    }
    objects.delete(o.id);
    await blobs.remove(o.blob);
    return reply.code(204).type('text/html; charset=UTF-8').send();
  }

  async function object(req: FastifyRequest, reply: FastifyReply, acct: string, cname: string, name: string) {
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return getObjectReq(req, reply, acct, cname, name);
      case 'PUT':
        return putObject(req, reply, acct, cname, name);
      case 'POST':
        return postObject(req, reply, acct, cname, name);
      case 'DELETE':
        return deleteObject(req, reply, acct, cname, name);
      case 'COPY': {
        const dest = header(req, 'destination');
        const parts = dest ? splitPath(decodeURIComponent(dest)) : undefined;
        if (!parts) throw new SwiftError(412, 'Destination header must be of the form <container name>/<object name>');
        const dstAccount = header(req, 'destination-account') ?? acct;
        return copyObject(
          req,
          reply,
          { account: acct, container: cname, object: name },
          { account: dstAccount, ...parts },
        );
      }
      default:
        throw new SwiftError(405);
    }
  }

  // One wildcard route: account, container and object names are split here (names may be long and hold '/').
  async function dispatch(req: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) {
    const path = req.params['*'] ?? '';
    const i = path.indexOf('/');
    const acct = i < 0 ? path : path.slice(0, i);
    const rest = i < 0 ? '' : path.slice(i + 1);
    if (acct === '') throw new SwiftError(412, 'Invalid path');
    if (rest === '') return account(req, reply, acct);
    const j = rest.indexOf('/');
    const cname = j < 0 ? rest : rest.slice(0, j);
    const name = j < 0 ? '' : rest.slice(j + 1);
    if (name === '') return container(req, reply, acct, cname);
    const q = req.query as Record<string, string | undefined>;
    if (q.temp_url_sig !== undefined) {
      const keys = [
        accounts.get(acct)?.meta['temp-url-key'],
        accounts.get(acct)?.meta['temp-url-key-2'],
        getContainer(acct, cname)?.meta['temp-url-key'],
        getContainer(acct, cname)?.meta['temp-url-key-2'],
      ].filter((k): k is string => typeof k === 'string' && k !== '');
      const swiftPath = `/v1/${acct}/${cname}`;
      const allowed = tempUrlAllows({
        method: req.method,
        query: q,
        objectName: name,
        paths: [`${swiftPath}/${name}`, `/object-store${swiftPath}/${name}`],
        containerPaths: [swiftPath, `/object-store${swiftPath}`],
        keys,
      });
      if (!allowed) throw new SwiftError(401, TEMPURL_DENIED);
      tempUrlGrants.add(req);
      if (req.method === 'GET') {
        const filename = q.filename ?? name.split('/').pop() ?? name;
        const inline = q.inline !== undefined;
        reply.header(
          'content-disposition',
          inline && q.filename === undefined
            ? 'inline'
            : `${inline ? 'inline' : 'attachment'}; filename="${filename.replaceAll('"', '')}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
        );
      }
    }
    return object(req, reply, acct, cname, name);
  }
  const methods = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY'];
  app.route({ method: methods, url: '/v1/*', exposeHeadRoute: false, handler: dispatch });
}

export const swiftModule: ServiceModule = {
  mount: {
    type: 'object-store',
    name: 'swift',
    prefix: '/object-store',
    catalogPath: '/object-store/v1/AUTH_$(project_id)s',
  },
  plugin: swiftPlugin,
};
