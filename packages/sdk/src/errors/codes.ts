/**
 * Stable error codes. A code never changes meaning once released; callers switch on `err.code`.
 * The comment says what a user should conclude.
 */
export const ErrorCode = {
  /** Credentials were rejected (bad password, unknown user, disabled account). Re-auth will not help. */
  AUTH_FAILED: 'AUTH_FAILED',
  /** A token was valid once but is no longer (expired or revoked) and one re-authentication did not fix it. */
  AUTH_EXPIRED: 'AUTH_EXPIRED',
  /** Authenticated, but policy forbids this action (HTTP 403 that is not a quota error). */
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  /** The resource is in a state that forbids the action, or a name/id conflict (HTTP 409). */
  CONFLICT: 'CONFLICT',
  /** The request was malformed or invalid (HTTP 400, 405, 406, 415, 422). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** A quota or rate limit was hit (HTTP 413, 429, or 403 with a quota message). */
  OVER_QUOTA: 'OVER_QUOTA',
  /** The service answered with a server-side error (HTTP 5xx). The cloud is up but broken. */
  SERVICE_ERROR: 'SERVICE_ERROR',
  /** The cloud could not be reached: connection refused, DNS failure, TLS failure, socket reset. */
  UNREACHABLE: 'UNREACHABLE',
  /** The cloud was reachable but too slow: the deadline passed before it answered. */
  TIMEOUT: 'TIMEOUT',
  /** The caller cancelled the operation (AbortSignal). */
  CANCELLED: 'CANCELLED',
  /** clouds.yaml / secure.yaml / environment configuration is invalid or incomplete. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** No endpoint in the catalog matches the requested service type, interface and region. */
  ENDPOINT_NOT_FOUND: 'ENDPOINT_NOT_FOUND',
  /** Keystone-to-Keystone federation failed at a named step (assertion, SP exchange, rescope). */
  FEDERATION_FAILED: 'FEDERATION_FAILED',
  /** A lookup by name matched more than one resource. */
  AMBIGUOUS: 'AMBIGUOUS',
  /** A resource reached an error state while we waited for it (e.g. server ERROR with a fault). */
  RESOURCE_FAILED: 'RESOURCE_FAILED',
  /** The server answered something the client cannot interpret (bad JSON, missing header). */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
  /** The cloud's API offers no way to do this (e.g. moving a Nova server to another project); the message says what to do instead. */
  UNSUPPORTED: 'UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
