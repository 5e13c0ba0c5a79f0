/** Token injection between peer proxies: sending mappings to a peer, and accepting them only from a configured peer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, OcxError, safeUrl } from '@ocx/sdk';
import { request } from 'undici';
import type { Engine } from '../engine.ts';
import { errorResponse, unauthorized } from '../errors.ts';
import { singularKey } from '../paths.ts';
import type { RemoteCredential } from '../token-mappings.ts';
import { HttpError, type RequestState } from './context.ts';
import { header, readLimited } from './http-util.ts';

/**
 * Token injection (the design's use case): give the proxy in front of `toTarget`'s services a token mapping
 * (the user's token at `toTarget` → the user's credential at `fromTarget`) and resource mappings, so that a
 * service in `toTarget` (Nova) calling another service through its proxy (Cinder) reaches `fromTarget`.
 */
export async function inject(
  eng: Engine,
  st: RequestState,
  toTarget: string,
  fromTarget: string,
  resources: Array<{ type: string; id: string }>,
): Promise<void> {
  const deadline = Date.now() + eng.o.upstreamTimeoutMs;
  const peer = eng.o.peerProxyFor ? await eng.o.peerProxyFor(st, toTarget) : undefined;
  if (!peer) {
    throw new HttpError(
      errorResponse(
        st.service,
        409,
        `${resources.map((r) => `${singularKey(r.type)} ${r.id}`).join(', ')} lives in ${fromTarget}, and ${toTarget} has no federation proxy in front of its services to reach it`,
      ),
    );
  }
  const to = await eng.credential(st, toTarget, deadline);
  const from = await eng.credential(st, fromTarget, deadline);
  const expires = Date.now() + 3_600_000;
  const body = {
    token_mapping: {
      target_id: `via:${eng.o.proxyId}:${fromTarget}`,
      remote_token: from.token,
      remote_project_id: from.projectId,
      endpoints: from.endpoints,
      expires_at: new Date(Math.min(expires, st.user.expiresAt.getTime())).toISOString(),
    },
    resource_mappings: resources,
  };
  // Two tokens of the target's Keystone: ours as a peer (X-Auth-Token), the user's the mapping is for (subject).
  const peerToken = eng.o.peerToken ? await eng.o.peerToken(toTarget) : undefined;
  if (!peerToken) {
    throw new HttpError(
      errorResponse(
        st.service,
        409,
        `${resources.map((r) => `${singularKey(r.type)} ${r.id}`).join(', ')} lives in ${fromTarget}, and this proxy has no peer account at ${toTarget} to hand ${toTarget}'s proxy the mapping (--peer-account ${toTarget}=CLOUD)`,
      ),
    );
  }
  const r = await request(`${peer}/ocx-proxy/v1/injections`, {
    dispatcher: eng.o.agent,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': peerToken, 'x-subject-token': to.token },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(eng.o.upstreamTimeoutMs),
    headersTimeout: eng.o.upstreamTimeoutMs,
    bodyTimeout: eng.o.upstreamTimeoutMs,
  }).catch((err: unknown) => {
    throw OcxError.from(err, { method: `token injection into ${toTarget}'s proxy`, url: safeUrl(peer) });
  });
  await r.body.dump();
  if (r.statusCode !== 204 && r.statusCode !== 200) {
    throw new OcxError(
      ErrorCode.FEDERATION_FAILED,
      `${toTarget}'s proxy refused the injected mappings (${r.statusCode})`,
      {
        cloud: toTarget,
        status: r.statusCode,
      },
    );
  }
}
/**
 * Receive an injection from a peer proxy. X-Auth-Token must be a token of a configured peer account (a user of
 * our home Keystone holding the peer role); X-Subject-Token is the user's token the mapping is for. An ordinary
 * user's token gets 403: otherwise anyone could make ids route elsewhere.
 */
export async function acceptInjection(eng: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const callerToken = header(req, 'x-auth-token');
  if (!callerToken) return eng.send(res, unauthorized(eng.o.keystone.identityUrl));
  const signal = AbortSignal.timeout(eng.o.upstreamTimeoutMs);
  const caller = await eng.validate(callerToken, eng.o.tokens.hash(callerToken), signal);
  if (!caller) return eng.send(res, unauthorized(eng.o.keystone.identityUrl));
  const peers = eng.o.peers;
  const isPeer =
    !!peers &&
    (peers.users.includes(caller.userId) || peers.users.includes(caller.userName)) &&
    caller.roles.includes(peers.role);
  if (!isPeer) {
    eng.o.logger.warn({ user: caller.userId }, 'refused an injection from a caller that is not a peer proxy');
    return eng.send(
      res,
      errorResponse(undefined, 403, 'only a peer federation proxy may inject mappings into this proxy'),
    );
  }
  const token = header(req, 'x-subject-token');
  if (!token) return eng.send(res, errorResponse(undefined, 400, 'X-Subject-Token (the user token) is missing'));
  const user = await eng.validate(token, eng.o.tokens.hash(token), signal);
  if (!user) return eng.send(res, errorResponse(undefined, 404, 'the subject token is not valid here'));
  const raw = await readLimited(req, eng.o.maxJsonBodyBytes, undefined);
  let body: {
    token_mapping?: {
      target_id?: string;
      remote_token?: string;
      remote_project_id?: string;
      endpoints?: Record<string, string>;
      expires_at?: string;
    };
    resource_mappings?: Array<{ type?: string; id?: string }>;
  };
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return eng.send(res, errorResponse(undefined, 400, 'injection body is not JSON'));
  }
  const tm = body.token_mapping;
  if (!tm?.target_id?.startsWith('via:') || !tm.remote_token || !tm.remote_project_id || !tm.endpoints) {
    return eng.send(
      res,
      errorResponse(
        undefined,
        400,
        'token_mapping needs target_id (via:…), remote_token, remote_project_id, endpoints',
      ),
    );
  }
  const expiresAt = Math.min(Date.parse(tm.expires_at ?? '') || Date.now() + 3_600_000, user.expiresAt.getTime());
  const cred: RemoteCredential = {
    targetId: tm.target_id,
    token: tm.remote_token,
    projectId: tm.remote_project_id,
    localProjectId: user.projectId ?? '',
    endpoints: tm.endpoints,
    expiresAt,
  };
  await eng.o.tokens.inject(token, cred);
  const learned = (body.resource_mappings ?? [])
    .filter((r): r is { type: string; id: string } => typeof r.type === 'string' && typeof r.id === 'string')
    .map((r) => ({ type: r.type, id: r.id, targetId: tm.target_id!, projectId: user.projectId ?? '' }));
  await eng.o.resources.record(learned);
  eng.o.logger.info({ target: tm.target_id, resources: learned.length }, 'accepted injected mappings');
  res.writeHead(204);
  res.end();
}
