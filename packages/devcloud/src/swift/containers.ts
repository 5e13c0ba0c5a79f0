/** Swift containers (`/v1/AUTH_<project>/<container>`): HEAD/GET with stats and the object listing, PUT, POST, DELETE. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { checkAccount, checkContainer, owner } from './acl.ts';
import { sloEtag } from './data.ts';
import { applyContainerHeaders, metaHeaders, validContainerName } from './headers.ts';
import { header } from './http.ts';
import { sendListing } from './listing.ts';
import { type ContainerRow, containerId, httpDate, listingTime, nowTs, xTimestamp } from './model.ts';
import type { SwiftStore } from './store.ts';

type ContainerRequest = FastifyRequest<{ Params: { account: string; container: string } }>;

export function containerRoutes(app: FastifyInstance, s: SwiftStore): void {
  const url = '/v1/:account/:container';

  async function getContainer(req: ContainerRequest, reply: FastifyReply) {
    const { account: acct, container: name } = req.params;
    const _m = req.method;
    const c = s.getContainer(acct, name);
    checkContainer(req, acct, c, 'list');
    if (!c) throw new ApiFault(404);
    const stats = s.containerStats(c);
    reply
      .header('x-container-object-count', stats.count)
      .header('x-container-bytes-used', stats.bytes)
      .header('x-timestamp', xTimestamp(c.timestamp))
      .header('x-put-timestamp', xTimestamp(c.putTimestamp))
      .header('last-modified', httpDate(stats.lastTs))
      .header('x-storage-policy', 'Policy-0')
      .header('accept-ranges', 'bytes');
    if (owner(req, acct)) {
      if (c.read) reply.header('x-container-read', c.read);
      if (c.write) reply.header('x-container-write', c.write);
    }
    metaHeaders(reply, 'Container', c.meta);
    return sendListing(
      req,
      reply,
      'container',
      name,
      () => s.liveObjects(acct, name),
      (o) => {
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
      },
    );
  }

  async function putContainer(req: ContainerRequest, reply: FastifyReply) {
    const { account: acct, container: name } = req.params;
    const c = s.getContainer(acct, name);
    checkAccount(req, acct);
    validContainerName(name);
    const policy = header(req, 'x-storage-policy');
    if (policy !== undefined && policy !== 'Policy-0') throw new ApiFault(400, `Invalid X-Storage-Policy '${policy}'`);
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
    s.accountRow(acct, true);
    s.containers.put(row);
    return reply
      .code(c ? 202 : 201)
      .type('text/html; charset=UTF-8')
      .send();
  }

  async function postContainer(req: ContainerRequest, reply: FastifyReply) {
    const { account: acct, container: name } = req.params;
    const c = s.getContainer(acct, name);
    checkAccount(req, acct);
    if (!c) throw new ApiFault(404);
    applyContainerHeaders(req, c);
    s.containers.put(c);
    return reply.code(204).type('text/html; charset=UTF-8').send();
  }

  async function deleteContainer(req: ContainerRequest, reply: FastifyReply) {
    const { account: acct, container: name } = req.params;
    const c = s.getContainer(acct, name);
    checkAccount(req, acct);
    if (!c) throw new ApiFault(404);
    if (s.liveObjects(acct, name).length > 0) throw new ApiFault(409);
    for (const o of s.objects.filter((x) => x.account === acct && x.container === name)) {
      s.objects.delete(o.id);
      await s.blobs.remove(o.blob);
    }
    s.containers.delete(c.id);
    return reply.code(204).type('text/html; charset=UTF-8').send();
  }

  app.route({ method: ['GET', 'HEAD'], url, exposeHeadRoute: false, handler: getContainer });
  app.put(url, putContainer);
  app.post(url, postContainer);
  app.delete(url, deleteContainer);
  app.route({
    method: 'COPY',
    url,
    handler: async () => {
      throw new ApiFault(405, '', { headers: { allow: 'HEAD, GET, PUT, POST, DELETE' } });
    },
  });
}
