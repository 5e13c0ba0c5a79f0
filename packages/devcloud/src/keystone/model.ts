/**
 * Keystone's data and logic for one cloud: identity records, role assignments (with implied roles), the
 * catalog, and opaque random tokens. Routes (routes-*.ts) are thin layers over this class.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { StateStore, Table, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { authenticate } from './authenticate.ts';
import { notFound } from './errors.ts';
import type {
  AppCredential,
  Assignment,
  Domain,
  Endpoint,
  Group,
  GroupMember,
  Project,
  ProjectLimit,
  Region,
  RegisteredLimit,
  Role,
  Service,
  TokenRow,
  User,
} from './records.ts';
import { auditId, hashSecret, tokenHash } from './secrets.ts';

export type {
  AppCredential,
  Assignment,
  Domain,
  Endpoint,
  Group,
  GroupMember,
  Project,
  ProjectLimit,
  Region,
  RegisteredLimit,
  Role,
  ScopeRef,
  Service,
  TokenRow,
  User,
} from './records.ts';

export const DEFAULT_DOMAIN_ID = 'default';

/** Keystone prints times with microseconds: 2026-11-23T11:12:08.000000Z. */
export function keystoneTime(d: Date | string): string {
  const iso = (typeof d === 'string' ? new Date(d) : d).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000Z`;
}

export const newId = (): string => randomUUID().replaceAll('-', '');

export interface KeystoneOptions {
  store: StateStore;
  region: string;
  tokenTtlSeconds: number;
}

export class Keystone {
  readonly region: string;
  tokenTtlSeconds: number;
  readonly domains: Table<Domain>;
  readonly projects: Table<Project>;
  readonly users: Table<User>;
  readonly groups: Table<Group>;
  readonly groupMembers: Table<GroupMember>;
  readonly roles: Table<Role>;
  readonly assignments: Table<Assignment>;
  readonly services: Table<Service>;
  readonly endpoints: Table<Endpoint>;
  readonly regions: Table<Region>;
  readonly appCreds: Table<AppCredential>;
  readonly tokens: Table<TokenRow>;
  readonly registeredLimits: Table<RegisteredLimit>;
  readonly limits: Table<ProjectLimit>;
  /** Enabled service providers for the token's `service_providers` list (set by the IdP side). */
  serviceProviders: () => { id: string; auth_url: string; sp_url: string }[] = () => [];

  constructor(opts: KeystoneOptions) {
    const s = opts.store;
    this.region = opts.region;
    this.tokenTtlSeconds = opts.tokenTtlSeconds;
    this.domains = s.table('keystone_domains');
    this.projects = s.table('keystone_projects');
    this.users = s.table('keystone_users');
    this.groups = s.table('keystone_groups');
    this.groupMembers = s.table('keystone_group_members');
    this.roles = s.table('keystone_roles');
    this.assignments = s.table('keystone_assignments');
    this.services = s.table('keystone_services');
    this.endpoints = s.table('keystone_endpoints');
    this.regions = s.table('keystone_regions');
    this.appCreds = s.table('keystone_app_credentials');
    this.tokens = s.table('keystone_tokens');
    this.registeredLimits = s.table('keystone_registered_limits');
    this.limits = s.table('keystone_limits');
  }

  // ---------------------------------------------------------------- bootstrap

  /** Idempotent: the Default domain, roles admin→member→reader, projects admin/demo, users admin/demo, region. */
  bootstrap(
    users: { name: string; password: string; project: string; roles: string[]; defaultProject?: boolean }[],
  ): void {
    if (!this.domains.get(DEFAULT_DOMAIN_ID)) {
      this.domains.put({ id: DEFAULT_DOMAIN_ID, name: 'Default', description: 'The default domain', enabled: true });
    }
    if (!this.regions.get(this.region)) this.regions.put({ id: this.region, description: '', parent_region_id: null });
    const reader = this.ensureRole('reader', []);
    const member = this.ensureRole('member', [reader.id]);
    this.ensureRole('admin', [member.id]);
    this.ensureRole('service', []);
    for (const u of users) {
      const project = this.ensureProject(u.project, DEFAULT_DOMAIN_ID);
      let user = this.findUserByName(u.name, DEFAULT_DOMAIN_ID);
      if (!user) {
        user = {
          id: newId(),
          name: u.name,
          domain_id: DEFAULT_DOMAIN_ID,
          enabled: true,
          passwordHash: hashSecret(u.password),
          ...(u.defaultProject ? { default_project_id: project.id } : {}),
        };
        this.users.put(user);
      }
      for (const roleName of u.roles) {
        const role = this.findRoleByName(roleName);
        if (role) this.grant('user', user.id, 'project', project.id, role.id);
      }
    }
  }

  ensureRole(name: string, implies: string[]): Role {
    const existing = this.findRoleByName(name);
    if (existing) return existing;
    const role: Role = { id: newId(), name, domain_id: null, implies };
    this.roles.put(role);
    return role;
  }

  ensureProject(name: string, domainId: string): Project {
    const existing = this.projects.filter((p) => p.name === name && p.domain_id === domainId)[0];
    if (existing) return existing;
    const project: Project = {
      id: newId(),
      name,
      domain_id: domainId,
      description: '',
      enabled: true,
      parent_id: domainId,
      tags: [],
    };
    this.projects.put(project);
    return project;
  }

  ensureGroup(name: string, domainId: string): Group {
    const existing = this.groups.filter((g) => g.name === name && g.domain_id === domainId)[0];
    if (existing) return existing;
    const group: Group = { id: newId(), name, domain_id: domainId, description: '' };
    this.groups.put(group);
    return group;
  }

  createUser(args: {
    name: string;
    domainId: string;
    password?: string;
    defaultProjectId?: string;
    email?: string;
    description?: string;
    enabled?: boolean;
  }): User {
    const user: User = {
      id: newId(),
      name: args.name,
      domain_id: args.domainId,
      enabled: args.enabled ?? true,
      ...(args.password !== undefined ? { passwordHash: hashSecret(args.password) } : {}),
      ...(args.defaultProjectId ? { default_project_id: args.defaultProjectId } : {}),
      ...(args.email ? { email: args.email } : {}),
      ...(args.description ? { description: args.description } : {}),
    };
    this.users.put(user);
    return user;
  }

  setPassword(user: User, password: string): void {
    user.passwordHash = hashSecret(password);
    this.users.put(user);
  }

  grant(
    actor: 'user' | 'group',
    actorId: string,
    scope: 'project' | 'domain',
    scopeId: string,
    roleId: string,
  ): Assignment {
    const id = `${actor}:${actorId}:${scope}:${scopeId}:${roleId}`;
    const a: Assignment = { id, actor, actorId, scope, scopeId, roleId };
    this.assignments.put(a);
    return a;
  }

  /** Register (or re-point) a catalog service with public/internal/admin endpoints at `url`. */
  registerService(type: string, name: string, url: string): Service {
    let svc = this.services.filter((s) => s.type === type && s.name === name)[0];
    if (!svc) {
      svc = { id: newId(), type, name, description: '', enabled: true };
      this.services.put(svc);
    }
    const serviceId = svc.id;
    for (const iface of ['public', 'internal', 'admin'] as const) {
      const ep = this.endpoints.filter(
        (e) => e.service_id === serviceId && e.interface === iface && e.region_id === this.region,
      )[0];
      if (ep) {
        if (ep.url !== url) this.endpoints.put({ ...ep, url });
      } else {
        this.endpoints.put({
          id: newId(),
          service_id: serviceId,
          interface: iface,
          region_id: this.region,
          url,
          enabled: true,
        });
      }
    }
    return svc;
  }

  // ---------------------------------------------------------------- lookups

  findRoleByName(name: string): Role | undefined {
    return this.roles.filter((r) => r.name === name)[0];
  }
  findUserByName(name: string, domainId: string): User | undefined {
    return this.users.filter((u) => u.name === name && u.domain_id === domainId)[0];
  }
  findDomain(ref: { id?: string; name?: string } | undefined): Domain | undefined {
    if (!ref) return undefined;
    if (ref.id !== undefined) return this.domains.get(ref.id);
    if (ref.name !== undefined) return this.domains.filter((d) => d.name === ref.name)[0];
    return undefined;
  }

  /** Group ids the user belongs to (stored memberships). */
  userGroupIds(userId: string): string[] {
    return this.groupMembers.filter((m) => m.userId === userId).map((m) => m.groupId);
  }

  /** Effective role ids (direct + group + implied) of a user on a scope. */
  effectiveRoleIds(
    userId: string,
    scope: 'project' | 'domain',
    scopeId: string,
    extraGroupIds: string[] = [],
  ): string[] {
    const groups = new Set([...this.userGroupIds(userId), ...extraGroupIds]);
    const direct = this.assignments.filter(
      (a) =>
        a.scope === scope &&
        a.scopeId === scopeId &&
        ((a.actor === 'user' && a.actorId === userId) || (a.actor === 'group' && groups.has(a.actorId))),
    );
    return this.expandImplied(direct.map((a) => a.roleId));
  }

  expandImplied(roleIds: string[]): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const role = this.roles.get(id);
      if (!role) return;
      out.push(id);
      for (const implied of role.implies) visit(implied);
    };
    for (const id of roleIds) visit(id);
    return out;
  }

  /** Projects where the user (or one of the groups) has any role. */
  projectsForUser(userId: string, extraGroupIds: string[] = []): Project[] {
    const groups = new Set([...this.userGroupIds(userId), ...extraGroupIds]);
    const ids = new Set(
      this.assignments
        .filter(
          (a) =>
            a.scope === 'project' &&
            ((a.actor === 'user' && a.actorId === userId) || (a.actor === 'group' && groups.has(a.actorId))),
        )
        .map((a) => a.scopeId),
    );
    return this.projects.filter((p) => ids.has(p.id) && p.enabled);
  }

  domainsForUser(userId: string, extraGroupIds: string[] = []): Domain[] {
    const groups = new Set([...this.userGroupIds(userId), ...extraGroupIds]);
    const ids = new Set(
      this.assignments
        .filter(
          (a) =>
            a.scope === 'domain' &&
            ((a.actor === 'user' && a.actorId === userId) || (a.actor === 'group' && groups.has(a.actorId))),
        )
        .map((a) => a.scopeId),
    );
    return this.domains.filter((d) => ids.has(d.id) && d.enabled);
  }

  // ---------------------------------------------------------------- authentication
  /**
   * POST /v3/auth/tokens body → a new token (string) and its row. Throws ApiFault with Keystone's statuses.
   */
  authenticate(body: unknown): { token: string; row: TokenRow } {
    return authenticate(this, body);
  }

  /** Issue a token for an already-authenticated identity (federated login). */
  issueFederated(userId: string, federated: NonNullable<TokenRow['federated']>): { token: string; row: TokenRow } {
    const now = new Date();
    const row: TokenRow = {
      id: '',
      userId,
      methods: [federated.protocolId],
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.tokenTtlSeconds * 1000).toISOString(),
      auditIds: [auditId()],
      federated,
    };
    const token = randomBytes(32).toString('base64url');
    row.id = tokenHash(token);
    this.tokens.put(row);
    return { token, row };
  }

  private lastPrune = 0;
  /** Drop expired token rows, at most once a minute (called after each authentication). */
  pruneExpired(now: Date): void {
    if (now.getTime() - this.lastPrune < 60_000) return;
    this.lastPrune = now.getTime();
    for (const t of this.tokens.filter((r) => new Date(r.expiresAt) <= now)) this.tokens.delete(t.id);
  }

  /** The live token row, or undefined when unknown, revoked, expired, or its user/project is gone. */
  lookup(token: string): TokenRow | undefined {
    if (!token) return undefined;
    const row = this.tokens.get(tokenHash(token));
    if (!row) return undefined;
    if (new Date(row.expiresAt).getTime() <= Date.now()) return undefined;
    const user = this.users.get(row.userId);
    if (!user?.enabled) return undefined;
    if (row.projectId) {
      const p = this.projects.get(row.projectId);
      if (!p?.enabled) return undefined;
    }
    if (row.appCredId && !this.appCreds.get(row.appCredId)) return undefined;
    return row;
  }

  revoke(token: string): boolean {
    return this.tokens.delete(tokenHash(token));
  }

  /** Revoke every token of a user (password change, user disabled, app credential deleted). */
  revokeWhere(pred: (row: TokenRow) => boolean): void {
    for (const row of this.tokens.filter(pred)) this.tokens.delete(row.id);
  }

  tokenRoleIds(row: TokenRow): string[] {
    if (row.appCredId) {
      const ac = this.appCreds.get(row.appCredId);
      return ac ? this.expandImplied(ac.roleIds) : [];
    }
    const groups = row.federated?.groupIds ?? [];
    if (row.projectId) return this.effectiveRoleIds(row.userId, 'project', row.projectId, groups);
    if (row.domainId) return this.effectiveRoleIds(row.userId, 'domain', row.domainId, groups);
    return [];
  }

  /** The services' view of a token (CloudContext.validateToken). */
  tokenInfo(token: string): TokenInfo | undefined {
    const row = this.lookup(token);
    if (!row) return undefined;
    const user = this.users.get(row.userId);
    if (!user) return undefined;
    const roles = this.tokenRoleIds(row)
      .map((id) => this.roles.get(id)?.name)
      .filter((n): n is string => typeof n === 'string');
    if ((row.projectId || row.domainId) && roles.length === 0) return undefined;
    const project = row.projectId ? this.projects.get(row.projectId) : undefined;
    return {
      userId: user.id,
      userName: user.name,
      userDomainId: user.domain_id,
      ...(project ? { projectId: project.id, projectName: project.name, projectDomainId: project.domain_id } : {}),
      ...(row.domainId ? { domainId: row.domainId } : {}),
      roles,
      isAdmin: roles.includes('admin'),
      expiresAt: new Date(row.expiresAt),
      ...(row.federated
        ? {
            federated: {
              identityProvider: row.federated.idpId,
              protocol: row.federated.protocolId,
              groups: row.federated.groupIds.map((id) => this.groups.get(id)?.name ?? id),
            },
          }
        : {}),
    };
  }

  createAppCredential(args: {
    userId: string;
    projectId: string;
    name: string;
    description?: string;
    secret?: string;
    roleIds: string[];
    expiresAt?: string | null;
    unrestricted?: boolean;
  }): { cred: AppCredential; secret: string } {
    if (this.appCreds.filter((c) => c.user_id === args.userId && c.name === args.name).length > 0) {
      throw new ApiFault(409, `Conflict occurred attempting to store application_credential - Duplicate entry.`);
    }
    const secret = args.secret ?? randomBytes(48).toString('base64url');
    const cred: AppCredential = {
      id: newId(),
      name: args.name,
      description: args.description ?? '',
      user_id: args.userId,
      project_id: args.projectId,
      secretHash: hashSecret(secret),
      roleIds: args.roleIds,
      expires_at: args.expiresAt ?? null,
      unrestricted: args.unrestricted ?? false,
    };
    this.appCreds.put(cred);
    return { cred, secret };
  }

  requireProject(id: string): Project {
    const p = this.projects.get(id);
    if (!p) throw notFound('project', id);
    return p;
  }
}
