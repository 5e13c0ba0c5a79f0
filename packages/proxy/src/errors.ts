/**
 * Errors the proxy itself produces, in the body shape of the service the client called (what its client
 * library parses): Nova/Cinder `{"itemNotFound": {"code", "message"}}`, Neutron `{"NeutronError": {...}}`,
 * Glance and Swift webob-style text, Keystone `{"error": {...}}` for authentication failures.
 */
import { ErrorCode, encodeFault, type OcxError } from '@ocx/sdk';

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** An error the proxy answers itself, in the fault body of `service` (the SDK's wire module knows the shapes). */
export function errorResponse(service: string | undefined, status: number, message: string): ProxyResponse {
  const fault = encodeFault(service, status, message);
  return { status, headers: { 'content-type': fault.contentType }, body: fault.body };
}

/** Keystone's own 401 (what keystonemiddleware-protected services answer for a bad token). */
export function unauthorized(identityUrl: string): ProxyResponse {
  const fault = errorResponse('identity', 401, 'The request you have made requires authentication.');
  fault.headers['www-authenticate'] = `Keystone uri="${identityUrl.replace(/\/v3$/, '')}"`;
  return fault;
}

/** Status the proxy answers when it could not get an answer from a target. */
export function statusForError(err: OcxError): number {
  switch (err.code) {
    case ErrorCode.TIMEOUT:
      return 504;
    case ErrorCode.UNREACHABLE:
      return 503;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.BAD_REQUEST:
      return 400;
    case ErrorCode.AUTH_EXPIRED:
    case ErrorCode.AUTH_FAILED:
      return 401;
    case ErrorCode.FEDERATION_FAILED:
      return 502;
    default:
      return err.status && err.status >= 400 ? err.status : 502;
  }
}
