/** Static large objects: `PUT ?multipart-manifest=put` checks each segment (exists, ETag, size) like Swift's slo middleware. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { resolveBody, sloEtag, splitPath } from './data.ts';
import { applyMeta, deleteAtFrom, objectHeadersFrom } from './headers.ts';
import { header, readSmallBody } from './http.ts';
import {
  type ContainerRow,
  guessContentType,
  httpDate,
  LIMITS,
  listingTime,
  nowTs,
  type ObjectRow,
  objectId,
  type SloSegment,
} from './model.ts';
import type { SwiftStore } from './store.ts';

export async function putSlo(
  store: SwiftStore,
  req: FastifyRequest,
  reply: FastifyReply,
  acct: string,
  c: ContainerRow,
  name: string,
) {
  const raw = await readSmallBody(req, LIMITS.maxManifestSize);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiFault(400, 'Manifest must be valid JSON.\n');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ApiFault(400, 'Manifest must be a list of segments.\n');
  if (parsed.length > LIMITS.maxManifestSegments) {
    throw new ApiFault(400, `Too many buffered slo segments to delete.\n`);
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
    const seg = parts ? store.getObject(acct, parts.container, parts.object) : undefined;
    if (!seg || !parts) {
      errors.push(`${path}, 404 Not Found`);
      continue;
    }
    const segBody = resolveBody(store.objects, seg);
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
  if (errors.length > 0) throw new ApiFault(400, `Errors:\n${errors.join('\n')}\n`);
  const existing = store.getObject(acct, c.name, name);
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
  const body = resolveBody(store.objects, probe);
  probe.size = body.size;
  probe.etag = sloEtag(segments);
  const expected = header(req, 'etag');
  if (expected && expected.replaceAll('"', '') !== probe.etag) throw new ApiFault(422);
  store.checkQuota(c, 0, existing);
  store.storeObject(probe);
  return reply
    .code(201)
    .header('etag', `"${probe.etag}"`)
    .header('last-modified', httpDate(probe.timestamp))
    .type('text/html; charset=UTF-8')
    .send();
}
