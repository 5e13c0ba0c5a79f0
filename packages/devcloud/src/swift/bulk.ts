/**
 * Swift's bulk delete (`POST` or `DELETE /v1/AUTH_<project>?bulk-delete`): the body lists URL-encoded
 * '/container/object' or '/container' lines, deleted in order. The HTTP status is 200; the report (JSON with
 * `Accept: application/json`, else text) counts deleted and missing names and lists failures (a non-empty
 * container: '409 Conflict'), with 'Response Status' '400 Bad Request' when any failed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { header, readSmallBody } from './http.ts';
import type { SwiftStore } from './store.ts';

const MAX_DELETES = 10_000;

export function isBulkDelete(req: FastifyRequest): boolean {
  return (req.query as Record<string, unknown>)['bulk-delete'] !== undefined;
}

export async function bulkDelete(s: SwiftStore, req: FastifyRequest, reply: FastifyReply, acct: string) {
  const lines = (await readSmallBody(req, MAX_DELETES * 1100))
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length > MAX_DELETES) throw new ApiFault(413, `Maximum Bulk Deletes: ${MAX_DELETES} per request`);
  let deleted = 0;
  let notFound = 0;
  const errors: [string, string][] = [];
  for (const line of lines) {
    let path: string;
    try {
      path = decodeURIComponent(line).replace(/^\/+/, '');
    } catch {
      errors.push([line, '412 Precondition Failed']);
      continue;
    }
    const i = path.indexOf('/');
    const cname = i < 0 ? path : path.slice(0, i);
    const oname = i < 0 ? '' : path.slice(i + 1);
    const c = s.getContainer(acct, cname);
    if (oname === '') {
      if (!c) notFound++;
      else if (s.liveObjects(acct, cname).length > 0) errors.push([line, '409 Conflict']);
      else {
        for (const o of s.objects.filter((x) => x.account === acct && x.container === cname)) {
          s.objects.delete(o.id);
          await s.blobs.remove(o.blob);
        }
        s.containers.delete(c.id);
        deleted++;
      }
      continue;
    }
    const o = c ? s.getObject(acct, cname, oname) : undefined;
    if (!o) {
      notFound++;
      continue;
    }
    s.objects.delete(o.id);
    await s.blobs.remove(o.blob);
    deleted++;
  }
  const status = errors.length > 0 ? '400 Bad Request' : '200 OK';
  if ((header(req, 'accept') ?? '').includes('application/json')) {
    const result = {
      'Response Status': status,
      'Response Body': '',
      'Number Deleted': deleted,
      'Number Not Found': notFound,
      Errors: errors,
    };
    return reply.code(200).type('application/json').send(JSON.stringify(result));
  }
  const errLines = errors.map(([n, e]) => `${n}, ${e}\n`).join('');
  const text = `Number Deleted: ${deleted}\nNumber Not Found: ${notFound}\nResponse Body: \nResponse Status: ${status}\nErrors:\n${errLines}`;
  return reply.code(200).type('text/plain').send(text);
}
