/** Swift accounts (`/v1/AUTH_<project>`): HEAD/GET with stats, metadata and the container listing; POST metadata. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { checkAccount } from './acl.ts';
import { bulkDelete, isBulkDelete } from './bulk.ts';
import { applyMeta, metaHeaders } from './headers.ts';
import { sendListing } from './listing.ts';
import { listingTime, xTimestamp } from './model.ts';
import type { SwiftStore } from './store.ts';

type AccountRequest = FastifyRequest<{ Params: { account: string } }>;

export function accountRoutes(app: FastifyInstance, s: SwiftStore): void {
  const url = '/v1/:account';

  async function getAccount(req: AccountRequest, reply: FastifyReply) {
    const acct = req.params.account;
    checkAccount(req, acct);
    const _m = req.method;
    const row = s.accountRow(acct, false);
    const stats = s.accountStats(acct);
    reply
      .header('x-account-container-count', stats.containers.length)
      .header('x-account-object-count', stats.objects)
      .header('x-account-bytes-used', stats.bytes)
      .header('x-timestamp', xTimestamp(row.timestamp))
      .header('x-put-timestamp', xTimestamp(row.timestamp))
      .header('accept-ranges', 'bytes');
    metaHeaders(reply, 'Account', row.meta);
    return sendListing(
      req,
      reply,
      'account',
      acct,
      () => stats.containers.map((c) => ({ ...c, stats: s.containerStats(c) })),
      (c) => ({
        name: c.name,
        count: c.stats.count,
        bytes: c.stats.bytes,
        last_modified: listingTime(c.stats.lastTs),
      }),
    );
  }

  async function postAccount(req: AccountRequest, reply: FastifyReply) {
    const acct = req.params.account;
    checkAccount(req, acct);
    if (isBulkDelete(req)) return bulkDelete(s, req, reply, acct);
    const row = s.accountRow(acct, true);
    const before = row.meta['quota-bytes'];
    applyMeta(req, 'Account', row.meta);
    if (row.meta['quota-bytes'] !== before && !req.swiftToken?.isAdmin) {
      if (before === undefined) delete row.meta['quota-bytes'];
      else row.meta['quota-bytes'] = before;
      throw new ApiFault(403);
    }
    s.accounts.put(row);
    return reply.code(204).type('text/html; charset=UTF-8').send();
  }

  app.route({ method: ['GET', 'HEAD'], url, exposeHeadRoute: false, handler: getAccount });
  app.post(url, postAccount);
  app.route({
    method: ['PUT', 'DELETE', 'COPY'],
    url,
    handler: async (req: AccountRequest, reply: FastifyReply) => {
      if (req.method === 'DELETE' && isBulkDelete(req)) {
        checkAccount(req, req.params.account);
        return bulkDelete(s, req, reply, req.params.account);
      }
      throw new ApiFault(405, '', { headers: { allow: 'HEAD, GET, POST' } });
    },
  });
}
