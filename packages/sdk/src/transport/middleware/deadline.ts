import type { Middleware } from '../types.ts';

/** Give every call an absolute deadline (from `timeoutMs`, or the transport default). Inner layers respect it. */
export function deadlineMiddleware(defaultTimeoutMs: number): Middleware {
  return (next) => (req) => {
    if (req.deadline !== undefined) return next(req);
    const timeoutMs = req.timeoutMs ?? defaultTimeoutMs;
    return next({ ...req, timeoutMs, deadline: Date.now() + timeoutMs });
  };
}
