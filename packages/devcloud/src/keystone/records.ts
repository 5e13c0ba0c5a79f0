/** The rows Keystone stores (identity, catalog, tokens, limits) and the auth scope a request names. */

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

export interface ScopeRef {
  project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  domain?: { id?: string; name?: string };
  system?: unknown;
  'OS-TRUST:trust'?: unknown;
  service_provider?: { id?: string };
}
