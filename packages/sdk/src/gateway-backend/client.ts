/**
 * The connection to one OCX gateway: a Connect-ES gRPC transport (h2c for http://, TLS for https:// with the
 * clouds.yaml `gateway:` CA / client cert / verify), the bearer token from the cloud's own Keystone login on every
 * call, and `run()`: one call under the caller's signal and deadline (sent as the gRPC deadline, so the gateway
 * bounds its own work by it), its failure turned into an OcxError by the one conversion (OcxError.from → grpc.ts).
 */
import { readFileSync } from 'node:fs';
import type { SecureClientSessionOptions } from 'node:http2';
import { type Client, Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport, type Http2SessionManager } from '@connectrpc/connect-node';
import type { GatewayConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { CloudService } from '../gen/ocx/cloud/v1/cloud_service_pb.ts';
import { TransferService } from '../gen/ocx/cloud/v1/transfer_service_pb.ts';
import { callScope, resolveDeadline } from '../transport/cancel.ts';
import { releaseStreamedMessages } from './release.ts';
import { FramingSessionManager } from './upload-frames.ts';

/** What a call may carry: the caller's signal (and the deadline on it) or a budget of its own. */
export interface CallBounds {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface GatewayClientOptions {
  gateway: GatewayConfig;
  /** The caller's cloud name (errors name it, as they name a REST cloud). */
  cloud: string;
  region: string;
  /** A current Keystone token of the home cloud; `fresh` after the gateway refused the last one. */
  token: (o: { signal?: AbortSignal | undefined; fresh: boolean }) => Promise<string>;
  /** Budget of a call without a deadline of its own (ms). */
  defaultTimeoutMs: number;
}

function readPem(path: string, cloud: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new OcxError(
      ErrorCode.CONFIG_INVALID,
      `cloud '${cloud}': key 'gateway.${key}': cannot read ${path}`,
      {
        cloud,
        key: `gateway.${key}`,
        file: path,
      },
      { cause: err },
    );
  }
}

export function tlsOptions(g: GatewayConfig, cloud: string): SecureClientSessionOptions {
  if (!g.url.startsWith('https:')) return {};
  const o: SecureClientSessionOptions = { rejectUnauthorized: g.verify !== false };
  if (typeof g.verify === 'string') o.ca = readPem(g.verify, cloud, 'cacert');
  if (g.cert) o.cert = readPem(g.cert, cloud, 'cert');
  if (g.key) o.key = readPem(g.key, cloud, 'key');
  return o;
}

/**
 * One HTTP/2 connection per gateway (URL and TLS settings) in this process, shared by every GatewayClient that
 * talks to it — a gateway serving many callers through another gateway keeps one connection there, not one per
 * caller. Each client has its own transport (its own bearer); the connection closes with its last client.
 */
const SHARED = new Map<string, { manager: Http2SessionManager; users: number }>();

function acquire(g: GatewayConfig, cloud: string): { manager: Http2SessionManager; release: () => void } {
  const key = JSON.stringify([g.url, g.verify, g.cert ?? '', g.key ?? '']);
  let entry = SHARED.get(key);
  if (!entry) {
    const manager = new FramingSessionManager(g.url, { idleConnectionTimeoutMs: 30_000 }, tlsOptions(g, cloud));
    entry = { manager, users: 0 };
    SHARED.set(key, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    manager: held.manager,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users === 0 && SHARED.get(key) === held) {
        SHARED.delete(key);
        held.manager.abort();
      }
    },
  };
}

export class GatewayClient {
  readonly cloud: Client<typeof CloudService>;
  readonly transfer: Client<typeof TransferService>;
  readonly #opts: GatewayClientOptions;
  readonly #connection: { manager: Http2SessionManager; release: () => void };

  constructor(opts: GatewayClientOptions) {
    this.#opts = opts;
    this.#connection = acquire(opts.gateway, opts.cloud);
    const bearer: Interceptor = (next) => async (req) => {
      const token = await opts.token({ signal: req.signal, fresh: false });
      req.header.set('authorization', `Bearer ${token}`);
      return next(req);
    };
    const transport = createGrpcTransport({
      baseUrl: opts.gateway.url,
      sessionManager: this.#connection.manager,
      // Each streamed message (download chunks, watch events) freed once used: release.ts says why.
      interceptors: [bearer, releaseStreamedMessages],
      // Blob streams are not compressed (the gateway accepts none on them either).
      acceptCompression: [],
    });
    this.cloud = createClient(CloudService, transport);
    this.transfer = createClient(TransferService, transport);
  }

  /**
   * One call (`fn` gets the Connect call options: signal and gRPC timeout) bounded by the caller's deadline; a
   * token the gateway refuses (expired between the check and the call) is replaced once and the call repeated —
   * the gateway refuses before it does anything, so repeating is safe.
   */
  async run<T>(
    what: string,
    bounds: CallBounds,
    fn: (o: { signal: AbortSignal; timeoutMs: number }) => Promise<T>,
  ): Promise<T> {
    const deadline = resolveDeadline(bounds, this.#opts.defaultTimeoutMs);
    const context = { cloud: this.#opts.cloud, region: this.#opts.region || undefined, step: what };
    const scope = callScope({ signal: bounds.signal, deadline, timeoutMs: bounds.timeoutMs, context, unref: true });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn({ signal: scope.signal, timeoutMs: Math.max(1, deadline - Date.now()) });
        } catch (err) {
          if (attempt === 0 && err instanceof ConnectError && err.code === Code.Unauthenticated) {
            await this.#opts.token({ signal: scope.signal, fresh: true });
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      throw OcxError.from(err, { ...context, signal: scope.signal, deadline });
    } finally {
      scope.dispose();
    }
  }

  /**
   * A long-lived server stream (no deadline: it runs until the caller's signal aborts or the gateway ends it),
   * its failure converted as `run()` converts one.
   */
  async *stream<T>(
    what: string,
    signal: AbortSignal | undefined,
    open: (o: { signal: AbortSignal | undefined }) => AsyncIterable<T>,
  ): AsyncGenerator<T> {
    const context = { cloud: this.#opts.cloud, region: this.#opts.region || undefined, step: what };
    try {
      yield* open({ signal });
    } catch (err) {
      throw OcxError.from(err, { ...context, signal });
    }
  }

  /** Let go of the shared connection (closed when no client of this process uses it any more). */
  close(): void {
    this.#connection.release();
  }
}
