/** The per-request context every stage of the engine reads and fills, and the types around it. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ProxyResponse } from '../errors.ts';
import type { ValidatedToken } from '../keystone.ts';
import type { ParsedPath } from '../paths.ts';

export interface Credential {
  targetId: string;
  kind: 'home' | 'sp' | 'via';
  token: string;
  projectId: string | undefined;
  localProjectId: string | undefined;
  endpoints: Record<string, string>;
}

/** What the engine reads of a request's head (a node:http request). */
export interface RequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/** Everything known about one request while it is handled. */
export interface RequestState {
  req: RequestLike;
  /** The request as a body stream (node:http requests only; the fast path never has a body). */
  upload: IncomingMessage | undefined;
  started: number;
  service: string;
  method: string;
  parsed: ParsedPath;
  query: URLSearchParams;
  token: string;
  hash: string;
  user: ValidatedToken;
  proxyList: string[];
  explicitTarget: string | undefined;
  explicitProject: string | undefined;
  publicOrigin: string;
  /** Buffered request body (JSON), when the request had one. */
  body: Buffer | undefined;
  json: unknown;
  bodyChanged: boolean;
  extraHeaders: Record<string, string>;
  creds: Map<string, Promise<Credential>>;
  signal: AbortSignal;
  /** The answer's route went to the native lane. */
  offered?: boolean;
}

export interface ValidationEntry {
  user: ValidatedToken | undefined;
  until: number;
}

/** An answer decided deep in a stage, thrown to the entry point, which sends it. */
export class HttpError extends Error {
  readonly response: ProxyResponse;
  constructor(response: ProxyResponse) {
    super(`HTTP ${response.status}`);
    this.response = response;
  }
}
