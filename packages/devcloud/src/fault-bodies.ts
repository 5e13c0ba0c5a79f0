/**
 * The fault body of each service, byte for byte as the real service sends it: one renderer per wire shape, used
 * by the services' error handlers and by fault injection (faults.ts).
 *
 * The tables below (reason phrases, Nova's fault names, Neutron's types) are a deliberate copy of the SDK's
 * (packages/sdk/src/wire/faults.ts): devcloud is the independent check on the SDK and must not import it.
 * packages/sdk/test/wire-devcloud-faults.test.ts renders each fault here and reads it with the SDK's decoder,
 * which keeps the two copies in agreement.
 */
import type { ApiFault } from './fault.ts';

/** webob's reason phrases (Keystone, Glance and the Nova/Cinder/Neutron WSGI stacks all answer through webob). */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Request Range Not Satisfiable',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reason(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** Nova's and Cinder's fault names (nova/api/openstack/wsgi.py `Fault._fault_names`); else computeFault. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Nova: `{"itemNotFound": {"code": 404, "message": ...}}`. */
export function novaFaultBody(status: number, message: string): Record<string, unknown> {
  return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } };
}

/** Cinder: Nova's shape, plus `retryAfter` on 413 (its over-quota answer). */
export function cinderFaultBody(status: number, message: string): Record<string, unknown> {
  const inner: Record<string, unknown> = { code: status, message };
  if (status === 413) inner.retryAfter = '0';
  return { [FAULT_NAMES[status] ?? 'computeFault']: inner };
}

/** Neutron's `type` for a fault that names none: webob's exception class name. */
const NEUTRON_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  429: 'HTTPTooManyRequests',
  500: 'HTTPInternalServerError',
  502: 'HTTPBadGateway',
  503: 'HTTPServiceUnavailable',
  504: 'HTTPGatewayTimeout',
};

/** Neutron: `{"NeutronError": {"type", "message", "detail"}}`. */
export function neutronFaultBody(fault: ApiFault): Record<string, unknown> {
  const type = fault.type ?? NEUTRON_TYPES[fault.status] ?? 'HTTPInternalServerError';
  return { NeutronError: { type, message: fault.message, detail: fault.detail } };
}

/** Keystone: `{"error": {"code", "message", "title"}}`. */
export function keystoneFaultBody(
  status: number,
  message: string,
): { error: { code: number; message: string; title: string } } {
  return { error: { code: status, message, title: reason(status) } };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

export interface RenderedFault {
  contentType: string;
  body: string;
}

/** Glance: webob's HTML page, or its JSON form when the client accepts JSON. */
export function glanceFaultBody(status: number, message: string, acceptsJson: boolean): RenderedFault {
  const title = reason(status);
  if (acceptsJson) {
    return {
      contentType: 'application/json',
      body: JSON.stringify({ message: `${message}<br /><br />\n\n\n`, code: `${status} ${title}`, title }),
    };
  }
  return {
    contentType: 'text/html; charset=UTF-8',
    body: `<html>\n <head>\n  <title>${status} ${title}</title>\n </head>\n <body>\n  <h1>${status} ${title}</h1>\n  ${escapeHtml(message)}<br /><br />\n\n\n\n </body>\n</html>`,
  };
}

/** webob's plain-text page (what a WSGI service sends for an error no API layer shaped). */
export function plainFaultBody(status: number, message: string): RenderedFault {
  return { contentType: 'text/plain; charset=UTF-8', body: `${status} ${reason(status)}\n\n${message}\n\n   ` };
}

/** swob's titles and default explanations. */
const SWIFT_PAGES: Record<number, [string, string]> = {
  400: [
    'Bad Request',
    'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  ],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Length Required'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  429: ['Too Many Requests', 'The client has sent too many requests.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  502: ['Bad Gateway', 'Bad gateway.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
  504: ['Gateway Timeout', 'A timeout has occurred speaking to a backend server.'],
};

/** Swift's page for a status (swob's `<html><h1>Title</h1><p>explanation</p></html>`). */
export function swiftFaultPage(status: number, explanation?: string): string {
  const [title, text] = SWIFT_PAGES[status] ?? ['Error', 'Error'];
  return `<html><h1>${title}</h1><p>${explanation ?? text}</p></html>`;
}

/** Swift: the fault's message is the exact body Swift sends ('' = swob's default page). */
export function swiftFaultBody(fault: ApiFault): string {
  return fault.message === '' ? swiftFaultPage(fault.status) : fault.message;
}
