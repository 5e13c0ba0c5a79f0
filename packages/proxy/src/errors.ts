/**
 * Errors the proxy itself produces, in the body shape of the service the client called (what its client
 * library parses): Nova/Cinder `{"itemNotFound": {"code", "message"}}`, Neutron `{"NeutronError": {...}}`,
 * Glance and Swift webob-style text, Keystone `{"error": {...}}` for authentication failures.
 */
import { ErrorCode, type OcxError } from '@ocx/sdk';
import { reason } from './front/wire.ts';

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Nova/Cinder fault names by status. */
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  500: 'computeFault',
  501: 'notImplemented',
  502: 'computeFault',
  503: 'serviceUnavailable',
  504: 'computeFault',
  508: 'badRequest',
};

const NEUTRON_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  500: 'HTTPInternalServerError',
  502: 'HTTPBadGateway',
  503: 'HTTPServiceUnavailable',
  504: 'HTTPGatewayTimeout',
  508: 'HTTPLoopDetected',
};

export function errorResponse(service: string | undefined, status: number, message: string): ProxyResponse {
  const title = reason(status);
  const json = (v: unknown): ProxyResponse => ({
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(v),
  });
  switch (service) {
    case 'compute':
    case 'block-storage':
      return json({ [NOVA_FAULTS[status] ?? 'computeFault']: { code: status, message } });
    case 'network':
      return json({ NeutronError: { type: NEUTRON_TYPES[status] ?? 'HTTPError', message, detail: '' } });
    case 'image':
    case 'object-store':
      return {
        status,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
        body: `${status} ${title}\n\n${message}\n\n   `,
      };
    default:
      return json({ error: { code: status, title, message } });
  }
}

/** Keystone's own 401 (what keystonemiddleware-protected services answer for a bad token). */
export function unauthorized(identityUrl: string): ProxyResponse {
  return {
    status: 401,
    headers: {
      'content-type': 'application/json',
      'www-authenticate': `Keystone uri="${identityUrl.replace(/\/v3$/, '')}"`,
    },
    body: JSON.stringify({
      error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
    }),
  };
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
