/**
 * Keystone's data and logic for one cloud: identity records, role assignments (with implied roles), the
 * catalog, and opaque random tokens. Routes (routes-*.ts) are thin layers over this class.
 */
import { createHash, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import type { StateStore, Table, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { badRequest, notFound, unauthorized } from './errors.ts';

export interface Domain {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
}
export interface Project {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  enabled: boolean;
  parent_id: string | null;
  tags: string[];
}
export interface User {
  id: string;
  name: string;
  domain_id: string;
  enabled: boolean;
  passwordHash?: string;
  default_project_id?: string;
  email?: string;
  description?: string;
  /** Shadow user made by federated login: identity provider and protocol. */
  federated?: { idpId: string; protocolId: string; uniqueId: string };
}
export interface Group {
  id: string;
  name: string;
  domain_id: string;
  description: string;
}
export interface GroupMember {
  id: string;
  groupId: string;
  userId: string;
}
export interface Role {
  id: string;
  name: string;
  domain_id: string | null;
  description?: string;
  /** Role ids this role implies (admin → member → reader). */
  implies: string[];
}
export interface Assignment {
  id: string;
  actor: 'user' | 'group';
  actorId: string;
  scope: 'project' | 'domain';
  scopeId: string;
  roleId: string;
}
export interface Service {
  id: string;
  type: string;
  name: string;
  description: string;
  enabled: boolean;
}
export interface Endpoint {
  id: string;
  service_id: string;
  interface: 'public' | 'internal' | 'admin';
  region_id: string;
  url: string;
  enabled: boolean;
}
export interface Region {
  id: string;
  description: string;
  parent_region_id: string | null;
}
export interface AppCredential {
  id: string;
  name: string;
  description: string;
  user_id: string;
  project_id: string;
  secretHash: string;
  roleIds: string[];
  expires_at: string | null;
  unrestricted: boolean;
}
export interface TokenRow {
  /** sha256 of the token: the token itself is never stored. */
  id: string;
  userId: string;
  projectId?: string;
  domainId?: string;
  methods: string[];
  issuedAt: string;
  expiresAt: string;
  auditIds: string[];
  appCredId?: string;
  federated?: { idpId: string; protocolId: string; groupIds: string[] };
}

/** Unified limits (Keystone `/v3/registered_limits`, `/v3/limits`): limits only, services count usage themselves. */
export interface RegisteredLimit {
  id: string;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  default_limit: number;
  description: string | null;
}
export interface ProjectLimit {
  id: string;
  project_id: string | null;
  domain_id: string | null;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  resource_limit: number;
  description: string | null;
}

export const DEFAULT_DOMAIN_ID = 'default';

/** Keystone prints times with microseconds: 2026-11-23T11:12:08.000000Z. */
export function keystoneTime(d: Date | string): string {
  const iso = (typeof d === 'string' ? new Date(d) : d).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000Z`;
}

export const newId = (): string => randomUUID().replaceAll('-', '');
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
const auditId = (): string => randomBytes(16).toString('base64url');

// Cheap parameters on purpose (like the real harness's bcrypt rounds = 4): a simulator, not a vault.
const SCRYPT_PARAMS = { N: 256, r: 8, p: 1 };

function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(secret, salt, 32, SCRYPT_PARAMS);
  return `scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}
function checkSecret(secret: string, stored: string | undefined): boolean {
  if (!stored) return false;
  const [, saltB64, keyB64] = stored.split('$');
  if (!saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64');
  const got = scryptSync(secret, Buffer.from(saltB64, 'base64'), expected.length, SCRYPT_PARAMS);
  return timingSafeEqual(expected, got);
}

export interface ScopeRef {
  project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  domain?: { id?: string; name?: string };
  system?: unknown;
  'OS-TRUST:trust'?: unknown;
  service_provider?: { id?: string };
}

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

  private resolveUser(ref: { id?: string; name?: string; domain?: { id?: string; name?: string } } | undefined): User {
    if (!ref || typeof ref !== 'object') throw badRequest('Invalid input for field identity/password/user.');
    let user: User | undefined;
    if (typeof ref.id === 'string') user = this.users.get(ref.id);
    else if (typeof ref.name === 'string') {
      const domain = this.findDomain(ref.domain);
      if (!ref.domain)
        throw badRequest(
          'Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
        );
      if (domain) user = this.findUserByName(ref.name, domain.id);
    } else throw badRequest('Expecting to find id or name in user.');
    if (!user?.enabled) throw unauthorized();
    return user;
  }

  private resolveProject(ref: NonNullable<ScopeRef['project']>): Project {
    let project: Project | undefined;
    if (typeof ref.id === 'string') project = this.projects.get(ref.id);
    else if (typeof ref.name === 'string') {
      if (!ref.domain) throw badRequest('Expecting to find domain in project.');
      const domain = this.findDomain(ref.domain);
      project = domain ? this.projects.filter((p) => p.name === ref.name && p.domain_id === domain.id)[0] : undefined;
    } else throw badRequest('Expecting to find id or name in project.');
    if (!project) throw unauthorized();
    if (!project.enabled) throw unauthorized();
    return project;
  }

  /**
   * POST /v3/auth/tokens body → a new token (string) and its row. Throws ApiFault with Keystone's statuses.
   */
  authenticate(body: unknown): { token: string; row: TokenRow } {
    const auth = (body as { auth?: { identity?: Record<string, unknown>; scope?: unknown } } | undefined)?.auth;
    if (!auth || typeof auth !== 'object' || !auth.identity || typeof auth.identity !== 'object') {
      throw badRequest("Invalid input for field 'identity': 'identity' is a required property");
    }
    const methods = auth.identity.methods;
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
      throw badRequest("Invalid input for field 'identity/methods'");
    }
    const scope = auth.scope as ScopeRef | 'unscoped' | undefined;
    const now = new Date();
    let userId: string;
    let tokenMethods: string[];
    let expiresAt = new Date(now.getTime() + this.tokenTtlSeconds * 1000);
    let auditIds = [auditId()];
    let federated: TokenRow['federated'];
    let appCred: AppCredential | undefined;
    let inheritedScope: { projectId?: string; domainId?: string } | undefined;

    const method = methods[0] as string;
    if (methods.includes('password')) {
      const pw = auth.identity.password as
        | { user?: { id?: string; name?: string; domain?: { id?: string; name?: string }; password?: unknown } }
        | undefined;
      const user = this.resolveUser(pw?.user);
      if (typeof pw?.user?.password !== 'string' || !checkSecret(pw.user.password, user.passwordHash))
        throw unauthorized();
      userId = user.id;
      tokenMethods = ['password'];
    } else if (method === 'token') {
      const tokenId = (auth.identity.token as { id?: unknown } | undefined)?.id;
      if (typeof tokenId !== 'string') throw badRequest("Invalid input for field 'identity/token/id'");
      const prior = this.lookup(tokenId);
      if (!prior) throw unauthorized();
      if (prior.appCredId)
        throw new ApiFault(
          403,
          'You are not authorized to perform the requested action: rescoping an application credential token.',
        );
      userId = prior.userId;
      tokenMethods = ['token', ...prior.methods.filter((m) => m !== 'token')];
      expiresAt = new Date(prior.expiresAt);
      auditIds = [auditId(), prior.auditIds[prior.auditIds.length - 1] ?? prior.auditIds[0] ?? auditId()];
      federated = prior.federated;
      inheritedScope = {
        ...(prior.projectId ? { projectId: prior.projectId } : {}),
        ...(prior.domainId ? { domainId: prior.domainId } : {}),
      };
    } else if (method === 'application_credential') {
      const ac = auth.identity.application_credential as
        | {
            id?: string;
            name?: string;
            secret?: unknown;
            user?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
          }
        | undefined;
      if (!ac || typeof ac.secret !== 'string')
        throw badRequest("Invalid input for field 'identity/application_credential'");
      if (typeof ac.id === 'string') appCred = this.appCreds.get(ac.id);
      else if (typeof ac.name === 'string') {
        const user = this.resolveUser(ac.user);
        appCred = this.appCreds.filter((c) => c.name === ac.name && c.user_id === user.id)[0];
      }
      if (!appCred || !checkSecret(ac.secret, appCred.secretHash)) throw unauthorized();
      if (appCred.expires_at && new Date(appCred.expires_at).getTime() <= now.getTime()) throw unauthorized();
      const user = this.users.get(appCred.user_id);
      if (!user?.enabled) throw unauthorized();
      userId = user.id;
      tokenMethods = ['application_credential'];
      if (scope !== undefined) throw unauthorized('Application credentials cannot request a scope.');
      inheritedScope = { projectId: appCred.project_id };
      const acExpiry = appCred.expires_at ? new Date(appCred.expires_at) : undefined;
      if (acExpiry && acExpiry < expiresAt) expiresAt = acExpiry;
    } else {
      throw unauthorized(`Attempted to authenticate with an unsupported method.`);
    }

    const row: TokenRow = {
      id: '',
      userId,
      methods: tokenMethods,
      issuedAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      auditIds,
      ...(federated ? { federated } : {}),
      ...(appCred ? { appCredId: appCred.id } : {}),
    };
    const groups = federated?.groupIds ?? [];
    if (scope && scope !== 'unscoped' && typeof scope === 'object') {
      if (scope.project) {
        const project = this.resolveProject(scope.project);
        if (this.effectiveRoleIds(userId, 'project', project.id, groups).length === 0) throw unauthorized();
        row.projectId = project.id;
      } else if (scope.domain) {
        const domain = this.findDomain(scope.domain);
        if (!domain) throw unauthorized();
        if (this.effectiveRoleIds(userId, 'domain', domain.id, groups).length === 0) throw unauthorized();
        row.domainId = domain.id;
      } else if (scope.system !== undefined) {
        throw unauthorized('System scope is not supported by devcloud.');
      } else if (scope['OS-TRUST:trust'] !== undefined) {
        throw new ApiFault(501, 'Trusts are not supported by devcloud.');
      } else {
        throw badRequest('Invalid scope.');
      }
    } else if (inheritedScope && scope === undefined) {
      Object.assign(row, inheritedScope);
    } else if (scope === undefined && tokenMethods[0] !== 'token') {
      const user = this.users.get(userId);
      const def = user?.default_project_id ? this.projects.get(user.default_project_id) : undefined;
      if (def && this.effectiveRoleIds(userId, 'project', def.id, groups).length > 0) row.projectId = def.id;
    }
    const token = randomBytes(32).toString('base64url');
    row.id = tokenHash(token);
    this.tokens.put(row);
    this.pruneExpired(now);
    return { token, row };
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
  private pruneExpired(now: Date): void {
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
