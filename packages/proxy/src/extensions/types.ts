/**
 * The extension API. An extension registers for method + path patterns (per service) and may:
 * - rewrite the request (query, headers, JSON body) and choose its targets (`onRequest`),
 * - answer by itself, e.g. after fanning out to several targets and merging (`onRequest` returning a response),
 * - rewrite the response of a forwarded call (`onResponse`).
 * Paths are matched against '/' + the segments after version and project: '/servers/abc/action'.
 */
import type { OcxError } from '@ocx/sdk';
import type { ValidatedToken } from '../keystone.ts';
import type { ParsedPath } from '../paths.ts';

export interface UpstreamResult {
  targetId: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when empty or not JSON). Links already rewritten to the proxy. */
  json: unknown;
  text: string;
}

export interface CallSpec {
  method: string;
  /** Path after version and project, e.g. '/volumes' or '/volumes/<id>'. */
  path: string;
  /** Service to call (default: the request's service). */
  service?: string | undefined;
  query?: URLSearchParams | undefined;
  json?: unknown;
  headers?: Record<string, string> | undefined;
}

export type FanoutResult =
  | { targetId: string; ok: true; result: UpstreamResult }
  | { targetId: string; ok: false; error: OcxError };

export interface ExtensionResponse {
  status: number;
  headers?: Record<string, string> | undefined;
  json?: unknown;
  body?: string | Buffer | undefined;
}

export interface ExtensionContext {
  readonly service: string;
  readonly method: string;
  readonly path: ParsedPath;
  readonly user: ValidatedToken;
  /** The home cloud's target id. */
  readonly homeId: string;
  /** Targets this request may use: home + the user's service providers, minus those already on MM-PROXY-LIST. */
  readonly availableTargets: string[];
  /** MM-SERVICE-PROVIDER, resolved to a target id. */
  readonly explicitTarget: string | undefined;
  /** True when another proxy sent this request (it carries MM-PROXY-LIST). */
  readonly fromPeer: boolean;
  /** The proxy's public root for this service (links in answers point here). */
  readonly publicRoot: string;
  query: URLSearchParams;
  /** Parsed JSON request body; assign to change what is sent. */
  json: unknown;
  /** Extra headers for the upstream call. */
  headers: Record<string, string>;
  /** Choose where the request goes (one target). Undefined = the proxy's default routing. */
  target: string | undefined;
  /** Where a resource lives (mapping, else flooding). Undefined when no target has it. */
  locate(type: string, id: string): Promise<string | undefined>;
  /** A buffered call to one target with the user's credential there (deadline applies). */
  call(targetId: string, spec: CallSpec): Promise<UpstreamResult>;
  /** Parallel calls with one deadline; failures come back as results, never thrown. */
  fanout(targetIds: string[], spec: (targetId: string) => CallSpec, deadlineMs?: number): Promise<FanoutResult[]>;
  /** Record where resources live. */
  learn(items: Array<{ type: string; id: string; targetId: string }>): Promise<void>;
  /**
   * Make resources of `fromTarget` reachable from `toTarget`'s services: hand the federation proxy in front of
   * `toTarget` a token mapping (the user's token there → `fromTarget`) and resource mappings.
   */
  inject(toTarget: string, fromTarget: string, resources: Array<{ type: string; id: string }>): Promise<void>;
}

export interface RouteSpec {
  method: string;
  service: string;
  path: RegExp;
}

export interface Extension {
  readonly name: string;
  readonly routes: RouteSpec[];
  /**
   * onRequest decides only from the request itself (method, target, headers, the token's user): when it declined
   * and changed nothing, the same request is declined again, so its pass-through answer may go to the native lane.
   */
  readonly pure?: boolean;
  onRequest?(ctx: ExtensionContext): Promise<ExtensionResponse | undefined>;
  /** Called with the (single) forwarded answer; mutate `res` to change what the client gets. */
  onResponse?(ctx: ExtensionContext, res: ExtensionResponse & { targetId: string }): Promise<void>;
}

export function matches(ext: Extension, service: string, method: string, path: string): boolean {
  return ext.routes.some(
    (r) =>
      (r.method === '*' || r.method === method) && (r.service === '*' || r.service === service) && r.path.test(path),
  );
}
