/** Account and container listings: prefix/delimiter/marker/end_marker/limit/reverse and json/xml/plain output. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { header } from './http.ts';
import { LIMITS } from './model.ts';

export interface ListingParams {
  limit: number;
  marker: string;
  endMarker: string;
  prefix: string;
  delimiter: string;
  reverse: boolean;
  format: 'json' | 'xml' | 'plain';
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);

export function listingParams(query: Record<string, unknown>, accept: string | undefined): ListingParams {
  const one = (k: string): string | undefined => {
    const v = query[k];
    if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
    return v === undefined ? undefined : String(v);
  };
  let limit: number = LIMITS.listingLimit;
  const rawLimit = one('limit');
  if (rawLimit !== undefined && rawLimit !== '') {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 0) throw new ApiFault(412, `Value of limit must be a positive integer`);
    if (limit > LIMITS.listingLimit) throw new ApiFault(412, `Maximum limit is ${LIMITS.listingLimit}`);
  }
  const delimiter = one('delimiter') ?? '';
  if (delimiter.length > 1) throw new ApiFault(412, 'Bad delimiter');
  let format: ListingParams['format'] = 'plain';
  const f = one('format')?.toLowerCase();
  if (f === 'json' || f === 'xml' || f === 'plain') format = f;
  else if (f === undefined && accept) {
    if (accept.includes('application/json')) format = 'json';
    else if (accept.includes('application/xml') || accept.includes('text/xml')) format = 'xml';
  }
  return {
    limit,
    marker: one('marker') ?? '',
    endMarker: one('end_marker') ?? '',
    prefix: one('prefix') ?? '',
    delimiter,
    reverse: TRUE.has((one('reverse') ?? '').toLowerCase()),
    format,
  };
}

export type Entry<T> = { kind: 'item'; name: string; item: T } | { kind: 'subdir'; name: string };

/** Select the page of entries (items and `subdir` groups) the parameters ask for. `items` need not be sorted. */
export function selectEntries<T extends { name: string }>(items: T[], p: ListingParams): Entry<T>[] {
  const sorted = items
    .filter((i) => i.name.startsWith(p.prefix))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (p.reverse) sorted.reverse();
  const out: Entry<T>[] = [];
  let lastSubdir: string | undefined;
  for (const item of sorted) {
    let entry: Entry<T> = { kind: 'item', name: item.name, item };
    if (p.delimiter) {
      const rest = item.name.slice(p.prefix.length);
      const idx = rest.indexOf(p.delimiter);
      if (idx >= 0) {
        const subdir = p.prefix + rest.slice(0, idx + p.delimiter.length);
        if (subdir === lastSubdir) continue;
        lastSubdir = subdir;
        entry = { kind: 'subdir', name: subdir };
      }
    }
    if (!p.reverse) {
      if (p.marker && !(entry.name > p.marker)) continue;
      if (p.endMarker && !(entry.name < p.endMarker)) continue;
    } else {
      if (p.marker && !(entry.name < p.marker)) continue;
      if (p.endMarker && !(entry.name > p.endMarker)) continue;
    }
    out.push(entry);
    if (out.length >= p.limit) break;
  }
  return out;
}

function xmlEscape(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Render a listing; `null` body means 204 No Content (an empty plain-text listing). */
export function renderListing<T>(
  entries: Entry<T>[],
  p: ListingParams,
  kind: 'account' | 'container',
  ownerName: string,
  toJson: (item: T) => Record<string, unknown>,
): { contentType: string; body: string | null } {
  if (p.format === 'json') {
    const rows = entries.map((e) => (e.kind === 'subdir' ? { subdir: e.name } : toJson(e.item)));
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(rows) };
  }
  if (p.format === 'xml') {
    const tag = kind === 'account' ? 'container' : 'object';
    const parts = entries.map((e) => {
      if (e.kind === 'subdir') return `<subdir name="${xmlEscape(e.name)}"><name>${xmlEscape(e.name)}</name></subdir>`;
      const fields = Object.entries(toJson(e.item))
        .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
        .join('');
      return `<${tag}>${fields}</${tag}>`;
    });
    const root = kind === 'account' ? 'account' : 'container';
    return {
      contentType: 'application/xml; charset=utf-8',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} name="${xmlEscape(ownerName)}">${parts.join('')}</${root}>`,
    };
  }
  if (entries.length === 0) return { contentType: 'text/plain; charset=utf-8', body: null };
  return { contentType: 'text/plain; charset=utf-8', body: `${entries.map((e) => e.name).join('\n')}\n` };
}

/**
 * Answer an account or container GET/HEAD with its listing: HEAD is 204 with the content type the format asks
 * for; GET sends the rendered listing (204 when it is an empty plain-text one). `items` is read for GET only.
 */
export function sendListing<T extends { name: string }>(
  req: FastifyRequest,
  reply: FastifyReply,
  kind: 'account' | 'container',
  ownerName: string,
  items: () => T[],
  toJson: (item: T) => Record<string, unknown>,
): FastifyReply {
  const p = listingParams(req.query as Record<string, unknown>, header(req, 'accept'));
  if (req.method === 'HEAD') {
    return reply
      .code(204)
      .type(p.format === 'json' ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8')
      .send();
  }
  const out = renderListing(selectEntries(items(), p), p, kind, ownerName, toJson);
  reply.type(out.contentType);
  if (out.body === null) return reply.code(204).send();
  return reply.code(200).send(out.body);
}
