/**
 * Fault and latency injection for one cloud: per service (catalog type or name, e.g. 'compute' or 'nova') or
 * for the whole cloud ('*'). A service's own spec wins over '*'.
 *
 * - latencyMs / jitterMs: wait before handling the request.
 * - errorRate / errorStatus: answer that fraction of requests with the service's own error body.
 * - down: '*' closes the cloud's listener (connection refused) and reopens it on the same port on recovery;
 *   for one service, connections to it are reset (its port is shared with the other services).
 * - hang: accept the request and never answer (until the client gives up or the cloud stops).
 * - slowBodyBytesPerSec: stream the response body at that rate.
 * - cutBodyAfterBytes: send the full Content-Length but only that many bytes of the body, then reset the
 *   connection (an answer cut off mid-body).
 */
import { Readable } from 'node:stream';
import type { FaultSpec } from './context.ts';
import { ApiFault } from './fault.ts';
import {
  cinderFaultBody,
  keystoneFaultBody,
  neutronFaultBody,
  novaFaultBody,
  plainFaultBody,
  type RenderedFault,
  swiftFaultPage,
} from './fault-bodies.ts';

const NUMERIC: Record<string, { min: number; max: number; int?: boolean; positive?: boolean }> = {
  latencyMs: { min: 0, max: 600_000 },
  jitterMs: { min: 0, max: 600_000 },
  errorRate: { min: 0, max: 1 },
  errorStatus: { min: 400, max: 599, int: true },
  slowBodyBytesPerSec: { min: 0, max: Number.MAX_SAFE_INTEGER, positive: true },
  cutBodyAfterBytes: { min: 0, max: Number.MAX_SAFE_INTEGER, int: true },
};
const BOOLEAN = new Set(['down', 'hang']);

/** Validate a FaultSpec from JSON; throws Error naming the bad field. */
export function parseFaultSpec(value: unknown): FaultSpec {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('a fault spec is a JSON object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const num = NUMERIC[k];
    if (num) {
      if (
        typeof v !== 'number' ||
        !Number.isFinite(v) ||
        v < num.min ||
        v > num.max ||
        (num.int && !Number.isInteger(v)) ||
        (num.positive && v <= 0)
      ) {
        throw new Error(`${k} must be a number in ${num.min}..${num.max}${num.int ? ' (integer)' : ''}`);
      }
    } else if (BOOLEAN.has(k)) {
      if (typeof v !== 'boolean') throw new Error(`${k} must be true or false`);
    } else {
      throw new Error(`unknown fault field ${JSON.stringify(k)}`);
    }
    out[k] = v;
  }
  return out as FaultSpec;
}

export class Faults {
  private readonly specs = new Map<string, FaultSpec>();
  /** Called when the cloud-wide `down` flag flips; the cloud closes or reopens its listener. */
  onDownChange: (down: boolean) => Promise<void> = async () => {};

  async set(service: string, spec: FaultSpec | null | undefined): Promise<void> {
    const wasDown = this.cloudDown();
    if (!spec || Object.keys(spec).length === 0) this.specs.delete(service);
    else this.specs.set(service, { ...spec });
    const isDown = this.cloudDown();
    if (wasDown !== isDown) await this.onDownChange(isDown);
  }

  async clear(): Promise<void> {
    const wasDown = this.cloudDown();
    this.specs.clear();
    if (wasDown) await this.onDownChange(false);
  }

  cloudDown(): boolean {
    return this.specs.get('*')?.down === true;
  }

  list(): Record<string, FaultSpec> {
    return Object.fromEntries(this.specs);
  }

  /** The spec that applies to a request for a service known by these keys (type, name). */
  effective(keys: string[]): FaultSpec | undefined {
    for (const k of keys) {
      const s = this.specs.get(k);
      if (s) return s;
    }
    return this.specs.get('*');
  }
}

export function faultDelayMs(spec: FaultSpec): number {
  const base = spec.latencyMs ?? 0;
  const jitter = spec.jitterMs ? Math.random() * spec.jitterMs : 0;
  return base + jitter;
}

/** An injected error in the body shape the service's real API uses. */
export function injectedErrorBody(
  serviceType: string | undefined,
  status: number,
  message = 'devcloud injected fault.',
): RenderedFault {
  const json = (body: unknown): RenderedFault => ({ contentType: 'application/json', body: JSON.stringify(body) });
  switch (serviceType) {
    case 'identity':
      return json(keystoneFaultBody(status, message));
    case 'compute':
      return json(novaFaultBody(status, message));
    case 'volumev3':
    case 'block-storage':
    case 'volume':
      return json(cinderFaultBody(status, message));
    case 'network':
      return json(neutronFaultBody(new ApiFault(status, message)));
    case 'object-store':
      return { contentType: 'text/html; charset=UTF-8', body: swiftFaultPage(status, message) };
    default:
      return plainFaultBody(status, message);
  }
}

/** The first `bytes` of a body, then `kill()` (the connection reset) instead of the rest. */
export function cutOff(payload: unknown, bytes: number, kill: () => void): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    let left = bytes;
    const source: AsyncIterable<Buffer | string> | Iterable<Buffer | string> =
      payload instanceof Readable ? payload : [typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : ''];
    for await (const part of source) {
      const buf = typeof part === 'string' ? Buffer.from(part) : part;
      if (buf.length >= left) {
        if (left > 0) yield buf.subarray(0, left);
        break;
      }
      left -= buf.length;
      yield buf;
    }
    // let the bytes reach the socket, then drop the connection without finishing the body
    await new Promise((r) => setTimeout(r, 20));
    kill();
    await new Promise(() => undefined);
  }
  return Readable.from(gen());
}

/** Re-emit a response body at `bytesPerSec`, in chunks every 100 ms. */
export function throttle(payload: unknown, bytesPerSec: number): Readable {
  const chunkSize = Math.max(1, Math.floor(bytesPerSec / 10));
  async function* gen(): AsyncGenerator<Buffer> {
    const source: AsyncIterable<Buffer | string> | Iterable<Buffer | string> =
      payload instanceof Readable
        ? payload
        : [typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload : ''];
    for await (const part of source) {
      const buf = typeof part === 'string' ? Buffer.from(part) : part;
      for (let i = 0; i < buf.length; i += chunkSize) {
        await new Promise((res) => setTimeout(res, 100));
        yield buf.subarray(i, i + chunkSize);
      }
    }
  }
  return Readable.from(gen(), { objectMode: false });
}
