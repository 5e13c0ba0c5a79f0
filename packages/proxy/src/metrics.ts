/** Prometheus metrics of one proxy instance (its own registry, so several proxies can share a process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'service' | 'method' | 'status'>;
  private readonly duration: Histogram<'service'>;
  private readonly upstream: Histogram<'target' | 'service' | 'outcome'>;
  private readonly lookups: Counter<'kind' | 'result'>;
  private readonly breaker: Gauge<'target'>;
  private readonly missing: Counter<'target'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'ocx_proxy_requests_total',
      help: 'Requests answered by the proxy',
      labelNames: ['service', 'method', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'ocx_proxy_request_duration_seconds',
      help: 'Time to response headers for requests answered by the proxy',
      labelNames: ['service'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.upstream = new Histogram({
      name: 'ocx_proxy_upstream_duration_seconds',
      help: 'Upstream call latency (to response headers) per target (home cloud or service provider)',
      labelNames: ['target', 'service', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.lookups = new Counter({
      name: 'ocx_proxy_mapping_lookups_total',
      help: 'Token and resource mapping lookups by result (hit, miss, flood_hit, flood_miss)',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.breaker = new Gauge({
      name: 'ocx_proxy_breaker_state',
      help: 'Circuit breaker state per target: 0 closed, 1 open, 2 half-open',
      labelNames: ['target'],
      registers,
    });
    this.missing = new Counter({
      name: 'ocx_proxy_fanout_missing_total',
      help: 'Fan-out answers that left a target out (failed, timed out or breaker open)',
      labelNames: ['target'],
      registers,
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  request(service: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ service, method, status: String(status) });
    this.duration.observe({ service }, seconds);
  }
  upstreamCall(target: string, service: string, outcome: string, seconds: number): void {
    this.upstream.observe({ target, service, outcome }, seconds);
  }
  mappingLookup(kind: 'token' | 'resource', result: string): void {
    this.lookups.inc({ kind, result });
  }
  breakerState(target: string, state: 0 | 1 | 2): void {
    this.breaker.set({ target }, state);
  }
  fanoutMissing(target: string): void {
    this.missing.inc({ target });
  }
}
