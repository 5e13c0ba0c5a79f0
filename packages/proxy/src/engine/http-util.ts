/** Small HTTP helpers of the engine: headers, request targets, body reading and streaming. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { errorResponse } from '../errors.ts';
import { DROPPED_RESPONSE, HOP_BY_HOP } from '../header-policy.ts';
import { noteStreamed } from '../memory.ts';
import { type LinkMap, rewriteUrl } from '../rewrite.ts';
import type { RemoteCredential } from '../token-mappings.ts';
import { type Credential, HttpError, type RequestLike } from './context.ts';

export const MICROVERSION_HEADERS = ['openstack-api-version', 'x-openstack-nova-api-version', 'accept'];
/** Versioned base path of a service when an extension calls a service other than the request's. */
export function defaultBase(service: string, projectId: string): string {
  switch (service) {
    case 'compute':
      return '/v2.1';
    case 'block-storage':
      return `/v3/${projectId}`;
    case 'image':
      return '/v2';
    case 'network':
      return '/v2.0';
    case 'object-store':
      return `/v1/AUTH_${projectId}`;
    default:
      return '';
  }
}

/** A failed raw exchange as the OcxError the rest of the engine knows. */

export function viaCredential(c: RemoteCredential): Credential {
  return {
    targetId: c.targetId,
    kind: 'via',
    token: c.token,
    projectId: c.projectId,
    localProjectId: c.localProjectId,
    endpoints: c.endpoints,
  };
}

export function header(req: RequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function microversionHeaders(req: RequestLike): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of MICROVERSION_HEADERS) {
    const v = header(req, h);
    if (v && h !== 'accept') out[h] = v;
  }
  return out;
}

export function responseHeaders(
  h: Record<string, string | string[] | undefined>,
  map: LinkMap,
): Record<string, string> {
  const out: Record<string, string> = {};
  const c = h.connection;
  const connectionNamed = namedByConnection(Array.isArray(c) ? c.join(',') : c);
  for (const k in h) {
    const v = h[k];
    if (v === undefined || HOP_BY_HOP.has(k) || connectionNamed?.has(k) || k === 'content-length') continue;
    if (DROPPED_RESPONSE.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  if (out.location) out.location = rewriteUrl(out.location, map);
  if (out['content-location']) out['content-location'] = rewriteUrl(out['content-location'], map);
  return out;
}

/** Characters that need nothing from WHATWG URL parsing in a request target (no dot segments checked here). */
export const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/;

/**
 * The path and query of a request target. A plain target (the usual case) is split as is; anything else
 * (dot segments, characters URL would escape, '//' at the start, a fragment) goes through WHATWG URL as before,
 * which normalises it.
 */
export function requestTarget(raw: string): { pathname: string; searchParams: URLSearchParams } {
  // WHATWG URL treats %2e like '.' in dot segments: such targets take the URL path too.
  if (PLAIN_TARGET.test(raw) && !raw.includes('/.') && !/%2e/i.test(raw)) {
    const q = raw.indexOf('?');
    if (q < 0) return { pathname: raw, searchParams: new URLSearchParams() };
    const pathname = raw.slice(0, q);
    if (!pathname.includes('?')) return { pathname, searchParams: new URLSearchParams(raw.slice(q + 1)) };
  }
  // Not new URL(raw, base): a target starting '//' is read as an authority ('//?a' has an empty host and throws).
  const u = raw.startsWith('/') ? new URL(`http://proxy${raw}`) : new URL(raw, 'http://proxy');
  return { pathname: u.pathname, searchParams: u.searchParams };
}

/** undici's origin + path for an absolute http(s) URL built from a catalog root (split once, not re-parsed). */
export function originAndPath(url: string): { origin: string; path: string } {
  const start = url.indexOf('://');
  const slash = start < 0 ? -1 : url.indexOf('/', start + 3);
  if (start < 0 || /[\s\\#]|\/\./.test(url)) {
    const u = new URL(url);
    return { origin: u.origin, path: `${u.pathname}${u.search}` };
  }
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/** Pipe a streamed upstream body to the client (backpressure by pipeline), counting bytes for noteStreamed. */
export function streamBody(body: Dispatcher.ResponseData['body'], res: ServerResponse): Promise<void> {
  const done = pipeline(body, res);
  body.on('data', (chunk: Buffer) => noteStreamed(chunk.length)); // flowing already: pipeline piped it
  return done;
}

/** A streamed request body as undici reads it (it waits for the upstream socket to drain between chunks). */
export async function* countedBody(req: IncomingMessage): AsyncGenerator<Buffer> {
  for await (const chunk of req) {
    noteStreamed((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

/** Header names a Connection header lists (hop-by-hop for this message); undefined for the usual keep-alive/close. */
export function namedByConnection(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase();
  if (v === 'keep-alive' || v === 'close') return undefined; // already hop-by-hop names
  return new Set(v.split(',').map((s) => s.trim()));
}

export function hasJsonBody(req: IncomingMessage, method: string, service: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return false;
  if (service === 'object-store') return false;
  const ct = String(req.headers['content-type'] ?? '');
  return ct.includes('json');
}

export async function readLimited(req: IncomingMessage, max: number, service: string | undefined): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > max) {
    req.resume();
    throw new HttpError(errorResponse(service, 413, `request body larger than ${max} bytes`));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      throw new HttpError(errorResponse(service, 413, `request body larger than ${max} bytes`));
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * JSON nesting beyond this is refused before parsing: the proxy re-serialises bodies it changes, and V8's
 * JSON.stringify recurses (a 36k-deep array overflowed the stack). OpenStack's Python services stop near the same
 * depth (the interpreter's recursion limit is 1000).
 */
export const MAX_JSON_DEPTH = 512;

/** The deepest `[`/`{` nesting of a JSON text, counted outside strings; O(n), no parse. */
export function jsonDepth(buf: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
