/**
 * Remote tokens for a user at a service provider. `RemoteTokenSource` is the seam; the implementation is
 * `SdkK2KTokenSource` (sdk-k2k.ts: Keystone-to-Keystone through the SDK's Keystone2Keystone plugin, with the
 * user's own home token), tests and other federation mechanisms may supply their own.
 *
 * The remote project is chosen deterministically: an explicit id (MM-PROJECT-ID or a configured mapping), else
 * the project with the same name as the local one (same domain name preferred), else none — never "the first".
 */
import type { ServiceProviderRef } from './keystone.ts';

export interface RemoteTokenRequest {
  /** The user's token at the home Keystone (project-scoped). Never logged. */
  localToken: string;
  /** The local token's project (the IdP token must stay scoped to it). */
  localProjectId?: string | undefined;
  localProjectName: string | undefined;
  localProjectDomainName: string | undefined;
  /** The validated local token's user and expiry (when known, the token serves as the IdP token as it is). */
  localUserId?: string | undefined;
  localExpiresAt?: Date | undefined;
  sp: ServiceProviderRef;
  /** Use exactly this remote project (MM-PROJECT-ID header or configured mapping). */
  remoteProjectId?: string | undefined;
  /**
   * Only the SP's catalog is wanted (the proxy's own service-root discovery, never a user's requests): when no
   * project has the local project's name, the federated user's only project will do.
   */
  catalogOnly?: boolean | undefined;
  deadline: number;
  signal?: AbortSignal | undefined;
}

export interface RemoteToken {
  token: string;
  expiresAt: Date;
  projectId: string;
  projectName: string | undefined;
  /** serviceType → service root at the SP (from the scoped token's catalog). */
  endpoints: Record<string, string>;
}

export interface RemoteTokenSource {
  obtain(req: RemoteTokenRequest): Promise<RemoteToken>;
  /** Optional: start what of a later obtain() for this token needs only the token (SdkK2KTokenSource: the ECP). */
  prefetch?(localToken: string, sps: ServiceProviderRef[], deadline: number): void;
}
