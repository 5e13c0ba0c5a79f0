import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Query, RequestOptions, ServiceClient, ServiceResponse } from '../session/types.ts';

/** Per-call options every service method accepts. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Budget for this call in ms (default: the session's). */
  timeoutMs?: number | undefined;
}

/** Options of a list call: server-side filters/sort go in `query`; `pageSize` is sent as `limit`. */
export interface ListOptions extends CallOptions {
  query?: Query | undefined;
  /** Page size the server is asked for; iteration still continues across all pages. */
  pageSize?: number | undefined;
}

/** A JSON object as OpenStack returns it; known fields are typed by the interfaces that extend it. */
export type ApiObject = Record<string, unknown>;

export function callOpts(opts: CallOptions | undefined, extra: RequestOptions = {}): RequestOptions {
  return { signal: opts?.signal, timeoutMs: opts?.timeoutMs, ...extra };
}

/** Encode one path segment (ids and names may contain anything). */
export function seg(value: string): string {
  if (value === '') throw new OcxError(ErrorCode.BAD_REQUEST, 'empty id or name in a resource path');
  return encodeURIComponent(value);
}

/** Read `key` from a JSON response body, failing with INVALID_RESPONSE when it is missing. */
export async function unwrap<T>(res: ServiceResponse, key: string): Promise<T> {
  const body = await res.json<Record<string, unknown> | undefined>();
  if (typeof body !== 'object' || body === null || !(key in body)) {
    throw new OcxError(ErrorCode.INVALID_RESPONSE, `response has no "${key}"`, {
      method: res.method,
      url: res.url,
      status: res.status,
      requestId: res.requestId,
    });
  }
  return body[key] as T;
}

/** Collect an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Run the client's paginator for a list call. */
export function pages<T>(
  client: ServiceClient,
  path: string,
  itemsKey: string,
  opts: ListOptions | undefined,
  extra: { marker?: boolean; markerField?: string; microversion?: string; linksKey?: string } = {},
): AsyncIterable<T> {
  return client.paginate<T>(path, {
    itemsKey,
    query: opts?.query,
    limit: opts?.pageSize,
    signal: opts?.signal,
    timeoutMs: opts?.timeoutMs,
    ...extra,
  });
}

/** True for the NOT_FOUND OcxError (used by delete → false conventions). */
export function isNotFound(err: unknown): boolean {
  return err instanceof OcxError && err.code === ErrorCode.NOT_FOUND;
}
