/** Tables of the proxy's shared state. Times are epoch milliseconds (bigint-safe numbers). */
export interface TokenMappingTable {
  /** HMAC-SHA-256 of the local token (hex); the token itself is never stored. */
  token_hash: string;
  /** Where the remote token is valid: a service provider id, or `via:<proxy>:<sp>` for injected mappings. */
  target_id: string;
  local_project_id: string;
  remote_project_id: string;
  /** AES-256-GCM ciphertext of the remote token (base64url: salt.iv.tag.ciphertext), key = HKDF(local token). */
  remote_token_enc: string;
  /** JSON: { [serviceType]: serviceRootUrl } from the remote catalog (not secret). */
  endpoints: string;
  /** min(local token expiry, remote token expiry). */
  expires_at: number;
  created_at: number;
}

export interface ResourceMappingTable {
  /**
   * Local project that learned it: a mapping is only followed for requests of that project (ids are not secrets,
   * and some are names: containers, or ids a client chose when creating).
   */
  project_id: string;
  /** URL collection name: servers, volumes, images, networks, ports, floatingips, containers, ... */
  resource_type: string;
  resource_id: string;
  target_id: string;
  updated_at: number;
}

export interface ProjectMappingTable {
  /** Local (home) project id. */
  local_project_id: string;
  target_id: string;
  remote_project_id: string;
}

export interface ProxyMetaTable {
  key: string;
  value: string;
}

/** Where a service provider runs a service (for services the home cloud lacks), learned from SP catalogs. */
export interface SpServiceRootTable {
  sp_id: string;
  /** Canonical service type: compute, block-storage, image, network, object-store, federation-proxy. */
  service_type: string;
  /** The service root (catalog URL without version and project), e.g. http://sp1/compute. */
  root_url: string;
  /** When this root was (last) seen in a catalog, epoch ms. */
  learned_at: number;
}

export interface ProxyDatabase {
  token_mappings: TokenMappingTable;
  project_resource_mappings: ResourceMappingTable;
  project_mappings: ProjectMappingTable;
  proxy_meta: ProxyMetaTable;
  sp_service_roots: SpServiceRootTable;
}
