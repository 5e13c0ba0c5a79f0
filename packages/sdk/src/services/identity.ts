import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import { type ApiObject, type CallOptions, callOpts, type ListOptions, pages, seg, unwrap } from './common.ts';

export interface KeystoneProject extends ApiObject {
  id: string;
  name: string;
  domain_id: string;
  enabled?: boolean;
  description?: string;
  parent_id?: string | null;
  is_domain?: boolean;
  tags?: string[];
}

export interface KeystoneDomain extends ApiObject {
  id: string;
  name: string;
  enabled?: boolean;
  description?: string;
}

export interface KeystoneCatalogService extends ApiObject {
  id?: string;
  type: string;
  name?: string;
  endpoints: { id?: string; interface: string; region?: string; region_id?: string; url: string }[];
}

export interface KeystoneServiceProvider extends ApiObject {
  id: string;
  auth_url: string;
  sp_url: string;
  enabled?: boolean;
  description?: string | null;
  relay_state_prefix?: string;
}

/** Keystone v3. Lists follow `links.next` (present when the deployment sets a list limit). */
export class IdentityClient {
  readonly http: ServiceClient;

  constructor(http: ServiceClient) {
    this.http = http;
  }

  static fromSession(session: Session, opts?: ServiceClientOptions): IdentityClient {
    return new IdentityClient(session.client('identity', opts));
  }

  listProjects(opts?: ListOptions): AsyncIterable<KeystoneProject> {
    return pages<KeystoneProject>(this.http, '/projects', 'projects', opts, { linksKey: 'links' });
  }
  async getProject(id: string, opts?: CallOptions): Promise<KeystoneProject> {
    return unwrap(await this.http.get(`/projects/${seg(id)}`, callOpts(opts)), 'project');
  }
  /** Projects the current token's user may scope to (`GET /auth/projects`; works for federated tokens too). */
  listAuthProjects(opts?: ListOptions): AsyncIterable<KeystoneProject> {
    return pages<KeystoneProject>(this.http, '/auth/projects', 'projects', opts, { linksKey: 'links' });
  }
  listUserProjects(userId: string, opts?: ListOptions): AsyncIterable<KeystoneProject> {
    return pages<KeystoneProject>(this.http, `/users/${seg(userId)}/projects`, 'projects', opts, { linksKey: 'links' });
  }

  listDomains(opts?: ListOptions): AsyncIterable<KeystoneDomain> {
    return pages<KeystoneDomain>(this.http, '/domains', 'domains', opts, { linksKey: 'links' });
  }
  async getDomain(id: string, opts?: CallOptions): Promise<KeystoneDomain> {
    return unwrap(await this.http.get(`/domains/${seg(id)}`, callOpts(opts)), 'domain');
  }
  listAuthDomains(opts?: ListOptions): AsyncIterable<KeystoneDomain> {
    return pages<KeystoneDomain>(this.http, '/auth/domains', 'domains', opts, { linksKey: 'links' });
  }

  /** The catalog of the current token (`GET /auth/catalog`). */
  async getCatalog(opts?: CallOptions): Promise<KeystoneCatalogService[]> {
    return unwrap(await this.http.get('/auth/catalog', callOpts(opts)), 'catalog');
  }

  /** K2K service providers registered in this (IdP) Keystone. */
  listServiceProviders(opts?: ListOptions): AsyncIterable<KeystoneServiceProvider> {
    return pages<KeystoneServiceProvider>(this.http, '/OS-FEDERATION/service_providers', 'service_providers', opts, {
      linksKey: 'links',
    });
  }
  async getServiceProvider(id: string, opts?: CallOptions): Promise<KeystoneServiceProvider> {
    const res = await this.http.get(`/OS-FEDERATION/service_providers/${seg(id)}`, callOpts(opts));
    return unwrap(res, 'service_provider');
  }
}
