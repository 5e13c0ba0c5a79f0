/**
 * Synnefo's accounting as Astakos keeps it (snf-astakos-app astakos/im/quotas.py, astakos/quotaholder_app):
 * users, projects with per-member and per-project capacities, memberships, and holdings charged by commissions.
 * A commission is all-or-nothing: one provision over a limit rejects it with Synnefo's NoCapacityError. A
 * reassignment is one commission: minus on the old project, plus on the new.
 */
import { randomUUID } from 'node:crypto';

/** Resources as registered by Cyclades and Pithos (synnefo/api/services.py, pithos/api/services.py). */
export const SNF_RESOURCES: Record<string, { service: string; description: string; unit: string | null }> = {
  'cyclades.vm': { service: 'cyclades_compute', description: 'Number of virtual machines', unit: null },
  'cyclades.cpu': { service: 'cyclades_compute', description: 'Number of virtual machine processors', unit: null },
  'cyclades.ram': { service: 'cyclades_compute', description: 'Virtual machine memory size', unit: 'bytes' },
  'cyclades.disk': { service: 'cyclades_compute', description: 'Virtual machine disk size', unit: 'bytes' },
  'cyclades.network.private': { service: 'cyclades_network', description: 'Number of private networks', unit: null },
  'cyclades.floating_ip': { service: 'cyclades_network', description: 'Number of Floating IP addresses', unit: null },
  'pithos.diskspace': { service: 'pithos_object-store', description: 'Pithos account diskspace', unit: 'bytes' },
};

export interface SnfUser {
  uuid: string;
  /** realname */
  name: string;
  email: string;
  token: string;
  defaultProject: string;
}

export interface SnfProject {
  id: string;
  name: string;
  description: string;
  homepage: string;
  owner: string | null;
  system_project: boolean;
  state: 'active' | 'suspended' | 'terminated';
  /** resource → {member_capacity, project_capacity} */
  resources: Record<string, { member_capacity: number; project_capacity: number }>;
}

export interface SnfMembership {
  id: number;
  user: string;
  project: string;
  state: 'accepted' | 'requested';
  requested: string;
  accepted: string | null;
}

export interface Provision {
  /** The user who holds the resource. */
  user: string;
  /** The project the resource is charged to. */
  project: string;
  resource: string;
  quantity: number;
}

export class OverLimit extends Error {
  readonly provision: Provision;
  readonly limit: number;
  readonly usage: number;
  constructor(message: string, provision: Provision, limit: number, usage: number) {
    super(message);
    this.provision = provision;
    this.limit = limit;
    this.usage = usage;
  }
}

/** Sizes of the kamaki docs' system project (the seed's "Quotas per project" example). */
export const SYSTEM_DEFAULTS: Record<string, number> = {
  'cyclades.vm': 2,
  'cyclades.cpu': 2,
  'cyclades.ram': 2147483648,
  'cyclades.disk': 40 * 2 ** 30,
  'cyclades.network.private': 2,
  'cyclades.floating_ip': 1,
  'pithos.diskspace': 20522192022,
};

export class SynnefoModel {
  readonly users = new Map<string, SnfUser>();
  readonly projects = new Map<string, SnfProject>();
  readonly memberships: SnfMembership[] = [];
  /** `${project}\u0000${user}\u0000${resource}` → usage */
  readonly #holdings = new Map<string, number>();
  #serial = 0;
  #membershipId = 0;
  /** Commission serials issued, newest last (each is one accepted commission). */
  readonly commissions: Array<{ serial: number; name: string; provisions: Provision[] }> = [];

  /** A user with their system project (id = uuid, name `system:<uuid>`), as Astakos creates at sign-up. */
  addUser(args: { name: string; email: string; token?: string; uuid?: string }): SnfUser {
    const uuid = args.uuid ?? randomUUID();
    const user: SnfUser = {
      uuid,
      name: args.name,
      email: args.email,
      token: args.token ?? randomUUID().replace(/-/g, ''),
      defaultProject: uuid,
    };
    this.users.set(uuid, user);
    const resources: SnfProject['resources'] = {};
    for (const [r, v] of Object.entries(SYSTEM_DEFAULTS)) resources[r] = { member_capacity: v, project_capacity: v };
    this.projects.set(uuid, {
      id: uuid,
      name: `system:${uuid}`,
      description: `System project for user ${args.email}`,
      homepage: '',
      owner: null,
      system_project: true,
      state: 'active',
      resources,
    });
    this.#join(uuid, uuid);
    return user;
  }

  addProject(args: {
    name: string;
    description?: string;
    homepage?: string;
    owner: string;
    id?: string;
    resources: SnfProject['resources'];
    members?: string[];
  }): SnfProject {
    const p: SnfProject = {
      id: args.id ?? randomUUID(),
      name: args.name,
      description: args.description ?? '',
      homepage: args.homepage ?? '',
      owner: args.owner,
      system_project: false,
      state: 'active',
      resources: args.resources,
    };
    this.projects.set(p.id, p);
    for (const m of args.members ?? [args.owner]) this.#join(m, p.id);
    return p;
  }

  #join(user: string, project: string): void {
    const now = new Date().toISOString();
    this.memberships.push({
      id: ++this.#membershipId,
      user,
      project,
      state: 'accepted',
      requested: now,
      accepted: now,
    });
  }

  userByToken(token: string | undefined): SnfUser | undefined {
    if (!token) return undefined;
    for (const u of this.users.values()) if (u.token === token) return u;
    return undefined;
  }

  /** Projects where the user's membership is accepted and the project is active. */
  projectsOf(user: string): SnfProject[] {
    return this.memberships
      .filter((m) => m.user === user && m.state === 'accepted')
      .map((m) => this.projects.get(m.project))
      .filter((p): p is SnfProject => p !== undefined && p.state === 'active');
  }

  isMember(user: string, project: string): boolean {
    return this.projectsOf(user).some((p) => p.id === project);
  }

  usage(project: string, user: string, resource: string): number {
    return this.#holdings.get(`${project}\u0000${user}\u0000${resource}`) ?? 0;
  }

  projectUsage(project: string, resource: string): number {
    let n = 0;
    for (const [k, v] of this.#holdings) {
      const [p, , r] = k.split('\u0000');
      if (p === project && r === resource) n += v;
    }
    return n;
  }

  /**
   * Issue and accept one commission: every provision is checked against the member and project capacity
   * (after the earlier provisions of the same commission), then all are applied, or none.
   */
  commission(name: string, provisions: Provision[]): number {
    const pending = new Map<string, number>();
    const projectPending = new Map<string, number>();
    for (const pr of provisions) {
      const key = `${pr.project}\u0000${pr.user}\u0000${pr.resource}`;
      const pkey = `${pr.project}\u0000${pr.resource}`;
      const cur = pending.get(key) ?? this.usage(pr.project, pr.user, pr.resource);
      const pcur = projectPending.get(pkey) ?? this.projectUsage(pr.project, pr.resource);
      const project = this.projects.get(pr.project);
      const cap = project?.resources[pr.resource];
      if (pr.quantity > 0) {
        const member = cap?.member_capacity ?? 0;
        const whole = cap?.project_capacity ?? 0;
        if (cur + pr.quantity > member) {
          throw new OverLimit(
            `Limit for resource '${pr.resource}' exceeded for your account. Available: ${Math.max(0, member - cur)}, Requested: ${pr.quantity}`,
            pr,
            member,
            cur,
          );
        }
        if (pcur + pr.quantity > whole) {
          throw new OverLimit(
            `Limit for resource '${pr.resource}' exceeded for project ${pr.project}. Available: ${Math.max(0, whole - pcur)}, Requested: ${pr.quantity}`,
            pr,
            whole,
            pcur,
          );
        }
      }
      pending.set(key, cur + pr.quantity);
      projectPending.set(pkey, pcur + pr.quantity);
    }
    for (const [k, v] of pending) this.#holdings.set(k, v);
    const serial = ++this.#serial;
    this.commissions.push({ serial, name, provisions });
    return serial;
  }

  /** Move a resource's charges from one project to another (astakosclient issue_resource_reassignment). */
  reassign(name: string, user: string, from: string, to: string, charges: Record<string, number>): number {
    const provisions: Provision[] = [];
    for (const [resource, q] of Object.entries(charges)) {
      if (q === 0) continue;
      provisions.push({ user, project: from, resource, quantity: -q });
      provisions.push({ user, project: to, resource, quantity: q });
    }
    return this.commission(name, provisions);
  }

  /** GET /account/v1.0/quotas for one user: {project: {resource: {limit, usage, pending, project_*}}}. */
  quotasOf(user: string): Record<string, Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, Record<string, number>>> = {};
    for (const p of this.projectsOf(user)) {
      const res: Record<string, Record<string, number>> = {};
      for (const r of Object.keys(SNF_RESOURCES)) {
        const cap = p.resources[r] ?? { member_capacity: 0, project_capacity: 0 };
        res[r] = {
          limit: cap.member_capacity,
          usage: this.usage(p.id, user, r),
          pending: 0,
          project_limit: cap.project_capacity,
          project_usage: this.projectUsage(p.id, r),
          project_pending: 0,
        };
      }
      out[p.id] = res;
    }
    return out;
  }
}
