/** Forward: the one upstream call of a forwarded request, with its body streamed or buffered, and the answer streamed or rewritten. */

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { OcxError, safeUrl } from '@ocx/sdk';
import type { Dispatcher } from 'undici';
import type { Engine } from '../engine.ts';
import { errorResponse } from '../errors.ts';
import type { Extension, ExtensionContext, ExtensionResponse } from '../extensions/types.ts';
import { UPSTREAM_MAX_FIELD_BYTES, UPSTREAM_MAX_HEAD_BYTES } from '../header-policy.ts';
import { pathFor, resourceOf } from '../paths.ts';
import { type LinkMap, rewriteJson } from '../rewrite.ts';
import { type Credential, HttpError, type RequestState } from './context.ts';
import { countedBody, originAndPath, streamBody } from './http-util.ts';
import { MappingNotStoredError } from './learn.ts';
import type { Stage } from './pipeline.ts';

/** Stage: the upstream call with the credential found, and the answer (learned, published) to the client. */
export const forwardStage: Stage = (eng, call) =>
  forward(eng, call.st!, call.res, call.target!, call.cred!, call.deadline!, call.exts, call.ext);

export async function forward(
  eng: Engine,
  st: RequestState,
  res: ServerResponse,
  targetId: string,
  cred: Credential,
  deadline: number,
  exts: Extension[],
  ctx: ExtensionContext | undefined,
): Promise<number> {
  const url = eng.upstreamUrl(cred, st.service, pathFor(st.parsed, cred.projectId), st.query);
  const headers = eng.upstreamHeaders(st, cred);
  refuseOversizedHead(st, url, headers);
  let body: Buffer | AsyncIterable<Buffer> | undefined;
  if (st.body !== undefined) {
    body = st.bodyChanged && st.json !== undefined ? Buffer.from(JSON.stringify(st.json)) : st.body;
    headers['content-length'] = String(body.length);
  } else if (
    st.method !== 'GET' &&
    st.method !== 'HEAD' &&
    st.upload &&
    (st.req.headers['content-length'] || st.req.headers['transfer-encoding'])
  ) {
    body = countedBody(st.upload); // streamed as it arrives, never buffered
  } else {
    delete headers['content-length'];
  }
  // A plain body-less GET/HEAD answered with the upstream's bytes may be published to the native lane.
  const publishable =
    (st.method === 'GET' || st.method === 'HEAD') && body === undefined && exts.length === 0 && !st.proxyList.length;
  const t0 = performance.now();
  const remaining = deadline - Date.now();
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await eng.o.agent.request({
      ...originAndPath(url),
      method: st.method as Dispatcher.HttpMethod,
      headers,
      // undici takes async iterables as bodies (documented) though its typings list only Readable.
      body: body as Buffer | Readable | undefined,
      signal: st.signal,
      headersTimeout: Math.max(1, remaining),
      bodyTimeout: eng.o.bodyIdleTimeoutMs,
    });
  } catch (err) {
    throw eng.upstreamFailed(
      st,
      targetId,
      url,
      t0,
      OcxError.from(err, { method: `${st.method} ${targetId}/${st.service}`, url: safeUrl(url), signal: st.signal }),
    );
  }
  const status = upstream.statusCode;
  const { map, outHeaders, rewritable, ref } = await eng.upstreamAnswered(
    st,
    targetId,
    cred,
    status,
    upstream.headers,
    t0,
  );
  if (!rewritable) {
    await eng.learn(st, targetId, status, undefined, ref);
    if (publishable) eng.offerRoute(st, cred, { ...originAndPath(url), status, ref }, upstream.headers);
    delete outHeaders['content-length'];
    if (upstream.headers['content-length'] !== undefined)
      outHeaders['content-length'] = String(upstream.headers['content-length']);
    res.writeHead(status, outHeaders);
    if (st.method === 'HEAD') {
      upstream.body.resume();
      res.end();
    } else {
      await streamBody(upstream.body, res);
    }
    return status;
  }
  // Buffer JSON for rewriting, but never more than maxRewriteBytes (a chunked answer has no length up front):
  // past the cap, what was read goes out as is and the rest streams behind it.
  const parts: Buffer[] = [];
  let size = 0;
  const upBody = upstream.body;
  const overflow = await new Promise<boolean>((resolve, reject) => {
    const cleanup = () => {
      upBody.off('data', onData);
      upBody.off('end', onEnd);
      upBody.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size > eng.o.maxRewriteBytes) {
        upBody.pause();
        cleanup();
        resolve(true);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(false);
    };
    // The SP broke off its answer mid-body: a 502 naming it, never a 500 "failed to handle" (nor a shorter body).
    const onError = (err: Error) => {
      cleanup();
      eng.o.logger.warn(
        { target: targetId, service: st.service, err: { message: err.message } },
        'answer cut mid-body',
      );
      reject(new HttpError(errorResponse(st.service, 502, `The answer of ${targetId} broke off mid-body.`)));
    };
    upBody.on('data', onData);
    upBody.on('end', onEnd);
    upBody.on('error', onError);
  });
  if (overflow) {
    await eng.learn(st, targetId, status, undefined, ref);
    delete outHeaders['content-length'];
    res.writeHead(status, outHeaders);
    for (const part of parts) res.write(part);
    await streamBody(upstream.body, res);
    return status;
  }
  const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  let out: Awaited<ReturnType<typeof finishBuffered>>;
  try {
    out = await eng.finishBuffered(st, targetId, status, outHeaders, raw, map, exts, ctx);
  } catch (err) {
    if (err instanceof MappingNotStoredError) throw await undoCreate(eng, st, cred, url, targetId, err);
    throw err;
  }
  if (publishable && out.body === raw) {
    eng.offerRoute(st, cred, { ...originAndPath(url), status, ref }, upstream.headers);
  }
  res.writeHead(out.status, out.headers);
  res.end(out.body);
  return out.status;
}
/** A head the service would refuse (see UPSTREAM_MAX_HEAD_BYTES) is the service's 431 here, before any byte goes up. */
export function refuseOversizedHead(st: RequestState, url: string, headers: Record<string, string>): void {
  let size = st.method.length + url.length + 12;
  let largest = '';
  let largestBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    const bytes = name.length + 2 + Buffer.byteLength(value);
    size += bytes + 2;
    if (bytes > largestBytes) [largest, largestBytes] = [name, bytes];
  }
  if (largestBytes > UPSTREAM_MAX_FIELD_BYTES)
    throw new HttpError(
      errorResponse(
        st.service,
        431,
        `The header ${largest} is ${largestBytes} bytes; the service takes at most ${UPSTREAM_MAX_FIELD_BYTES}.`,
      ),
    );
  if (size > UPSTREAM_MAX_HEAD_BYTES)
    throw new HttpError(
      errorResponse(
        st.service,
        431,
        `The request head is ${size} bytes; the service takes at most ${UPSTREAM_MAX_HEAD_BYTES}.`,
      ),
    );
}

/** A whole JSON answer in hand: rewrite links, learn, run response hooks; what the client gets. */
export async function finishBuffered(
  eng: Engine,
  st: RequestState,
  targetId: string,
  status: number,
  outHeaders: Record<string, string>,
  raw: Buffer,
  map: LinkMap,
  exts: Extension[],
  ctx: ExtensionContext | undefined,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer | string }> {
  const ref = st.parsed.version ? resourceOf(st.parsed) : undefined;
  const hooks = exts.filter((e) => e.onResponse);
  const needJson =
    hooks.length > 0 ||
    (st.method === 'POST' && status < 300) ||
    (map.upstreamRoot !== '' && raw.includes(map.upstreamRoot));
  if (!needJson) {
    // Nothing to rewrite or learn from the body: send the bytes as they came (no decode, no re-encode).
    await eng.learn(st, targetId, status, undefined, ref);
    outHeaders['content-length'] = String(raw.length);
    return { status, headers: outHeaders, body: raw };
  }
  const text = raw.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (json !== undefined) rewriteJson(json, map);
  await eng.learn(st, targetId, status, json, ref);
  const answer: ExtensionResponse & { targetId: string } = { status, headers: outHeaders, json, targetId };
  for (const ext of hooks) await ext.onResponse!(ctx!, answer);
  const bodyOut = answer.json !== undefined ? JSON.stringify(answer.json) : text;
  const h = { ...(answer.headers ?? {}) };
  delete h['content-length'];
  h['content-length'] = String(Buffer.byteLength(bodyOut));
  return { status: answer.status, headers: h, body: bodyOut };
}

/**
 * A create whose mapping could not be stored is deleted again at its target (DELETE <collection>/<id>, the
 * OpenStack way for every service the proxy fronts), so the client is never told of a resource the proxy cannot
 * find; the 503 says what happened, and names what is left if the delete failed too.
 */
async function undoCreate(
  eng: Engine,
  st: RequestState,
  cred: Credential,
  createUrl: string,
  targetId: string,
  err: MappingNotStoredError,
): Promise<HttpError> {
  const collection = createUrl.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const left: string[] = [];
  for (const it of err.learned) {
    const url = `${collection}/${encodeURIComponent(it.id)}`;
    try {
      const r = await eng.o.agent.request({
        ...originAndPath(url),
        method: 'DELETE',
        headers: { 'x-auth-token': cred.token, accept: 'application/json' },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
        signal: AbortSignal.timeout(15_000),
      });
      await r.body.dump();
      if (r.statusCode >= 300 && r.statusCode !== 404) left.push(it.id);
    } catch {
      left.push(it.id);
    }
  }
  const what = `${err.learned[0]!.type} ${err.learned.map((it) => it.id).join(', ')}`;
  eng.o.logger.warn(
    {
      target: targetId,
      service: st.service,
      resources: err.learned.map((it) => it.id),
      left,
      err: { message: err.message },
    },
    left.length ? 'a create could not be recorded nor undone' : 'a create could not be recorded and was undone',
  );
  const message = left.length
    ? `The ${what} was created at ${targetId}, but the federation proxy could not record it (its database is unavailable) and could not delete it again: ${left.join(', ')} is left at ${targetId}.`
    : `The federation proxy could not record the new ${what} (its database is unavailable) and deleted it again at ${targetId}; nothing was created. Try again.`;
  return new HttpError(errorResponse(st.service, 503, message));
}
