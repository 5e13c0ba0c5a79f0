/** Cinder's fault bodies: `{"<kind>": {"code": N, "message": "..."}}`. */

const KINDS: Record<number, string> = {
  400: 'badRequest',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'computeFault',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  500: 'computeFault',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export class CinderError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const notFound = (message = 'The resource could not be found.') => new CinderError(404, message);
export const badRequest = (message: string) => new CinderError(400, message);
export const forbidden = (action: string) => new CinderError(403, `Policy doesn't allow ${action} to be performed.`);
export const overLimit = (message: string) => new CinderError(413, message);

export function faultBody(status: number, message: string): Record<string, unknown> {
  const kind = KINDS[status] ?? (status >= 500 ? 'computeFault' : 'badRequest');
  const inner: Record<string, unknown> = { code: status, message };
  if (status === 413) inner.retryAfter = '0';
  return { [kind]: inner };
}
