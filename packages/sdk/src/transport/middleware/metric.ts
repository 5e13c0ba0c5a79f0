import type { HttpRequest, RequestMetric } from '../types.ts';

/** scheme://host:port of a URL (metrics labels never carry a path with ids). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/** The labels and timing of one attempt, shared by the retry and observe layers. */
export function metricOf(req: HttpRequest, started: number, attempt: number): RequestMetric {
  return {
    method: req.method.toUpperCase(),
    origin: originOf(req.url),
    cloud: req.context?.cloud,
    region: req.context?.region,
    service: req.context?.service,
    operation: req.context?.operation,
    durationMs: Date.now() - started,
    attempt,
  };
}
