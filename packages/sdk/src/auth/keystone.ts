import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { safeUrl } from '../transport/errors.ts';
import { registerSecret } from '../transport/redact.ts';
import { accessInfoFromTokenBody } from './access-info.ts';
import type { AccessInfo, AuthContext, AuthScope } from './types.ts';

/** The JSON `scope` member for a Keystone v3 auth request (undefined = unscoped). */
export function scopeBody(scope: AuthScope): Record<string, unknown> | undefined {
  switch (scope.kind) {
    case 'project':
      if ('id' in scope) return { project: { id: scope.id } };
      return {
        project: {
          name: scope.name,
          domain: scope.domainId !== undefined ? { id: scope.domainId } : { name: scope.domainName },
        },
      };
    case 'domain':
      return 'id' in scope ? { domain: { id: scope.id } } : { domain: { name: scope.name } };
    case 'system':
      return { system: { [scope.system]: true } };
    default:
      return undefined;
  }
}

/**
 * POST {v3}/auth/tokens and turn the answer into AccessInfo. 401 (and 404 for an unknown token) means the
 * credentials were rejected: AUTH_FAILED. Everything else is OcxError.from's reading of the answer.
 */
export async function issueToken(
  identityUrl: string,
  identity: Record<string, unknown>,
  scope: AuthScope,
  ctx: AuthContext,
  operation: string,
): Promise<AccessInfo> {
  const body: { auth: Record<string, unknown> } = { auth: { identity } };
  const s = scopeBody(scope);
  if (s) body.auth.scope = s;
  const url = `${identityUrl}/auth/tokens`;
  const errCtx = { cloud: ctx.cloud, region: ctx.region, service: 'identity', method: 'POST', url: safeUrl(url) };
  const res = await ctx.transport.request({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    // Issuing a token has no side effect a repeat would duplicate: retry it on connection failures.
    idempotent: true,
    signal: ctx.signal,
    deadline: ctx.deadline,
    timeoutMs: ctx.timeoutMs,
    context: { cloud: ctx.cloud, region: ctx.region, service: 'identity', operation },
  });
  if (res.status < 200 || res.status >= 300) {
    const text = await res.text().catch(() => '');
    const err = OcxError.from({ status: res.status, body: text, requestId: res.requestId }, errCtx);
    if (res.status === 401 || (res.status === 404 && /token/i.test(err.message))) {
      throw new OcxError(ErrorCode.AUTH_FAILED, `Keystone rejected the credentials: ${err.message}`, err.context(), {
        cause: err,
      });
    }
    throw err;
  }
  const token = res.headers.get('x-subject-token');
  const json = await res.json();
  if (!token) {
    throw new OcxError(ErrorCode.INVALID_RESPONSE, 'Keystone answered without an X-Subject-Token header', {
      ...errCtx,
      status: res.status,
      requestId: res.requestId,
    });
  }
  registerSecret(token);
  return accessInfoFromTokenBody(json, token, identityUrl);
}
