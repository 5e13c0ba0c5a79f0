/**
 * Per-target circuit breaker. `failureThreshold` consecutive failures (no answer, timeout, 502/503/504) open it
 * for `openMs`; then one trial call is let through (half-open): success closes it, failure opens it again.
 */
import type { ProxyMetrics } from './metrics.ts';

type State = { failures: number; openUntil: number; trial: boolean };

export class Breakers {
  private readonly states = new Map<string, State>();
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly metrics: ProxyMetrics;

  constructor(opts: { failureThreshold: number; openMs: number; metrics: ProxyMetrics }) {
    this.threshold = opts.failureThreshold;
    this.openMs = opts.openMs;
    this.metrics = opts.metrics;
  }

  private state(target: string): State {
    let s = this.states.get(target);
    if (!s) {
      s = { failures: 0, openUntil: 0, trial: false };
      this.states.set(target, s);
      this.metrics.breakerState(target, 0);
    }
    return s;
  }

  /** May a call go to this target now? (Takes the half-open trial slot when it is free.) */
  allow(target: string): boolean {
    const s = this.state(target);
    if (s.openUntil === 0) return true;
    if (Date.now() < s.openUntil) return false;
    if (s.trial) return false;
    s.trial = true;
    this.metrics.breakerState(target, 2);
    return true;
  }

  isOpen(target: string): boolean {
    const s = this.states.get(target);
    return !!s && s.openUntil !== 0 && (Date.now() < s.openUntil || s.trial);
  }

  success(target: string): void {
    const s = this.state(target);
    if (s.failures !== 0 || s.openUntil !== 0) this.metrics.breakerState(target, 0);
    s.failures = 0;
    s.openUntil = 0;
    s.trial = false;
  }

  failure(target: string): void {
    const s = this.state(target);
    s.failures++;
    if (s.trial || s.failures >= this.threshold) {
      s.openUntil = Date.now() + this.openMs;
      s.trial = false;
      this.metrics.breakerState(target, 1);
    }
  }
}
