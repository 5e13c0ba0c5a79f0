/** `GET /v2/images`: visibility and member status, attribute and time filters, sort keys, limit/marker with `next`. */
import type { FastifyRequest } from 'fastify';
import type { CloudContext } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { tok } from './http.ts';
import { type ImageRow, isMember, renderImage, SORT_KEYS, sortValue } from './images.ts';
import { IMAGES_TABLE } from './store.ts';

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

function parseInOperator(v: string): string[] | undefined {
  if (!v.startsWith('in:')) return undefined;
  return v
    .slice(3)
    .split(',')
    .map((s) => s.trim().replace(/^"|"$/g, ''));
}

function matchValue(actual: string | null, wanted: string): boolean {
  const list = parseInOperator(wanted);
  if (list) return actual !== null && list.includes(actual);
  return actual === wanted;
}

/** Glance's time filters: `gt:`, `gte:`, `lt:`, `lte:`, `eq:`, `neq:` followed by an ISO 8601 time. */
function matchTime(actualIso: string, filter: string): boolean {
  const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(filter);
  const op = m ? m[1] : 'eq';
  const when = Date.parse(m ? m[2]! : filter);
  if (Number.isNaN(when)) throw new ApiFault(400, `Unable to filter on a datetime: invalid time ${filter}`);
  // Glance stores times to the second.
  const actual = Math.floor(Date.parse(actualIso) / 1000) * 1000;
  switch (op) {
    case 'gt':
      return actual > when;
    case 'gte':
      return actual >= when;
    case 'lt':
      return actual < when;
    case 'lte':
      return actual <= when;
    case 'neq':
      return actual !== when;
    default:
      return actual === when;
  }
}

export interface ListQuery {
  params: URLSearchParams;
}

function parseSort(q: URLSearchParams): { key: string; dir: 'asc' | 'desc' }[] {
  const sort = q.getAll('sort');
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  const out: { key: string; dir: 'asc' | 'desc' }[] = [];
  if (sort.length > 0 && (keys.length > 0 || dirs.length > 0)) {
    throw new ApiFault(400, 'The sort param is not compatible with sort_key and sort_dir params.');
  }
  const check = (key: string, dir: string) => {
    if (!SORT_KEYS.has(key))
      throw new ApiFault(
        400,
        `Invalid sort key: ${key}. It must be one of the following: ${[...SORT_KEYS].join(', ')}.`,
      );
    if (dir !== 'asc' && dir !== 'desc')
      throw new ApiFault(400, `Invalid sort direction: ${dir}. It must be one of the following: asc, desc.`);
    out.push({ key, dir });
  };
  if (sort.length > 0) {
    for (const part of sort.join(',').split(',')) {
      if (part.trim() === '') continue;
      const [k, d] = part.split(':').map((s) => s.trim());
      check(k!, d ?? 'desc');
    }
  } else {
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw new ApiFault(400, 'Number of sort dirs does not match the number of sort keys');
    keys.forEach((k, i) => {
      check(k, dirs.length === 0 ? 'desc' : (dirs[dirs.length === 1 ? 0 : i] ?? 'desc'));
    });
  }
  if (out.length === 0) out.push({ key: 'created_at', dir: 'desc' });
  const last = out[out.length - 1]!.dir;
  if (!out.some((s) => s.key === 'created_at')) out.push({ key: 'created_at', dir: last });
  if (!out.some((s) => s.key === 'id')) out.push({ key: 'id', dir: last });
  return out;
}

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

const FILTER_SKIP = new Set([
  'limit',
  'marker',
  'sort',
  'sort_key',
  'sort_dir',
  'visibility',
  'member_status',
  'os_hidden',
]);

export function listImages(ctx: CloudContext, req: FastifyRequest, { params }: ListQuery) {
  const t = tok(req);
  const visibility = params.get('visibility');
  if (visibility && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) {
    throw new ApiFault(400, `Invalid visibility value: ${visibility}`);
  }
  const memberStatus = params.get('member_status') ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) {
    throw new ApiFault(400, `Invalid status value: ${memberStatus}`);
  }
  const hidden = params.get('os_hidden');
  const limitRaw = params.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit)) throw new ApiFault(400, 'limit param must be an integer');
    if (limit < 0) throw new ApiFault(400, 'limit param must be positive');
    limit = Math.min(limit, MAX_LIMIT);
  }
  const sortKeys = parseSort(params);
  const sizeMin = params.get('size_min');
  const sizeMax = params.get('size_max');
  const memberOk = (img: ImageRow) => {
    const m = isMember(img, t.projectId);
    return !!m && (memberStatus === 'all' || m.status === memberStatus);
  };
  const own = (img: ImageRow) => img.owner !== null && img.owner === t.projectId;
  const rows = ctx.store.table<ImageRow>(IMAGES_TABLE).filter((img) => {
    // Visibility: what this token may list.
    if (!t.isAdmin || visibility) {
      switch (visibility) {
        case null:
          if (
            !(
              img.visibility === 'public' ||
              own(img) ||
              (img.visibility === 'shared' && memberOk(img)) ||
              (t.isAdmin && img.visibility !== 'community')
            )
          )
            return false;
          break;
        case 'all':
          if (
            !(t.isAdmin || img.visibility === 'public' || img.visibility === 'community' || own(img) || memberOk(img))
          )
            return false;
          break;
        case 'public':
        case 'community':
          if (img.visibility !== visibility) return false;
          break;
        case 'private':
          if (img.visibility !== 'private' || !(t.isAdmin || own(img))) return false;
          break;
        case 'shared':
          if (img.visibility !== 'shared' || !(t.isAdmin || own(img) || memberOk(img))) return false;
          break;
      }
    }
    if (hidden === null || hidden === 'false') {
      if (img.os_hidden) return false;
    } else if (hidden === 'true' && !img.os_hidden) return false;
    for (const [key, value] of params) {
      if (FILTER_SKIP.has(key)) continue;
      switch (key) {
        case 'name':
        case 'status':
        case 'container_format':
        case 'disk_format':
        case 'id':
        case 'owner':
          if (!matchValue(img[key], value)) return false;
          break;
        case 'tag':
          if (!img.tags.includes(value)) return false;
          break;
        case 'protected':
          if (String(img.protected) !== value) return false;
          break;
        case 'size_min':
        case 'size_max':
          break;
        case 'created_at':
        case 'updated_at':
          if (!matchTime(img[key], value)) return false;
          break;
        default:
          if (img.properties[key] === undefined || !matchValue(img.properties[key]!, value)) return false;
      }
    }
    if (sizeMin !== null && (img.size === null || img.size < Number(sizeMin))) return false;
    if (sizeMax !== null && (img.size === null || img.size > Number(sizeMax))) return false;
    return true;
  });
  rows.sort((a, b) => {
    for (const { key, dir } of sortKeys) {
      const c = compare(sortValue(a, key), sortValue(b, key));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  const marker = params.get('marker');
  if (marker !== null) {
    const idx = rows.findIndex((r) => r.id === marker);
    if (idx < 0) throw new ApiFault(400, `Invalid marker. Image ${marker} could not be found.`);
    start = idx + 1;
  }
  const page = rows.slice(start, start + limit);
  const rest = new URLSearchParams([...params].filter(([k]) => k !== 'marker'));
  const firstQs = rest.toString();
  const body: Record<string, unknown> = {
    images: page.map(renderImage),
    first: `/v2/images${firstQs ? `?${firstQs}` : ''}`,
    schema: '/v2/schemas/images',
  };
  if (limit > 0 && page.length === limit) {
    const next = new URLSearchParams(rest);
    next.append('marker', page[page.length - 1]!.id);
    body.next = `/v2/images?${next.toString()}`;
  }
  return body;
}
