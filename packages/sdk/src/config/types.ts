/**
 * The resolved configuration of one cloud + region, as the rest of the SDK consumes it.
 * Produced by the clouds.yaml loader (config/loader.ts) from clouds.yaml + secure.yaml + clouds-public.yaml
 * + OS_* environment; or built by hand (tests, the proxy, devcloud's writer).
 * Keys keep openstacksdk's snake_case names inside `auth` (they are what users write in clouds.yaml).
 */
export interface AuthConfig {
  auth_url?: string;
  username?: string;
  user_id?: string;
  password?: string;
  user_domain_name?: string;
  user_domain_id?: string;
  project_name?: string;
  project_id?: string;
  project_domain_name?: string;
  project_domain_id?: string;
  domain_name?: string;
  domain_id?: string;
  /** token / v3token auth_type. */
  token?: string;
  application_credential_id?: string;
  application_credential_name?: string;
  application_credential_secret?: string;
  system_scope?: string;
  [extra: string]: unknown;
}

export type AuthType =
  | 'password'
  | 'v3password'
  | 'token'
  | 'v3token'
  | 'v3applicationcredential'
  | 'applicationcredential';

export type Interface = 'public' | 'internal' | 'admin';

/** Per-service settings: `<service>_api_version`, `<service>_endpoint_override`, ... keyed by canonical service type. */
export interface ServiceConfig {
  apiVersion?: string;
  endpointOverride?: string;
  /** `<service>_service_type`: the type to look for in the catalog instead (e.g. `rax:database`). */
  serviceType?: string;
  serviceName?: string;
  interface?: Interface;
  /** `<service>_default_microversion`. */
  defaultMicroversion?: string;
}

/** Keystone-to-Keystone: reach this cloud through a service provider registered in a home (IdP) cloud. */
export interface FederationConfig {
  /** The clouds.yaml name of the home cloud whose Keystone is the IdP. */
  homeCloud: string;
  /** The service provider id registered in the home Keystone. */
  serviceProvider: string;
  remoteProjectName?: string;
  remoteProjectId?: string;
  remoteProjectDomainName?: string;
  remoteProjectDomainId?: string;
  /** The home cloud, resolved (set by the loader and by k2kCloudConfig). */
  home?: CloudConfig;
}

/**
 * An OCX gRPC gateway this cloud is reached through (clouds.yaml `gateway:`): the cloud layer talks gRPC to it
 * instead of REST to the cloud. The cloud's `auth` still logs in to the home Keystone the gateway trusts; the
 * token goes to the gateway as `authorization: Bearer`.
 */
export interface GatewayConfig {
  /** http://host:port (gRPC over h2c, loopback) or https://host:port (TLS). */
  url: string;
  /** The gateway's name of the one cloud this entry stands for (default: this entry's name). */
  cloud: string;
  /** The gateway cloud's region (default '': whatever region the gateway reaches it in; `region_name` of this
   * entry is the home Keystone's). */
  region: string;
  /** TLS to the gateway: false disables verification; a string is a CA bundle path (`cacert`). */
  verify: boolean | string;
  /** mTLS: client certificate and key paths. */
  cert?: string;
  key?: string;
}

export interface CloudConfig {
  /** clouds.yaml key (or 'envvars'). */
  name: string;
  /** The region this config is resolved for ('' when the cloud names none). */
  regionName: string;
  /** All regions the cloud declares (names only). */
  regions: string[];
  authType: AuthType;
  auth: AuthConfig;
  interface: Interface;
  identityApiVersion: string;
  /** Keyed by canonical service type: identity, compute, block-storage, image, network, object-store, ... */
  services: Record<string, ServiceConfig>;
  /** TLS: false disables verification; a string is a CA bundle path (from `cacert`). */
  verify: boolean | string;
  cert?: string;
  key?: string;
  /** Seconds, as in clouds.yaml; undefined means the SDK default. */
  apiTimeout?: number;
  federation?: FederationConfig;
  /** Set when the cloud is reached through an OCX gateway (clouds.yaml `gateway:`). */
  gateway?: GatewayConfig;
  /** Where the values came from, for error messages: file path per top-level source. */
  sourceFile?: string;
  /** Keys the SDK does not interpret, kept for callers (networks, image_format, floating_ip_source, ...). */
  extra: Record<string, unknown>;
}
