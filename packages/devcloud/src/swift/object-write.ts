/**
 * Swift object writes: PUT (streamed to disk with ETag and length checks, quotas, `X-Copy-From`, SLO manifests),
 * POST (metadata), DELETE (`?multipart-manifest=delete` removes the segments too) and COPY (`Destination`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { authorizedObject, checkContainer } from './acl.ts';
import { resolveBody, sloEtag, splitPath, streamParts } from './data.ts';
import { applyMeta, deleteAtFrom, objectHeadersFrom } from './headers.ts';
import { header, truthy } from './http.ts';
import { guessContentType, httpDate, LIMITS, nowTs, type ObjectRow, objectId } from './model.ts';
import { OBJECT_URL, type ObjectRequest } from './object-read.ts';
import { putSlo } from './slo.ts';
import type { SwiftStore } from './store.ts';
import type { TempUrlCheck } from './tempurl.ts';

export function objectWriteRoutes(app: FastifyInstance, store: SwiftStore, tempUrl: TempUrlCheck): void {
  async function copyObject(
    req: FastifyRequest,
    reply: FastifyReply,
    src: { account: string; container: string; object: string },
    dst: { account: string; container: string; object: string },
  ) {
    const so = authorizedObject(store, req, src.account, src.container, src.object, 'read');
    const dc = store.getContainer(dst.account, dst.container);
    checkContainer(req, dst.account, dc, 'write');
    if (!dc) throw new ApiFault(404);
    if (dst.object.length > LIMITS.maxObjectNameLength) {
      throw new ApiFault(400, `Object name length of ${dst.object.length} longer than ${LIMITS.maxObjectNameLength}`);
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
    const existing = store.getObject(dst.account, dst.container, dst.object);
    if (so.slo && q['multipart-manifest'] === 'get') {
      row.slo = so.slo.map((s) => ({ ...s }));
      row.size = so.size;
      row.etag = sloEtag(so.slo);
      store.checkQuota(dc, 0, existing);
    } else {
      const body = resolveBody(store.objects, so);
      store.checkQuota(dc, body.size, existing);
      delete row.headers['x-object-manifest'];
      const stored = await store.blobs.write(streamParts(store.blobs, body.pieces), { maxBytes: LIMITS.maxFileSize });
      row.blob = stored.key;
      row.size = stored.size;
      row.etag = stored.md5;
    }
    store.storeObject(row);
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

  async function putObject(req: ObjectRequest, reply: FastifyReply) {
    const { account: acct, container: cname, '*': name } = req.params;
    const c = store.getContainer(acct, cname);
    checkContainer(req, acct, c, 'write');
    if (!c) throw new ApiFault(404);
    if (name.length > LIMITS.maxObjectNameLength) {
      throw new ApiFault(400, `Object name length of ${name.length} longer than ${LIMITS.maxObjectNameLength}`);
    }
    const copyFrom = header(req, 'x-copy-from');
    if (copyFrom !== undefined) {
      const parts = splitPath(decodeURIComponent(copyFrom));
      if (!parts) throw new ApiFault(412, 'X-Copy-From header must be of the form <container name>/<object name>');
      const srcAccount = header(req, 'x-copy-from-account') ?? acct;
      return copyObject(
        req,
        reply,
        { account: srcAccount, ...parts },
        { account: acct, container: cname, object: name },
      );
    }
    const q = req.query as Record<string, string | undefined>;
    if (q['multipart-manifest'] === 'put') return putSlo(store, req, reply, acct, c, name);
    const lengthHeader = header(req, 'content-length');
    const chunked = (header(req, 'transfer-encoding') ?? '').toLowerCase().includes('chunked');
    if (lengthHeader === undefined && !chunked) throw new ApiFault(411);
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (declared !== undefined && (!Number.isInteger(declared) || declared < 0))
      throw new ApiFault(400, 'Invalid Content-Length');
    if (declared !== undefined && declared > LIMITS.maxFileSize) throw new ApiFault(413, 'Your request is too large.');
    const existing = store.getObject(acct, cname, name);
    const ifNone = header(req, 'if-none-match');
    if (ifNone === '*' && existing) throw new ApiFault(412);
    const meta: Record<string, string> = {};
    applyMeta(req, 'Object', meta);
    const deleteAt = deleteAtFrom(req, null);
    if (declared !== undefined) store.checkQuota(c, declared, existing);
    const stored = await store.blobs.write(req.raw, { maxBytes: LIMITS.maxFileSize });
    const expected = header(req, 'etag');
    try {
      if (expected && expected.replaceAll('"', '').toLowerCase() !== stored.md5) throw new ApiFault(422);
      if (declared !== undefined && stored.size !== declared) throw new ApiFault(499);
      if (declared === undefined) store.checkQuota(c, stored.size, existing);
    } catch (err) {
      await store.blobs.remove(stored.key);
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
    store.storeObject(row);
    return reply
      .code(201)
      .header('etag', stored.md5)
      .header('last-modified', httpDate(ts))
      .type('text/html; charset=UTF-8')
      .send();
  }

  async function postObject(req: ObjectRequest, reply: FastifyReply) {
    const { account: acct, container: cname, '*': name } = req.params;
    const o = authorizedObject(store, req, acct, cname, name, 'write');
    const meta: Record<string, string> = {};
    applyMeta(req, 'Object', meta);
    o.meta = meta;
    const ctype = header(req, 'content-type');
    if (ctype) o.contentType = ctype;
    o.headers = objectHeadersFrom(req, o.headers);
    o.deleteAt = deleteAtFrom(req, o.deleteAt);
    store.objects.put(o);
    return reply
      .code(202)
      .type('text/html; charset=UTF-8')
      .send('<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>');
  }

  async function deleteObject(req: ObjectRequest, reply: FastifyReply) {
    const { account: acct, container: cname, '*': name } = req.params;
    const o = authorizedObject(store, req, acct, cname, name, 'write');
    const q = req.query as Record<string, string | undefined>;
    if (q['multipart-manifest'] === 'delete' && o.slo) {
      let deleted = 0;
      let notFound = 0;
      for (const seg of o.slo) {
        const parts = splitPath(seg.name);
        const so = parts ? store.getObject(acct, parts.container, parts.object) : undefined;
        if (!so) {
          notFound++;
          continue;
        }
        store.objects.delete(so.id);
        await store.blobs.remove(so.blob);
        deleted++;
      }
      store.objects.delete(o.id);
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
    store.objects.delete(o.id);
    await store.blobs.remove(o.blob);
    return reply.code(204).type('text/html; charset=UTF-8').send();
  }

  async function copyRequest(req: ObjectRequest, reply: FastifyReply) {
    const { account: acct, container: cname, '*': name } = req.params;
    const dest = header(req, 'destination');
    const parts = dest ? splitPath(decodeURIComponent(dest)) : undefined;
    if (!parts) throw new ApiFault(412, 'Destination header must be of the form <container name>/<object name>');
    const dstAccount = header(req, 'destination-account') ?? acct;
    return copyObject(req, reply, { account: acct, container: cname, object: name }, { account: dstAccount, ...parts });
  }

  app.put(OBJECT_URL, { preHandler: tempUrl }, putObject);
  app.post(OBJECT_URL, { preHandler: tempUrl }, postObject);
  app.delete(OBJECT_URL, { preHandler: tempUrl }, deleteObject);
  app.route({ method: 'COPY', url: OBJECT_URL, preHandler: tempUrl, handler: copyRequest });
}
