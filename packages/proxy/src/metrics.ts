/** Prometheus metrics of one proxy instance (its own registry, so several proxies can share a process). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'service' | 'method' | 'status'>;
  private readonly duration: Histogram<'service'>;
  private readonly upstream: Histogram<'target' | 'service' | 'outcome'>;
  private readonly lookups: Counter<'kind' | 'result'>;
  private readonly breaker: Gauge<'target'>;
  private readonly missing: Counter<'target'>;
  private readonly discoveries: Counter<'target' | 'outcome'>;
  private readonly steps: Histogram<'target' | 'step'>;

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
    this.discoveries = new Counter({
      name: 'ocx_proxy_sp_discoveries_total',
      help: "The service account's K2K exchanges to learn a service provider's endpoints (ok, failed)",
      labelNames: ['target', 'outcome'],
      registers,
    });
    this.steps = new Histogram({
      name: 'ocx_proxy_token_step_seconds',
      help: 'Steps of a new token: home validation (step validate) and each call of a K2K exchange per target',
      labelNames: ['target', 'step'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  // Label children are bound once per label set and kept: prom-client hashes the label object on every
  // unbound inc/observe, which showed in the pass-through profile. Label sets are few (service × method ×
  // status, target × service × outcome), so these maps stay small.
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(v: number): void }>();
  private readonly upstreamChildren = new Map<string, { observe(v: number): void }>();
  private readonly lookupChildren = new Map<string, { inc(): void }>();

  request(service: string, method: string, status: number, seconds: number): void {
    const key = `${service}\u0000${method}\u0000${status}`;
    let c = this.requestChildren.get(key);
    if (!c) {
      c = this.requests.labels({ service, method, status: String(status) });
      this.requestChildren.set(key, c);
    }
    c.inc();
    let d = this.durationChildren.get(service);
    if (!d) {
      d = this.duration.labels({ service });
      this.durationChildren.set(service, d);
    }
    d.observe(seconds);
  }
  upstreamCall(target: string, service: string, outcome: string, seconds: number): void {
    const key = `${target}\u0000${service}\u0000${outcome}`;
    let c = this.upstreamChildren.get(key);
    if (!c) {
      c = this.upstream.labels({ target, service, outcome });
      this.upstreamChildren.set(key, c);
    }
    c.observe(seconds);
  }
  mappingLookup(kind: 'token' | 'resource', result: string): void {
    const key = `${kind}\u0000${result}`;
    let c = this.lookupChildren.get(key);
    if (!c) {
      c = this.lookups.labels({ kind, result });
      this.lookupChildren.set(key, c);
    }
    c.inc();
  }
  breakerState(target: string, state: 0 | 1 | 2): void {
    this.breaker.set({ target }, state);
  }
  fanoutMissing(target: string): void {
    this.missing.inc({ target });
  }
  tokenStep(target: string, step: string, seconds: number): void {
    this.steps.observe({ target, step }, seconds);
  }
  spDiscovery(target: string, outcome: 'ok' | 'failed'): void {
    this.discoveries.inc({ target, outcome });
  }
}
