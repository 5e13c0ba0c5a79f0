/** POST /v3/auth/tokens: password, token and application credential methods, scoping, the new token row. */
import { randomBytes } from 'node:crypto';
import { ApiFault } from '../fault.ts';
import { badRequest, unauthorized } from './errors.ts';
import type { Keystone } from './model.ts';
import type { AppCredential, Project, ScopeRef, TokenRow, User } from './records.ts';
import { auditId, checkSecret, tokenHash } from './secrets.ts';

function resolveUser(
  ks: Keystone,
  ref: { id?: string; name?: string; domain?: { id?: string; name?: string } } | undefined,
): User {
  if (!ref || typeof ref !== 'object') throw badRequest('Invalid input for field identity/password/user.');
  let user: User | undefined;
  if (typeof ref.id === 'string') user = ks.users.get(ref.id);
  else if (typeof ref.name === 'string') {
    const domain = ks.findDomain(ref.domain);
    if (!ref.domain)
      throw badRequest(
        'Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
      );
    if (domain) user = ks.findUserByName(ref.name, domain.id);
  } else throw badRequest('Expecting to find id or name in user.');
  if (!user?.enabled) throw unauthorized();
  return user;
}

function resolveProject(ks: Keystone, ref: NonNullable<ScopeRef['project']>): Project {
  let project: Project | undefined;
  if (typeof ref.id === 'string') project = ks.projects.get(ref.id);
  else if (typeof ref.name === 'string') {
    if (!ref.domain) throw badRequest('Expecting to find domain in project.');
    const domain = ks.findDomain(ref.domain);
    project = domain ? ks.projects.filter((p) => p.name === ref.name && p.domain_id === domain.id)[0] : undefined;
  } else throw badRequest('Expecting to find id or name in project.');
  if (!project) throw unauthorized();
  if (!project.enabled) throw unauthorized();
  return project;
}

/**
 * POST /v3/auth/tokens body → a new token (string) and its row. Throws ApiFault with Keystone's statuses.
 */
export function authenticate(ks: Keystone, body: unknown): { token: string; row: TokenRow } {
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
  let expiresAt = new Date(now.getTime() + ks.tokenTtlSeconds * 1000);
  let auditIds = [auditId()];
  let federated: TokenRow['federated'];
  let appCred: AppCredential | undefined;
  let inheritedScope: { projectId?: string; domainId?: string } | undefined;

  const method = methods[0] as string;
  if (methods.includes('password')) {
    const pw = auth.identity.password as
      | { user?: { id?: string; name?: string; domain?: { id?: string; name?: string }; password?: unknown } }
      | undefined;
    const user = resolveUser(ks, pw?.user);
    if (typeof pw?.user?.password !== 'string' || !checkSecret(pw.user.password, user.passwordHash))
      throw unauthorized();
    userId = user.id;
    tokenMethods = ['password'];
  } else if (method === 'token') {
    const tokenId = (auth.identity.token as { id?: unknown } | undefined)?.id;
    if (typeof tokenId !== 'string') throw badRequest("Invalid input for field 'identity/token/id'");
    const prior = ks.lookup(tokenId);
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
    if (typeof ac.id === 'string') appCred = ks.appCreds.get(ac.id);
    else if (typeof ac.name === 'string') {
      const user = resolveUser(ks, ac.user);
      appCred = ks.appCreds.filter((c) => c.name === ac.name && c.user_id === user.id)[0];
    }
    if (!appCred || !checkSecret(ac.secret, appCred.secretHash)) throw unauthorized();
    if (appCred.expires_at && new Date(appCred.expires_at).getTime() <= now.getTime()) throw unauthorized();
    const user = ks.users.get(appCred.user_id);
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
      const project = resolveProject(ks, scope.project);
      if (ks.effectiveRoleIds(userId, 'project', project.id, groups).length === 0) throw unauthorized();
      row.projectId = project.id;
    } else if (scope.domain) {
      const domain = ks.findDomain(scope.domain);
      if (!domain) throw unauthorized();
      if (ks.effectiveRoleIds(userId, 'domain', domain.id, groups).length === 0) throw unauthorized();
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
    const user = ks.users.get(userId);
    const def = user?.default_project_id ? ks.projects.get(user.default_project_id) : undefined;
    if (def && ks.effectiveRoleIds(userId, 'project', def.id, groups).length > 0) row.projectId = def.id;
  }
  const token = randomBytes(32).toString('base64url');
  row.id = tokenHash(token);
  ks.tokens.put(row);
  ks.pruneExpired(now);
  return { token, row };
}
