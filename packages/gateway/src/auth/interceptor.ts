/**
 * `authorization: Bearer <Keystone token>` on every call of the authenticated services, validated against the
 * home Keystone (TokenValidator, cached briefly, never past expiry). No token ever appears in an error.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import type { TokenValidator } from '@ocx/sdk';
import { ErrorCode, isOcxError } from '@ocx/sdk';
import { callerKey } from '../context.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/**
 * What a Keystone token can look like (Fernet: ~180–250 URL-safe base64 characters, JWS a few hundred; Keystone's
 * own max_token_size is 255 by default). Anything else is refused here, UNAUTHENTICATED, instead of being sent to
 * Keystone: a 20 kB "token" made Keystone's front refuse the header, which read as Keystone being down (UNAVAILABLE).
 */
const MAX_TOKEN_CHARS = 8_192;
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export function authInterceptor(validator: TokenValidator, protectedServices: ReadonlySet<string>): Interceptor {
  return (next) => async (req) => {
    if (!protectedServices.has(req.service.typeName)) return next(req);
    const header = req.header.get('authorization') ?? '';
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw new ConnectError('authorization: Bearer <Keystone token> is required', Code.Unauthenticated);
    }
    if (token.length > MAX_TOKEN_CHARS || !TOKEN_CHARS.test(token)) {
      throw new ConnectError('the bearer token is not valid (expired, revoked or unknown)', Code.Unauthenticated);
    }
    try {
      const user = await validator.validate(token, { signal: req.signal });
      req.contextValues.set(callerKey, { token, user });
    } catch (err) {
      if (isOcxError(err, ErrorCode.AUTH_FAILED) || isOcxError(err, ErrorCode.AUTH_EXPIRED)) {
        throw new ConnectError('the bearer token is not valid (expired, revoked or unknown)', Code.Unauthenticated);
      }
      // The caller's own deadline (or cancel) ended the check: that, not Keystone, is the answer (a 1 µs
      // grpc-timeout read as "Keystone is down" in the bad-input fuzz).
      if (req.signal.aborted) {
        const cancelled = ConnectError.from(req.signal.reason).code === Code.Canceled;
        throw new ConnectError(
          cancelled
            ? 'the call was cancelled while the home Keystone validated the token'
            : "the home Keystone could not validate the token before the call's deadline",
          cancelled ? Code.Canceled : Code.DeadlineExceeded,
        );
      }
      const code = isOcxError(err, ErrorCode.TIMEOUT) ? Code.DeadlineExceeded : Code.Unavailable;
      throw new ConnectError('the home Keystone could not validate the token', code);
    }
    return next(req);
  };
}
