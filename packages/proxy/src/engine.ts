/**
 * The request engine: one request runs through a pipeline of stages over one context (engine/pipeline.ts) —
 * admit, version documents, authenticate, extensions, route (header → extension rule → resource mapping →
 * flooding → home), credentials, forward (streamed, links rewritten, learned, published to the native lane) —
 * each stage in its own file under engine/. The Engine holds what the stages share (options, the validation cache,
 * the access log), answers errors in the service's own body shape, and exposes the stages' functions to each
 * other and to extensions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OcxError } from '@ocx/sdk';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import type { Breakers } from './breaker.ts';
import { isDatabaseUnavailable } from './db/errors.ts';
import * as authenticateStage from './engine/authenticate.ts';
import { HttpError, type RequestState, type ValidationEntry } from './engine/context.ts';
import * as credentialsStage from './engine/credentials.ts';
import * as extensionContextStage from './engine/extension-context.ts';
import * as forwardStage from './engine/forward.ts';
import { header, requestTarget } from './engine/http-util.ts';
import * as injectStage from './engine/inject.ts';
import * as learnStage from './engine/learn.ts';
import { type Call, runStages, type Stage } from './engine/pipeline.ts';
import * as publishStage from './engine/publish.ts';
import * as routeStage from './engine/route.ts';
import * as upstreamStage from './engine/upstream.ts';
import * as versionDocsStage from './engine/version-docs.ts';
import { errorResponse, type ProxyResponse, statusForError } from './errors.ts';
import type { Extension } from './extensions/types.ts';
import { ROUTE_KEY_REQUEST } from './header-policy.ts';
import type { HomeKeystone } from './keystone.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { RouteLane } from './native/lane.ts';
import type { ResourceMappings } from './resource-mappings.ts';
import type { SpRoots } from './sp-roots.ts';
import type { TokenMappings } from './token-mappings.ts';

export type { Credential, RequestLike, RequestState } from './engine/context.ts';
export { header } from './engine/http-util.ts';

export interface EngineOptions {
  /** This proxy's id on MM-PROXY-LIST (shared by replicas of one deployment). */
  proxyId: string;
  homeId: string;
  keystone: HomeKeystone;
  tokens: TokenMappings;
  resources: ResourceMappings;
  /** Service providers' service roots (version documents of services the home cloud lacks). */
  spRoots: SpRoots;
  breakers: Breakers;
  metrics: ProxyMetrics;
  logger: Logger;
  agent: Agent;
  extensions: Extension[];
  /** Fallback public origin (http://127.0.0.1:9913) when the request has no Host. */
  listenOrigin: string;
  upstreamTimeoutMs: number;
  /** Idle timeout of a streamed body (no byte for this long ends it). */
  bodyIdleTimeoutMs: number;
  fanoutTimeoutMs: number;
  floodTimeoutMs: number;
  validationCacheMs: number;
  maxJsonBodyBytes: number;
  maxRewriteBytes: number;
  /** How long a create's mapping write is retried while the database is away (default 10 s). */
  mappingWriteRetryMs?: number | undefined;
  /** The native lane in front (nginx): routes to offer it; the client's address comes as X-OCX-Peer. */
  lane?: RouteLane | undefined;
  /** Peer proxy discovery for token injection: target → proxy root, if any. */
  peerProxyFor?: (ctx: RequestState, targetId: string) => Promise<string | undefined>;
  /**
   * Who may inject mappings here: users of the home Keystone (names or ids) that hold `role`. Nobody when empty:
   * a user token alone never proves it comes from a peer proxy.
   */
  peers?: { users: string[]; role: string } | undefined;
  /** This proxy's own token at `targetId`'s Keystone, to prove to the proxy there that it is a peer. */
  peerToken?: ((targetId: string) => Promise<string | undefined>) | undefined;
}

/** A stage function's signature without its leading engine argument. */
type Rest<F> = F extends (eng: Engine, ...a: infer A) => infer R ? (...a: A) => R : never;

/** The stages every request goes through, in order (each may answer and stop). */
const PIPELINE: readonly Stage[] = [
  authenticateStage.admit,
  versionDocsStage.versionDocuments,
  authenticateStage.authenticate,
  routeStage.extensions,
  routeStage.route,
  credentialsStage.credentials,
  forwardStage.forwardStage,
];

export class Engine {
  readonly o: EngineOptions;
  readonly validations = new Map<string, ValidationEntry>();

  /**
   * The access log: fixed fields (method, path without query, service, status, ms) that never hold a secret, so
   * pino's structural redaction (~13 µs a line) is skipped; the logger's last-line scrub of known secrets stays.
   */
  readonly access: Logger;

  // The stages (src/engine/*.ts) as methods, so stages and extensions reach each other through the engine.
  readonly refuseBeforeBody: Rest<typeof authenticateStage.refuseBeforeBody> = (...a) =>
    authenticateStage.refuseBeforeBody(this, ...a);
  readonly requestState: Rest<typeof authenticateStage.requestState> = (...a) =>
    authenticateStage.requestState(this, ...a);
  readonly resolveTargetName: Rest<typeof authenticateStage.resolveTargetName> = (...a) =>
    authenticateStage.resolveTargetName(this, ...a);
  readonly validate: Rest<typeof authenticateStage.validate> = (...a) => authenticateStage.validate(this, ...a);
  readonly availableTargets: Rest<typeof routeStage.availableTargets> = (...a) =>
    routeStage.availableTargets(this, ...a);
  readonly chooseTarget: Rest<typeof routeStage.chooseTarget> = (...a) => routeStage.chooseTarget(this, ...a);
  readonly flood: Rest<typeof routeStage.flood> = (...a) => routeStage.flood(this, ...a);
  readonly circuitOpen: Rest<typeof credentialsStage.circuitOpen> = (...a) => credentialsStage.circuitOpen(this, ...a);
  readonly credential: Rest<typeof credentialsStage.credential> = (...a) => credentialsStage.credential(this, ...a);
  readonly makeCredential: Rest<typeof credentialsStage.makeCredential> = (...a) =>
    credentialsStage.makeCredential(this, ...a);
  readonly spRef: Rest<typeof credentialsStage.spRef> = (...a) => credentialsStage.spRef(this, ...a);
  readonly upstreamUrl: Rest<typeof credentialsStage.upstreamUrl> = (...a) => credentialsStage.upstreamUrl(this, ...a);
  readonly upstreamHeaders: Rest<typeof credentialsStage.upstreamHeaders> = (...a) =>
    credentialsStage.upstreamHeaders(this, ...a);
  readonly callTarget: Rest<typeof upstreamStage.callTarget> = (...a) => upstreamStage.callTarget(this, ...a);
  readonly noteOutcome: Rest<typeof upstreamStage.noteOutcome> = (...a) => upstreamStage.noteOutcome(this, ...a);
  readonly fanout: Rest<typeof upstreamStage.fanout> = (...a) => upstreamStage.fanout(this, ...a);
  readonly linkMap: Rest<typeof upstreamStage.linkMap> = (...a) => upstreamStage.linkMap(this, ...a);
  readonly upstreamFailed: Rest<typeof upstreamStage.upstreamFailed> = (...a) =>
    upstreamStage.upstreamFailed(this, ...a);
  readonly upstreamAnswered: Rest<typeof upstreamStage.upstreamAnswered> = (...a) =>
    upstreamStage.upstreamAnswered(this, ...a);
  readonly forward: Rest<typeof forwardStage.forward> = (...a) => forwardStage.forward(this, ...a);
  readonly finishBuffered: Rest<typeof forwardStage.finishBuffered> = (...a) => forwardStage.finishBuffered(this, ...a);
  readonly learn: Rest<typeof learnStage.learn> = (...a) => learnStage.learn(this, ...a);
  readonly offerRoute: Rest<typeof publishStage.offerRoute> = (...a) => publishStage.offerRoute(this, ...a);
  readonly nativeAnswered: Rest<typeof publishStage.nativeAnswered> = (...a) => publishStage.nativeAnswered(this, ...a);
  readonly rootFromProviders: Rest<typeof versionDocsStage.rootFromProviders> = (...a) =>
    versionDocsStage.rootFromProviders(this, ...a);
  readonly forwardVersionDocument: Rest<typeof versionDocsStage.forwardVersionDocument> = (...a) =>
    versionDocsStage.forwardVersionDocument(this, ...a);
  readonly extensionContext: Rest<typeof extensionContextStage.extensionContext> = (...a) =>
    extensionContextStage.extensionContext(this, ...a);
  readonly fromExtension: Rest<typeof extensionContextStage.fromExtension> = (...a) =>
    extensionContextStage.fromExtension(this, ...a);
  readonly inject: Rest<typeof injectStage.inject> = (...a) => injectStage.inject(this, ...a);
  readonly acceptInjection: Rest<typeof injectStage.acceptInjection> = (...a) =>
    injectStage.acceptInjection(this, ...a);

  constructor(opts: EngineOptions) {
    this.o = opts;
    this.access = opts.logger.child({}, { redact: [] });
  }

  /** The fallback public origin once the real port is known. */
  setListenOrigin(origin: string): void {
    this.o.listenOrigin = origin;
  }

  get extensions(): Extension[] {
    return this.o.extensions;
  }

  /** One request through the pipeline (engine/pipeline.ts); metrics, access log and error answers around it. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = requestTarget(req.url ?? '/');
    const token = header(req, 'x-auth-token');
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client went away'));
    });
    const call: Call = {
      req,
      res,
      started,
      method,
      url,
      token,
      signal: ac.signal,
      service: 'unknown',
      proxyList: [],
      exts: [],
    };
    let status = 500;
    try {
      status = await runStages(PIPELINE, this, call);
    } catch (err) {
      const r = this.errorToResponse(err, call.service);
      status = r.status;
      if (!res.headersSent) this.send(res, r);
      else res.destroy();
    } finally {
      this.finished(started, call.service, method, url.pathname, status);
      // A request whose answer was not published takes back any route published for it before.
      const lane = this.o.lane;
      if (lane && token && (method === 'GET' || method === 'HEAD') && !call.st?.offered) {
        lane.withdraw({ token, method, target: req.url ?? '/', via: header(req, ROUTE_KEY_REQUEST) });
      }
    }
  }

  /** Metrics and the access-log line of one request. */
  finished(started: number, service: string, method: string, path: string, status: number): void {
    const secs = (performance.now() - started) / 1000;
    this.o.metrics.request(service, method, status, secs);
    if (this.access.isLevelEnabled('info')) {
      this.access.info({ method, path, service, status, ms: Math.round(secs * 1000) }, 'request');
    }
  }

  errorToResponse(err: unknown, service: string): ProxyResponse {
    if (err instanceof HttpError) return err.response;
    if (isDatabaseUnavailable(err)) {
      // The database restarting or locked elsewhere: a clear, retryable 503, never a 500 with a stack in the log.
      this.o.logger.warn({ err: { message: err.message } }, 'request failed: database unavailable');
      return errorResponse(service, 503, 'The federation proxy cannot reach its database just now; try again.');
    }
    if (err instanceof OcxError) {
      this.o.logger.warn({ err: err.toJSON() }, 'request failed');
      return errorResponse(service, statusForError(err), err.message);
    }
    this.o.logger.error({ err: { message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'internal error');
    return errorResponse(service, 500, 'The federation proxy failed to handle the request.');
  }

  sendAndCount(res: ServerResponse, r: ProxyResponse): number {
    this.send(res, r);
    return r.status;
  }

  send(res: ServerResponse, r: ProxyResponse): void {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    // Answered before the request body was read (refused upload): say close and stop reading, rather than let
    // node:http read and discard what may be gigabytes to keep the connection.
    const req = res.req as IncomingMessage | undefined;
    if (req && !req.complete && (req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 0)) {
      res.shouldKeepAlive = false;
    }
    res.writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
    res.end(body);
  }
}
