/**
 * Servers through the gateway: the single-flight list cache, get, create (waited for by the gateway's
 * CreateServerStream push), WaitForServer, power actions (ServerAction) and delete. Searches run the SDK's own
 * filterList over the cached list, so names, globs and filters match exactly as on the REST backend.
 */
import type { Ref } from '../cloud/core.ts';
import { DEFAULT_SERVER_TIMEOUT_MS, refId } from '../cloud/core.ts';
import { filterList, looksLikeId, single } from '../cloud/filter.ts';
import type { CreateServerOptions } from '../cloud/server-create.ts';
import type { PowerAction, PowerOptions } from '../cloud/server-power.ts';
import type { WaitForServerOptions } from '../cloud/server-wait.ts';
import type { ListServersOptions } from '../cloud/servers.ts';
import type { Filters, Server } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { ServerActionType } from '../gen/ocx/cloud/v1/ansible_storage_pb.ts';
import { isNotFound } from '../services/common.ts';
import { fromServer } from './convert.ts';
import { GatewayCompute } from './gateway-compute.ts';

const ACTION_TYPE: Record<PowerAction, ServerActionType> = {
  reboot: ServerActionType.REBOOT,
  'hard-reboot': ServerActionType.HARD_REBOOT,
  stop: ServerActionType.STOP,
  start: ServerActionType.START,
  pause: ServerActionType.PAUSE,
  unpause: ServerActionType.UNPAUSE,
  suspend: ServerActionType.SUSPEND,
  resume: ServerActionType.RESUME,
  lock: ServerActionType.LOCK,
  unlock: ServerActionType.UNLOCK,
  rebuild: ServerActionType.REBUILD,
};

/** Create options the gateway's ServerSpec has no field for: refused rather than silently dropped. */
const NOT_IN_SPEC = [
  'nics',
  'adminPass',
  'schedulerHints',
  'group',
  'bootFromVolume',
  'volumeSize',
  'bootVolume',
  'terminateVolume',
  'volumes',
  'reuseIps',
  'microversion',
] as const;

const refName = (r: Ref): string => (typeof r === 'object' ? r.id : r);
export const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
/** Time a wait on the gateway gets beyond its own timeout to answer (ms). */
export const ANSWER_MARGIN_MS = 15_000;

async function nullIfMissing<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export abstract class GatewayServers extends GatewayCompute {
  // ---------------------------------------------------------------- servers

  /** All servers, addresses resolved by the gateway; one ListServers RPC per cache age however many callers. */
  listServers(opts: ListServersOptions = {}): Promise<Server[]> {
    const allProjects = !!opts.allProjects;
    return this.serverCache.get(
      async () => {
        const r = await this.client.run('ListServers', { signal: opts.signal }, (o) =>
          this.client.cloud.listServers({ filter: this.filter(), allProjects }, o),
        );
        this.check(r.failures);
        return r.servers.map((s) => fromServer(s, this.name));
      },
      allProjects ? 'all' : '',
    );
  }

  async searchServers(
    nameOrId?: string,
    filters?: Filters,
    opts: { allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server[]> {
    return filterList(await this.listServers({ allProjects: opts.allProjects }), nameOrId, filters);
  }

  async getServer(
    nameOrId: Ref,
    opts: { filters?: Filters; allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server | null> {
    if (typeof nameOrId === 'object') return nameOrId as Server;
    if (this.opts.useDirectGet && looksLikeId(nameOrId) && !opts.filters) return this.getServerById(nameOrId);
    return single(await this.searchServers(nameOrId, opts.filters, opts), 'server', nameOrId);
  }

  /** One GetServer by id (the gateway asks Nova directly); null when there is none. */
  async getServerById(id: string): Promise<Server | null> {
    const r = await nullIfMissing(
      this.client.run('GetServer', {}, (o) => this.client.cloud.getServer({ filter: this.filter(id) }, o)),
    );
    return r?.server ? fromServer(r.server, this.name) : null;
  }

  /**
   * shade's create_server through the gateway. With `wait`, CreateServerStream: the gateway pushes the server as
   * it changes until ACTIVE (`onProgress` sees each state), from its one shared poll of the project — no polling
   * from here. Options the gateway's ServerSpec cannot carry are refused (UNSUPPORTED), never dropped.
   */
  async createServer(o: CreateServerOptions): Promise<Server> {
    const given = NOT_IN_SPEC.filter((k) => o[k] !== undefined && o[k] !== false);
    if (given.length > 0) throw this.unsupportedError(`createServer option ${given.join(', ')}`);
    if (o.userdata instanceof Uint8Array) throw this.unsupportedError('createServer with binary userdata');
    if (o.image === undefined) throw new OcxError(ErrorCode.BAD_REQUEST, 'createServer: image is required');
    const networks = o.network === undefined ? [] : (Array.isArray(o.network) ? o.network : [o.network]).map(refName);
    const groups =
      o.securityGroups === undefined ? [] : Array.isArray(o.securityGroups) ? o.securityGroups : [o.securityGroups];
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    const spec = {
      location: this.at(),
      name: o.name,
      image: refName(o.image),
      flavor: refName(o.flavor),
      networks,
      keyName: o.keyName ?? '',
      metadata: o.metadata ?? {},
      userdata: o.userdata ?? '',
      securityGroups: groups,
      availabilityZone: o.availabilityZone ?? '',
      configDrive: !!o.configDrive,
      wait: false,
      timeoutSeconds: seconds(timeoutMs),
      autoIp: o.autoIp !== false,
    };
    try {
      if (!o.wait) {
        const r = await this.client.run('CreateServer', { signal: o.signal }, (c) =>
          this.client.cloud.createServer({ spec }, c),
        );
        if (!r.server)
          throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no server', { cloud: this.name });
        return fromServer(r.server, this.name);
      }
      return await this.client.run(
        'CreateServerStream',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        async (c) => {
          let adminPassword: string | undefined;
          for await (const m of this.client.cloud.createServerStream({ spec }, c)) {
            if (!m.server) continue;
            const server = fromServer(m.server, this.name);
            adminPassword ??= server.admin_password;
            if (!m.done) {
              o.onProgress?.(server);
              continue;
            }
            if (adminPassword) server.admin_password = adminPassword;
            return server;
          }
          throw new OcxError(
            ErrorCode.INVALID_RESPONSE,
            'the gateway ended the create stream before the server was ready',
            {
              cloud: this.name,
            },
          );
        },
      );
    } finally {
      this.serverCache.invalidate();
    }
  }

  /**
   * Wait until the server is ACTIVE with an address: the gateway's WaitForServer, answered from its shared watch of
   * the project (ERROR → RESOURCE_FAILED with Nova's fault; timeout → TIMEOUT). With `onProgress`, the server's
   * states come from the gateway's WatchServers (pushed, not polled) while the wait runs.
   */
  async waitForServer(server: Ref, o: WaitForServerOptions = {}): Promise<Server> {
    const id = refId(server) ?? (await this.getServer(server))?.id;
    if (!id)
      throw new OcxError(ErrorCode.NOT_FOUND, `server "${String(server)}" not found`, { resourceId: String(server) });
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    const watching = new AbortController();
    const onAbort = () => watching.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const progress = o.onProgress ? this.#progressOf(id, o.onProgress, watching.signal) : undefined;
    try {
      const r = await this.client.run(
        'WaitForServer',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        (c) =>
          this.client.cloud.waitForServer(
            { filter: this.filter(id), timeoutSeconds: seconds(timeoutMs), autoIp: o.autoIp !== false },
            c,
          ),
      );
      if (!r.server) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no server', { cloud: this.name });
      const ready = fromServer(r.server, this.name);
      o.onProgress?.(ready);
      return ready;
    } finally {
      watching.abort();
      o.signal?.removeEventListener('abort', onAbort);
      await progress;
      this.serverCache.invalidate();
    }
  }

  /** Call `onProgress` with the server each time the gateway's watch reports a change of it (until `signal`). */
  async #progressOf(id: string, onProgress: (s: Server) => void, signal: AbortSignal): Promise<void> {
    try {
      for await (const ev of this.watchServers({ signal })) {
        if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && ev.server.id === id) onProgress(ev.server);
      }
    } catch {
      // Progress is a courtesy: the wait itself reports what went wrong.
    }
  }

  /**
   * reboot / stop / start / pause / ... through the gateway's ServerAction; with `wait`, the server once settled
   * (`onProgress` from WatchServers meanwhile), else null — as the REST backend. One difference: an action whose
   * target status the server already has (stop of a SHUTOFF server) is not run by the gateway (Ansible's
   * idempotence) where Nova would answer CONFLICT.
   */
  async serverPowerAction(server: Ref, action: PowerAction, o: PowerOptions = {}): Promise<Server | null> {
    const id = refId(server) ?? (await this.getServer(server))?.id;
    if (!id)
      throw new OcxError(ErrorCode.NOT_FOUND, `server "${String(server)}" not found`, { resourceId: String(server) });
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    const watching = new AbortController();
    const progress = o.wait && o.onProgress ? this.#progressOf(id, o.onProgress, watching.signal) : undefined;
    try {
      const r = await this.client.run(
        'ServerAction',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        (c) =>
          this.client.cloud.serverAction(
            {
              filter: this.filter(id),
              action: ACTION_TYPE[action],
              wait: !!o.wait,
              timeoutSeconds: seconds(timeoutMs),
              image: o.image === undefined ? '' : refName(o.image),
              adminPassword: o.adminPassword ?? '',
            },
            c,
          ),
      );
      return o.wait && r.server ? fromServer(r.server, this.name) : null;
    } finally {
      watching.abort();
      await progress;
      this.serverCache.invalidate();
    }
  }

  /** Nova's console log of the server (GetServerConsole): the last `length` lines, or all. */
  async getServerConsole(server: Ref, length?: number): Promise<string> {
    const r = await this.client.run('GetServerConsole', {}, (c) =>
      this.client.cloud.getServerConsole({ filter: this.filter(refName(server)), length: length ?? 0 }, c),
    );
    return r.output;
  }

  /** Delete a server; false when it does not exist. `deleteIps` and `wait` are done by the gateway. */
  async deleteServer(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; deleteIps?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const id = refId(nameOrId) ?? (await this.getServer(nameOrId))?.id;
    if (!id) return false;
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    try {
      const r = await this.client.run(
        'DeleteServer',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        (c) =>
          this.client.cloud.deleteServer(
            { filter: this.filter(id), wait: !!o.wait, deleteIps: !!o.deleteIps, timeoutSeconds: seconds(timeoutMs) },
            c,
          ),
      );
      return r.deleted;
    } finally {
      this.serverCache.invalidate();
    }
  }
}
