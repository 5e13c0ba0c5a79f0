/**
 * Nova's server state for one cloud and its state machine. A server moves through `pending` transitions
 * (BUILD → ACTIVE, reboot, stop/start, delete, ...) that settle `ctx.transitionMs` after they start: a timer
 * settles them, and every read settles anything overdue too, so clients always see a consistent state.
 *
 * Injected failure: a server created with metadata key `devcloud:fault` ends its build in ERROR with a `fault`
 * whose message is that key's value (or a default message when empty).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CloudContext, Table } from '../context.ts';
import { InternalError } from '../context.ts';
import type { FlavorRow } from './flavors.ts';

export const FAULT_METADATA_KEY = 'devcloud:fault';
export const HOST = 'devcloud-compute';
export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4 } as const;

export interface ServerVolume {
  id: string;
  device: string;
  delete_on_termination: boolean;
  boot_index: number | null;
  attachment_id: string;
  tag: string | null;
}

export interface Fault {
  code: number;
  message: string;
  details: string;
  created: number;
}

export interface Pending {
  kind: 'build' | 'delete' | 'action';
  /** Epoch ms when it settles; Infinity while waiting for volumes to be created. */
  until: number;
  vm_state: string;
  power_state: number;
  fault?: Fault;
}

/** One entry of a server's action log (`os-instance-actions`). */
export interface InstanceAction {
  action: string;
  request_id: string;
  user_id: string;
  project_id: string;
  start: number;
  message: string | null;
  event: string;
  result: 'Success' | 'Error';
}

export interface ServerRow {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  flavor: Omit<FlavorRow, 'projects' | 'is_public' | 'disabled' | 'rxtx_factor' | 'description'>;
  image_id: string;
  key_name: string | null;
  metadata: Record<string, string>;
  created: number;
  updated: number;
  launched_at: number | null;
  terminated_at: number | null;
  availability_zone: string;
  config_drive: string;
  description: string | null;
  tags: string[];
  locked: boolean;
  locked_reason: string | null;
  access_ipv4: string;
  access_ipv6: string;
  security_groups: string[];
  fault: Fault | null;
  volumes: ServerVolume[];
  user_data: string | null;
  hostname: string;
  reservation_id: string;
  launch_index: number;
  disk_config: string;
  pending: Pending | null;
  deleted: boolean;
  deleted_at: number | null;
  /** Action log, newest last (absent on rows from older state files). */
  actions?: InstanceAction[];
}

/** Nova's event names for the actions devcloud records. */
const EVENTS: Record<string, string> = {
  create: 'compute__do_build_and_run_instance',
  delete: 'compute_terminate_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  reboot: 'compute_reboot_instance',
  pause: 'compute_pause_instance',
  unpause: 'compute_unpause_instance',
  suspend: 'compute_suspend_instance',
  resume: 'compute_resume_instance',
  rebuild: 'compute_rebuild_instance',
  attach_volume: 'compute_attach_volume',
  detach_volume: 'compute_detach_volume',
  attach_interface: 'compute_attach_interface',
  detach_interface: 'compute_detach_interface',
  lock: 'api_lock',
  unlock: 'api_unlock',
};

/** Append to a server's action log (the caller persists the row). */
export function recordAction(s: ServerRow, action: string, requestId: string, userId: string, failed = false): void {
  s.actions = s.actions ?? [];
  s.actions.push({
    action,
    request_id: requestId,
    user_id: userId,
    project_id: s.project_id,
    start: Date.now(),
    message: failed ? 'Error' : null,
    event: EVENTS[action] ?? `compute_${action}`,
    result: failed ? 'Error' : 'Success',
  });
}

export function hostId(projectId: string): string {
  return createHash('sha224')
    .update(projectId + HOST)
    .digest('hex');
}

export function randomPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Nova's status from vm_state + task_state (nova/api/openstack/common.py's state map, the parts we use). */
export function statusOf(s: ServerRow): string {
  if (s.deleted) return 'DELETED';
  switch (s.vm_state) {
    case 'building':
      return 'BUILD';
    case 'active':
      if (s.task_state === 'rebooting') return 'REBOOT';
      if (s.task_state === 'rebooting_hard') return 'HARD_REBOOT';
      if (s.task_state === 'rebuilding') return 'REBUILD';
      return 'ACTIVE';
    case 'stopped':
      if (s.task_state === 'rebooting_hard') return 'HARD_REBOOT';
      return 'SHUTOFF';
    case 'paused':
      return 'PAUSED';
    case 'suspended':
      return 'SUSPENDED';
    case 'error':
      return 'ERROR';
    default:
      return s.vm_state.toUpperCase();
  }
}

/** vm_states a `?status=` filter value selects. */
export const STATUS_FILTER: Record<string, string[]> = {
  ACTIVE: ['active'],
  BUILD: ['building'],
  SHUTOFF: ['stopped'],
  ERROR: ['error'],
  PAUSED: ['paused'],
  SUSPENDED: ['suspended'],
  DELETED: ['deleted'],
  REBOOT: ['active'],
  HARD_REBOOT: ['active', 'stopped'],
  REBUILD: ['active'],
};

export class NovaModel {
  readonly servers: Table<ServerRow>;
  readonly ctx: CloudContext;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(ctx: CloudContext) {
    this.ctx = ctx;
    this.servers = ctx.store.table<ServerRow>('nova_servers');
  }

  /** Live (not deleted) servers of a project. */
  projectServers(projectId: string): ServerRow[] {
    return this.servers.filter((s) => s.project_id === projectId && !s.deleted);
  }

  usage(projectId: string): { instances: number; cores: number; ram: number } {
    const live = this.projectServers(projectId);
    return {
      instances: live.length,
      cores: live.reduce((n, s) => n + s.flavor.vcpus, 0),
      ram: live.reduce((n, s) => n + s.flavor.ram, 0),
    };
  }

  /** Start a transition; it settles after transitionMs (or when `until` is set later for Infinity). */
  begin(s: ServerRow, p: Pending, taskState: string | null): void {
    s.pending = p;
    s.task_state = taskState;
    s.updated = Date.now();
    this.servers.put(s);
    this.schedule(s.id, p.until);
  }

  schedule(id: string, until: number): void {
    if (!Number.isFinite(until)) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        try {
          const s = this.servers.get(id);
          if (s) this.settle(s);
        } catch (e) {
          this.ctx.log.warn('nova: settling a server failed', { server: id, error: String(e) });
        }
      },
      Math.max(0, until - Date.now()),
    );
    t.unref?.();
    this.timers.add(t);
  }

  /** Apply an overdue transition. Returns the (possibly updated) row. */
  settle(s: ServerRow): ServerRow {
    const p = s.pending;
    if (!p || Date.now() < p.until) return s;
    s.pending = null;
    s.task_state = null;
    s.updated = p.until;
    if (p.kind === 'delete') {
      this.finalizeDelete(s);
      return s;
    }
    s.vm_state = p.vm_state;
    s.power_state = p.power_state;
    if (p.fault) s.fault = p.fault;
    if (p.kind === 'build' && p.vm_state === 'active' && s.launched_at === null) s.launched_at = p.until;
    this.servers.put(s);
    return s;
  }

  settleAll(rows: ServerRow[]): ServerRow[] {
    return rows.map((s) => this.settle(s));
  }

  /** Release what the server holds (ports, volumes), then keep a DELETED tombstone for changes-since. */
  finalizeDelete(s: ServerRow): void {
    const internal = this.ctx.internal;
    try {
      internal.network.releaseDevice(s.id);
    } catch (e) {
      if (!(e instanceof InternalError)) throw e;
    }
    for (const v of s.volumes) {
      try {
        internal.volumes.detach(v.id, s.id);
        if (v.delete_on_termination) internal.volumes.delete(v.id);
      } catch (e) {
        this.ctx.log.warn('nova: releasing a volume failed', { server: s.id, volume: v.id, error: String(e) });
      }
    }
    s.volumes = [];
    s.deleted = true;
    s.deleted_at = s.updated;
    s.terminated_at = s.updated;
    s.vm_state = 'deleted';
    s.power_state = POWER.NOSTATE;
    this.servers.put(s);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
