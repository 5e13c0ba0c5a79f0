/** Swift's request headers: metadata (`X-<Kind>-Meta-*`, validated like Swift), expiry, stored object headers. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { header } from './http.ts';
import { type ContainerRow, LIMITS, metaHeader } from './model.ts';

export type Kind = 'Account' | 'Container' | 'Object';

/** Apply X-<Kind>-Meta-* and X-Remove-<Kind>-Meta-* headers to a metadata map (validated like Swift). */
export function applyMeta(req: FastifyRequest, kind: Kind, meta: Record<string, string>): void {
  const set = `x-${kind.toLowerCase()}-meta-`;
  const remove = `x-remove-${kind.toLowerCase()}-meta-`;
  for (const [name, raw] of Object.entries(req.headers)) {
    const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
    if (name.startsWith(set)) {
      const key = name.slice(set.length);
      if (key === '') throw new ApiFault(400, 'Metadata name cannot be empty');
      if (key.length > LIMITS.maxMetaNameLength) throw new ApiFault(400, `Metadata name too long: ${set}${key}`);
      if (value.length > LIMITS.maxMetaValueLength)
        throw new ApiFault(400, `Metadata value longer than ${LIMITS.maxMetaValueLength}: ${set}${key}`);
      if (value === '') delete meta[key];
      else meta[key] = value;
    } else if (name.startsWith(remove)) {
      delete meta[name.slice(remove.length)];
    }
  }
  const entries = Object.entries(meta);
  if (entries.length > LIMITS.maxMetaCount)
    throw new ApiFault(400, `Too many metadata items; max ${LIMITS.maxMetaCount}`);
  const total = entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (total > LIMITS.maxMetaOverallSize)
    throw new ApiFault(400, `Total metadata too large; max ${LIMITS.maxMetaOverallSize}`);
}

export function metaHeaders(reply: FastifyReply, kind: Kind, meta: Record<string, string>): void {
  for (const [k, v] of Object.entries(meta)) reply.header(metaHeader(kind, k), v);
}

export function validContainerName(name: string): void {
  if (name.length > LIMITS.maxContainerNameLength) {
    throw new ApiFault(400, `Container name length of ${name.length} longer than ${LIMITS.maxContainerNameLength}`);
  }
}

export function deleteAtFrom(req: FastifyRequest, current: number | null): number | null {
  const after = header(req, 'x-delete-after');
  const at = header(req, 'x-delete-at');
  if (after !== undefined) {
    const n = Number(after);
    if (!Number.isInteger(n) || n < 0) throw new ApiFault(400, 'Non-integer X-Delete-After');
    return Math.floor(Date.now() / 1000) + n;
  }
  if (at !== undefined) {
    if (at === '') return null;
    const n = Number(at);
    if (!Number.isInteger(n)) throw new ApiFault(400, 'Non-integer X-Delete-At');
    if (n * 1000 <= Date.now()) throw new ApiFault(400, 'X-Delete-At in past');
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

export function objectHeadersFrom(req: FastifyRequest, base: Record<string, string>): Record<string, string> {
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

export function applyContainerHeaders(req: FastifyRequest, row: ContainerRow): void {
  // as Swift's container_quotas middleware: a quota is a whole number ('' removes it), checked before anything
  const qb = header(req, 'x-container-meta-quota-bytes');
  if (qb && !/^\d+$/.test(qb)) throw new ApiFault(400, 'Invalid bytes quota.');
  const qc = header(req, 'x-container-meta-quota-count');
  if (qc && !/^\d+$/.test(qc)) throw new ApiFault(400, 'Invalid count quota.');
  applyMeta(req, 'Container', row.meta);
  const read = header(req, 'x-container-read');
  const write = header(req, 'x-container-write');
  if (read !== undefined) row.read = read === '' ? null : read;
  if (write !== undefined) row.write = write === '' ? null : write;
  if (header(req, 'x-remove-container-read') !== undefined) row.read = null;
  if (header(req, 'x-remove-container-write') !== undefined) row.write = null;
}
