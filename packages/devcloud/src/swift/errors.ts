/** Swift's error responses: short HTML bodies with Swift's own wording, text/html; charset=UTF-8. */

const DEFAULTS: Record<number, [string, string]> = {
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
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
};

export class SwiftError extends Error {
  readonly status: number;
  /** Exact body, when Swift sends a plain explanation instead of its HTML page. */
  readonly body: string | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, body?: string, headers: Record<string, string> = {}) {
    super(body ?? DEFAULTS[status]?.[1] ?? 'Error');
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export function swiftErrorBody(status: number, body?: string): string {
  if (body !== undefined) return body;
  const [title, text] = DEFAULTS[status] ?? ['Error', 'Error'];
  return `<html><h1>${title}</h1><p>${text}</p></html>`;
}
