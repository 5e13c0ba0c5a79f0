/** Cinder's list semantics: sort (`sort=k:dir` or sort_key/sort_dir), limit/marker/offset and `*_links` next. */
import type { FastifyRequest } from 'fastify';
import { badRequest, notFound } from './errors.ts';

export const MAX_LIMIT = 1000;

export function queryParams(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : req.url.slice(i + 1));
}

export function parseSort(q: URLSearchParams, allowed: string[]): { key: string; dir: 'asc' | 'desc' }[] {
  const sort = q.get('sort');
  const sortKey = q.get('sort_key');
  const sortDir = q.get('sort_dir');
  if (sort !== null && (sortKey !== null || sortDir !== null)) {
    throw badRequest(
      "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    );
  }
  const out: { key: string; dir: 'asc' | 'desc' }[] = [];
  const add = (key: string, dir: string) => {
    if (!allowed.includes(key)) throw badRequest(`Invalid input received: Invalid sort key ${key}`);
    if (dir !== 'asc' && dir !== 'desc')
      throw badRequest(`Invalid input received: Unknown sort direction, must be 'desc' or 'asc'`);
    out.push({ key, dir });
  };
  if (sort !== null) {
    for (const part of sort.split(',')) {
      if (!part.trim()) continue;
      const [k, d] = part.split(':').map((s) => s.trim());
      add(k!, (d ?? 'desc').toLowerCase());
    }
  } else if (sortKey !== null) {
    const keys = sortKey.split(',');
    const dirs = (sortDir ?? 'desc').split(',');
    keys.forEach((k, i) => {
      add(k.trim(), (dirs[i] ?? dirs[dirs.length - 1] ?? 'desc').trim().toLowerCase());
    });
  }
  if (out.length === 0) out.push({ key: 'created_at', dir: 'desc' });
  const last = out[out.length - 1]!.dir;
  if (!out.some((s) => s.key === 'created_at')) out.push({ key: 'created_at', dir: last });
  if (!out.some((s) => s.key === 'id')) out.push({ key: 'id', dir: last });
  return out;
}

type Sortable = string | number | boolean | null | undefined;

function cmp(a: Sortable, b: Sortable): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return a < b ? -1 : 1;
}

/** Sort, then page by marker/offset/limit; returns the page and the `*_links` array (next when full). */
export function paginate<T extends { id: string }>(
  req: FastifyRequest,
  rows: T[],
  value: (row: T, key: string) => Sortable,
  allowedKeys: string[],
  collectionUrl: string,
  markerName: string,
): { page: T[]; links: { rel: string; href: string }[] | undefined } {
  const q = queryParams(req);
  const sort = parseSort(q, allowedKeys);
  rows.sort((a, b) => {
    for (const { key, dir } of sort) {
      const c = cmp(value(a, key), value(b, key));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let limit = MAX_LIMIT;
  const rawLimit = q.get('limit');
  if (rawLimit !== null) {
    if (!/^\d+$/.test(rawLimit)) throw badRequest('limit param must be an integer');
    limit = Math.min(Number(rawLimit), MAX_LIMIT);
  }
  let start = 0;
  const offset = q.get('offset');
  if (offset !== null) {
    if (!/^\d+$/.test(offset)) throw badRequest('offset param must be an integer');
    start = Number(offset);
  }
  const marker = q.get('marker');
  if (marker !== null) {
    const idx = rows.findIndex((r) => r.id === marker);
    if (idx < 0) throw notFound(`${markerName} ${marker} could not be found.`);
    start = idx + 1;
  }
  const page = rows.slice(start, start + limit);
  let links: { rel: string; href: string }[] | undefined;
  if (page.length > 0 && page.length === limit) {
    const next = new URLSearchParams([...q].filter(([k]) => k !== 'marker'));
    if (!next.has('limit')) next.set('limit', String(limit));
    next.append('marker', page[page.length - 1]!.id);
    links = [{ rel: 'next', href: `${collectionUrl}?${next.toString()}` }];
  }
  return { page, links };
}
