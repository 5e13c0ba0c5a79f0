/**
 * OpenStack fault bodies, decoded and encoded per service, in the shapes each service's own client library parses:
 * - Nova and Cinder: `{"itemNotFound": {"code": 404, "message": "..."}}` (the key names the fault kind);
 * - Neutron: `{"NeutronError": {"type": "HTTPNotFound", "message": "...", "detail": ""}}`;
 * - Keystone: `{"error": {"code": 401, "title": "Unauthorized", "message": "..."}}`;
 * - Glance and Swift: webob's plain text (`404 Not Found\n\n<message>\n\n   `) or an HTML page;
 * - Synnefo and others: a `cloudFault`-style object, or `{"message"|"error"|"detail": "..."}`.
 */

/**
 * Reason phrases as webob (and so every OpenStack WSGI service) writes them in fault titles and text bodies (webob's
 * exception titles; 508 is the proxy's own). devcloud keeps a copy of these tables (packages/devcloud/src/
 * fault-bodies.ts: it must not import the SDK); packages/sdk/test/wire-devcloud-faults.test.ts keeps them agreeing.
 */
const REASONS: Readonly<Record<number, string>> = {
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
  508: 'Loop Detected',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** Nova/Cinder fault names by status (the key of the fault object): Nova's `Fault._fault_names`; else computeFault. */
export const NOVA_FAULT_NAMES: Readonly<Record<number, string>> = {
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

/** Neutron's `NeutronError.type` by status (webob exception class names). */
export const NEUTRON_FAULT_TYPES: Readonly<Record<number, string>> = {
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
  508: 'HTTPLoopDetected',
};

/** Which body shape a service speaks. Unknown services (and the proxy's own answers) speak Keystone's. */
export type FaultDialect = 'nova' | 'neutron' | 'keystone' | 'text';

export function faultDialect(service: string | undefined): FaultDialect {
  switch (service) {
    case 'compute':
    case 'block-storage':
      return 'nova';
    case 'network':
      return 'neutron';
    case 'image':
    case 'object-store':
      return 'text';
    default:
      return 'keystone';
  }
}

/** A fault as it goes on the wire. */
export interface EncodedFault {
  status: number;
  contentType: string;
  body: string;
}

/** Build the fault body `service` would send for `status` with `message`. */
export function encodeFault(service: string | undefined, status: number, message: string): EncodedFault {
  const json = (v: unknown): EncodedFault => ({ status, contentType: 'application/json', body: JSON.stringify(v) });
  switch (faultDialect(service)) {
    case 'nova':
      return json({ [NOVA_FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } });
    case 'neutron':
      return json({ NeutronError: { type: NEUTRON_FAULT_TYPES[status] ?? 'HTTPError', message, detail: '' } });
    case 'text':
      return {
        status,
        contentType: 'text/plain; charset=UTF-8',
        body: `${status} ${reasonPhrase(status)}\n\n${message}\n\n   `,
      };
    default:
      return json({ error: { code: status, title: reasonPhrase(status), message } });
  }
}

/** What a fault body says: the human message, and the kind when the shape names one (itemNotFound, HTTPNotFound). */
export interface DecodedFault {
  message: string | undefined;
  kind?: string | undefined;
}

/**
 * Read any OpenStack fault body: the JSON shapes above (whatever the service, since proxies and old releases mix
 * them up), else text or HTML with the tags stripped (at most 500 characters).
 */
export function decodeFault(body: string | undefined): DecodedFault {
  if (!body) return { message: undefined };
  const text = body.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON after all: read it as text
    }
    if (parsed !== undefined) return fromJson(parsed) ?? { message: undefined };
  }
  const stripped = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { message: stripped ? stripped.slice(0, 500) : undefined };
}

function fromJson(value: unknown): DecodedFault | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const obj = value as Record<string, unknown>;
  if (typeof obj.message === 'string') return { message: obj.message };
  if (typeof obj.error === 'string') return { message: obj.error };
  if (typeof obj.detail === 'string') return { message: obj.detail };
  for (const [key, inner] of Object.entries(obj)) {
    if (typeof inner !== 'object' || inner === null) continue;
    const o = inner as Record<string, unknown>;
    if (typeof o.message !== 'string') continue;
    const kind = key === 'NeutronError' && typeof o.type === 'string' ? o.type : key === 'error' ? o.title : key;
    return { message: o.message, kind: typeof kind === 'string' ? kind : undefined };
  }
  return undefined;
}

/** The message of a fault body (decodeFault's `message`). */
export function parseFaultMessage(body: string | undefined): string | undefined {
  return decodeFault(body).message;
}
