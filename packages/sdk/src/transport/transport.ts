import type { Agent } from 'undici';
import { resolveDeadline } from './cancel.ts';
import { createAgent, DEFAULT_TIMEOUT_MS, undiciHandler } from './dispatch.ts';
import { createLogger } from './logger.ts';
import { callMetricsMiddleware, observeMiddleware } from './middleware/observe.ts';
import { rateLimitMiddleware } from './middleware/rate-limit.ts';
import { retryMiddleware } from './middleware/retry.ts';
import type {
  Handler,
  HttpRequest,
  HttpResponse,
  LoggerLike,
  Middleware,
  Transport,
  TransportOptions,
} from './types.ts';

export const USER_AGENT = 'ocx-sdk/0.1.0';

/** Compose middleware, outermost first. */
export function compose(middleware: Middleware[], terminal: Handler): Handler {
  return middleware.reduceRight<Handler>((next, mw) => mw(next), terminal);
}

/**
 * Give every call its absolute deadline before anything else runs (retries and the rate limit wait inside it): the
 * caller's `deadline`, or the one its signal carries (cancel.ts), or now + `timeoutMs` / the transport default.
 */
function deadlineMiddleware(defaultTimeoutMs: number): Middleware {
  return (next) => (req) => {
    const timeoutMs = req.timeoutMs ?? defaultTimeoutMs;
    return next({ ...req, timeoutMs, deadline: resolveDeadline(req, timeoutMs) });
  };
}

/**
 * The one HTTP transport: undici Agent (a Pool per origin) behind the onion
 * deadline → call metrics → retry → rate limit/concurrency → custom middleware → observe (log + attempt metrics) → undici.
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const owned: Agent | undefined = options.dispatcher
    ? undefined
    : createAgent(options.tls, {
        connectionsPerOrigin: options.connectionsPerOrigin,
        connectTimeoutMs: options.connectTimeoutMs,
      });
  const dispatcher = options.dispatcher ?? owned!;
  const logger: LoggerLike = options.logger ?? createLogger();
  const stack: Middleware[] = [deadlineMiddleware(timeoutMs), callMetricsMiddleware(options.metrics)];
  if (options.retry !== false) stack.push(retryMiddleware(options.retry ?? {}, options.metrics));
  if (options.rateLimits && Object.keys(options.rateLimits).length > 0)
    stack.push(rateLimitMiddleware(options.rateLimits, options.metrics));
  stack.push(...(options.middleware ?? []));
  stack.push(observeMiddleware(logger, options.metrics, options.logBodies));
  const handler = compose(stack, undiciHandler(dispatcher, { timeoutMs, userAgent: options.userAgent ?? USER_AGENT }));
  return {
    logger,
    metrics: options.metrics,
    request(req: HttpRequest): Promise<HttpResponse> {
      return handler(req);
    },
    async close() {
      await owned?.close();
    },
  };
}
