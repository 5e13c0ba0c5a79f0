/**
 * `authorization: Bearer <Keystone token>` on every call of the authenticated services, validated against the
 * home Keystone (TokenValidator, cached briefly, never past expiry). No token ever appears in an error.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import type { TokenValidator } from '@ocx/sdk';
import { ErrorCode, isOcxError } from '@ocx/sdk';
import { callerKey } from '../context.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function authInterceptor(validator: TokenValidator, protectedServices: ReadonlySet<string>): Interceptor {
  return (next) => async (req) => {
    if (!protectedServices.has(req.service.typeName)) return next(req);
    const header = req.header.get('authorization') ?? '';
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw new ConnectError('authorization: Bearer <Keystone token> is required', Code.Unauthenticated);
    }
    try {
      const user = await validator.validate(token, { signal: req.signal });
      req.contextValues.set(callerKey, { token, user });
    } catch (err) {
      if (isOcxError(err, ErrorCode.AUTH_FAILED) || isOcxError(err, ErrorCode.AUTH_EXPIRED)) {
        throw new ConnectError('the bearer token is not valid (expired, revoked or unknown)', Code.Unauthenticated);
      }
      const code = isOcxError(err, ErrorCode.TIMEOUT) ? Code.DeadlineExceeded : Code.Unavailable;
      throw new ConnectError('the home Keystone could not validate the token', code);
    }
    return next(req);
  };
}
