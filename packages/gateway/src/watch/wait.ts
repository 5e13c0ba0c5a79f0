/**
 * Waiting for a server through the shared watch (push) instead of polling it: resolves with the server once it
 * is ACTIVE with an address; RESOURCE_FAILED on ERROR; NOT_FOUND when it disappears; TIMEOUT after timeoutMs.
 * `onChange` sees every state on the way (CreateServerStream's progress).
 */
import { type Connection, ErrorCode, OcxError, type Server } from '@ocx/sdk';
import type { ServerWatchHub } from './hub.ts';

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Attach a floating IP when needed (the cloud layer's waitForServer does it once the server is ACTIVE). */
  autoIp: boolean;
  onChange?: ((server: Server) => void) | undefined;
}

const hasAddress = (s: Server) => Object.values(s.addresses ?? {}).some((l) => (l ?? []).length > 0);

export async function waitThroughHub(
  hub: ServerWatchHub,
  conn: Connection,
  id: string,
  o: WaitOptions,
): Promise<Server> {
  const where = { cloud: conn.cloud, region: conn.region, resourceId: id };
  let subscribed: Promise<() => void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const active = await new Promise<Server>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new OcxError(ErrorCode.TIMEOUT, `timeout waiting for server ${id} to become ACTIVE`, where)),
        o.timeoutMs,
      );
      onAbort = () => reject(new OcxError(ErrorCode.CANCELLED, 'the call was cancelled or ran out of time', where));
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener('abort', onAbort, { once: true });
      let lastSig = '';
      subscribed = hub.subscribe(
        conn,
        (events) => {
          for (const ev of events) {
            if (ev.type === 'FAILED' || ev.type === 'SYNCED' || ev.server.id !== id) continue;
            if (ev.type === 'DELETED') {
              reject(new OcxError(ErrorCode.NOT_FOUND, `server ${id} was deleted while waiting for it`, where));
              return;
            }
            const s = ev.server;
            const sig = `${s.status}|${s.progress}|${s.task_state}|${s.interface_ip}`;
            if (sig !== lastSig) o.onChange?.(s);
            lastSig = sig;
            if (s.status === 'ERROR') {
              const fault = s.fault?.message ? `: ${s.fault.message}` : '';
              reject(new OcxError(ErrorCode.RESOURCE_FAILED, `server ${id} went to ERROR${fault}`, where));
            } else if (s.status === 'ACTIVE') resolve(s);
          }
        },
        o.signal,
      );
      subscribed.catch(reject);
    });
    if (!o.autoIp && hasAddress(active)) return active;
    // Floating IP (auto_ip), or shade's rule for ACTIVE without an address: the cloud layer decides, once.
    return await conn.cloudLayer.waitForServer(active, { autoIp: o.autoIp, timeoutMs: o.timeoutMs, signal: o.signal });
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) o.signal.removeEventListener('abort', onAbort);
    subscribed?.then(
      (unsubscribe) => unsubscribe(),
      () => undefined,
    );
  }
}
