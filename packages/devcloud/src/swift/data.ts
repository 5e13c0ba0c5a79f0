/**
 * Reading object bytes: plain objects, static large objects (segments, nested manifests, segment ranges) and
 * dynamic large objects (X-Object-Manifest), as a list of file pieces streamed in order — never buffered.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Table } from '../context.ts';
import { ApiFault } from '../fault.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { type ObjectRow, objectId } from './model.ts';

export interface Piece {
  key: string;
  /** Inclusive byte offsets inside the blob. */
  start: number;
  end: number;
}

export interface ResolvedBody {
  pieces: Piece[];
  size: number;
  /** ETag header value (quoted for large objects, as Swift sends it). */
  etag: string;
}

export function isExpired(obj: ObjectRow): boolean {
  return obj.deleteAt !== null && obj.deleteAt * 1000 <= Date.now();
}

/** Split '/container/object' (or 'container/object') into its parts. */
export function splitPath(path: string): { container: string; object: string } | undefined {
  const p = path.startsWith('/') ? path.slice(1) : path;
  const i = p.indexOf('/');
  if (i <= 0 || i === p.length - 1) return undefined;
  return { container: p.slice(0, i), object: p.slice(i + 1) };
}

export function parseSegmentRange(range: string, size: number): { start: number; end: number } | undefined {
  const m = /^(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start > end) return undefined;
  return { start, end };
}

/** The pieces that make up an object's body. Throws 409 when a large object's segment is missing. */
export function resolveBody(objects: Table<ObjectRow>, obj: ObjectRow, depth = 0): ResolvedBody {
  if (depth > 10) throw new ApiFault(409, 'Max recursion depth exceeded');
  if (obj.slo) {
    const pieces: Piece[] = [];
    for (const seg of obj.slo) {
      const parts = splitPath(seg.name);
      const segObj = parts ? objects.get(objectId(obj.account, parts.container, parts.object)) : undefined;
      if (!segObj || isExpired(segObj))
        throw new ApiFault(409, `Not found: segment ${seg.name} of ${obj.container}/${obj.name}`);
      let segPieces = resolveBody(objects, segObj, depth + 1).pieces;
      if (seg.range) {
        const total = segPieces.reduce((n, p) => n + (p.end - p.start + 1), 0);
        const r = parseSegmentRange(seg.range, total);
        if (r) segPieces = slicePieces(segPieces, r.start, r.end);
      }
      pieces.push(...segPieces);
    }
    return { pieces, size: sumPieces(pieces), etag: `"${sloEtag(obj.slo)}"` };
  }
  const manifest = obj.headers['x-object-manifest'];
  if (manifest !== undefined && depth === 0) {
    const parts = manifest.split('/');
    const container = decodeURIComponent(parts[0] ?? '');
    const prefix = decodeURIComponent(parts.slice(1).join('/'));
    const segs = objects
      .filter(
        (o) => o.account === obj.account && o.container === container && o.name.startsWith(prefix) && !isExpired(o),
      )
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const pieces: Piece[] = [];
    const md5 = createHash('md5');
    for (const s of segs) {
      if (s.headers['x-object-manifest'] !== undefined || s.slo) continue;
      md5.update(s.etag);
      if (s.blob && s.size > 0) pieces.push({ key: s.blob, start: 0, end: s.size - 1 });
    }
    return { pieces, size: sumPieces(pieces), etag: `"${md5.digest('hex')}"` };
  }
  const pieces = obj.blob && obj.size > 0 ? [{ key: obj.blob, start: 0, end: obj.size - 1 }] : [];
  return { pieces, size: obj.size, etag: obj.etag };
}

export function sloEtag(segments: { hash: string; range?: string }[]): string {
  const md5 = createHash('md5');
  for (const s of segments) md5.update(s.range ? `${s.hash}:${s.range};` : s.hash);
  return md5.digest('hex');
}

export function sumPieces(pieces: Piece[]): number {
  return pieces.reduce((n, p) => n + (p.end - p.start + 1), 0);
}

/** The pieces covering bytes [start, end] (inclusive) of the concatenation. */
export function slicePieces(pieces: Piece[], start: number, end: number): Piece[] {
  const out: Piece[] = [];
  let offset = 0;
  for (const p of pieces) {
    const len = p.end - p.start + 1;
    const pStart = offset;
    const pEnd = offset + len - 1;
    offset += len;
    if (pEnd < start || pStart > end) continue;
    const s = Math.max(start, pStart) - pStart + p.start;
    const e = Math.min(end, pEnd) - pStart + p.start;
    out.push({ key: p.key, start: s, end: e });
  }
  return out;
}

/** Stream pieces in order (and optional literal buffers between them, for multipart/byteranges). */
export function streamParts(blobs: BlobStore, parts: (Piece | Buffer)[]): Readable {
  async function* gen() {
    for (const part of parts) {
      if (Buffer.isBuffer(part)) {
        yield part;
        continue;
      }
      for await (const chunk of blobs.read(part.key, { start: part.start, end: part.end })) yield chunk as Buffer;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}
