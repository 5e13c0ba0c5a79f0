/**
 * Long-lived server streams (WatchServers, CreateServerStream) outlive the one token check the auth interceptor
 * makes at their start. The guard keeps checking: the stream ends with UNAUTHENTICATED when the caller's token
 * expires, or when Keystone stops accepting it (revoked), instead of pushing events to a caller who lost access.
 * A Keystone that cannot be reached does not end the stream (the token was valid; the next check decides).
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorCode, isOcxError, type TokenValidator } from '@ocx/sdk';
import type { Caller } from '../context.ts';

/** setTimeout's largest delay; a later expiry is re-armed by the periodic check. */
const MAX_TIMER_MS = 2_147_483_647;

export interface StreamGuard {
  /** Aborts when the caller goes away or its credentials lapse. */
  readonly signal: AbortSignal;
  /** Throws the UNAUTHENTICATED error if the credentials lapsed (call after the stream's loop ends). */
  check(): void;
  dispose(): void;
}

export function guardStream(
  validator: TokenValidator,
  caller: Caller,
  outer: AbortSignal,
  recheckMs: number,
): StreamGuard {
  const ac = new AbortController();
  let lapsed: ConnectError | undefined;
  const lapse = (message: string) => {
    if (ac.signal.aborted) return;
    lapsed = new ConnectError(message, Code.Unauthenticated);
    ac.abort(lapsed);
  };
  const onOuter = () => ac.abort(outer.reason);
  if (outer.aborted) onOuter();
  else outer.addEventListener('abort', onOuter, { once: true });
  const expiry = setTimeout(
    () => lapse('the bearer token expired'),
    Math.min(Math.max(caller.user.expiresAt - Date.now(), 0), MAX_TIMER_MS),
  );
  let checking = false;
  const recheck = setInterval(() => {
    if (checking || ac.signal.aborted) return;
    checking = true;
    validator
      .validate(caller.token, { signal: ac.signal })
      .then(
        () => undefined,
        (err: unknown) => {
          if (isOcxError(err, ErrorCode.AUTH_FAILED) || isOcxError(err, ErrorCode.AUTH_EXPIRED)) {
            lapse('the bearer token is no longer valid (expired or revoked)');
          }
        },
      )
      .finally(() => {
        checking = false;
      });
  }, recheckMs);
  const dispose = () => {
    clearTimeout(expiry);
    clearInterval(recheck);
    outer.removeEventListener('abort', onOuter);
  };
  ac.signal.addEventListener('abort', dispose, { once: true });
  return {
    signal: ac.signal,
    check() {
      if (lapsed) throw lapsed;
    },
    dispose,
  };
}
