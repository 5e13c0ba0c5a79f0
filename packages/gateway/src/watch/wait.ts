/**
 * Waiting for a server through the shared watch (push) instead of polling it: resolves with the server once it
 * is ACTIVE with an address; RESOURCE_FAILED on ERROR; NOT_FOUND when it disappears; TIMEOUT after timeoutMs.
 * The server is looked for in the watches of every given cloud; only when no snapshot holds it (created after the
 * last poll, or not there at all) is `lookup` asked once, which decides NOT_FOUND or where it lives.
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
  /** Where the server is when no watch snapshot has it yet; null: nowhere. Omitted: it exists on conns[0]. */
  lookup?: (() => Promise<Connection | null>) | undefined;
}

const hasAddress = (s: Server) => Object.values(s.addresses ?? {}).some((l) => (l ?? []).length > 0);

export async function waitThroughHub(
  hub: ServerWatchHub,
  conns: readonly Connection[],
  id: string,
  o: WaitOptions,
): Promise<{ server: Server; conn: Connection }> {
  const where = (c?: Connection) => ({ cloud: c?.cloud, region: c?.region, resourceId: id });
  const subscriptions: Promise<() => void>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const active = await new Promise<{ server: Server; conn: Connection }>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new OcxError(ErrorCode.TIMEOUT, `timeout waiting for server ${id} to become ACTIVE`, where())),
        o.timeoutMs,
      );
      onAbort = () => reject(new OcxError(ErrorCode.CANCELLED, 'the call was cancelled or ran out of time', where()));
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener('abort', onAbort, { once: true });
      let seen = false;
      let unsynced = conns.length;
      let lastSig = '';
      const notSeen = () => {
        if (!o.lookup) return; // known to exist: its ADDED comes with the next poll
        o.lookup().then((conn) => {
          if (!conn) reject(new OcxError(ErrorCode.NOT_FOUND, `no server ${id}`, where()));
        }, reject);
      };
      for (const conn of conns) {
        const sub = hub.subscribe(
          conn,
          (events) => {
            for (const ev of events) {
              if (ev.type === 'SYNCED') {
                unsynced--;
                if (unsynced === 0 && !seen) notSeen();
                continue;
              }
              if (ev.type === 'FAILED' || ev.server.id !== id) continue;
              seen = true;
              if (ev.type === 'DELETED') {
                reject(new OcxError(ErrorCode.NOT_FOUND, `server ${id} was deleted while waiting for it`, where(conn)));
                return;
              }
              const s = ev.server;
              const sig = `${s.status}|${s.progress}|${s.task_state}|${s.interface_ip}`;
              if (sig !== lastSig) o.onChange?.(s);
              lastSig = sig;
              if (s.status === 'ERROR') {
                const fault = s.fault?.message ? `: ${s.fault.message}` : '';
                reject(new OcxError(ErrorCode.RESOURCE_FAILED, `server ${id} went to ERROR${fault}`, where(conn)));
              } else if (s.status === 'ACTIVE') resolve({ server: s, conn });
            }
          },
          o.signal,
        );
        sub.catch(reject);
        subscriptions.push(sub);
      }
    });
    if (!o.autoIp && hasAddress(active.server)) return active;
    // Floating IP (auto_ip), or shade's rule for ACTIVE without an address: the cloud layer decides, once.
    const server = await active.conn.cloudLayer.waitForServer(active.server, {
      autoIp: o.autoIp,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
    });
    return { server, conn: active.conn };
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) o.signal.removeEventListener('abort', onAbort);
    for (const sub of subscriptions)
      sub.then(
        (unsubscribe) => unsubscribe(),
        () => undefined,
      );
  }
}
