/**
 * K2K started beside a new token's validation. The IdP's ECP assertion needs nothing but the user's token (the IdP
 * checks the token itself and refuses an invalid one), and it names the token's project and project domain
 * (Keystone's `openstack_project` / `openstack_project_domain` attributes), so the whole exchange at a service
 * provider — envelope, federated login, rescope to the project of that name — can run while the proxy's own
 * validation is still out. Its result is only handed to an exchange for the very same token (keyed by the token,
 * in memory, taken once), after that token validated, and only when it is what that exchange would choose: the
 * caller checks the asserted project against the validated one. At most MAX_EARLY wait at once, so a flood of
 * unknown tokens costs the IdP no more than that; an unused one goes after EARLY_TTL_MS.
 */

import { k2kAtServiceProvider, requestEcpAssertion, type Transport } from '@ocx/sdk';
import { DOMParser } from '@xmldom/xmldom';
import type { RemoteToken } from './k2k.ts';
import { rootsFromCatalog, type ServiceProviderRef } from './keystone.ts';

const EARLY_TTL_MS = 30_000;
const MAX_EARLY = 256;
const SAML2_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

export interface EarlyExchange {
  /** The assertion, when it could not be taken further here (its project unreadable): the exchange starts at the SP. */
  envelope?: string | undefined;
  /** The project and domain names the IdP asserted, and the SP token scoped to that project. */
  asserted?: { project: string; domain: string } | undefined;
  remote?: RemoteToken | undefined;
}

/** The project and project domain names a Keystone SAML assertion carries, or undefined. */
export function assertedProject(envelope: string): { project: string; domain: string } | undefined {
  const quiet = { warning: () => undefined, error: () => undefined, fatalError: () => undefined };
  const doc = new DOMParser({ errorHandler: quiet }).parseFromString(envelope, 'text/xml');
  const values = new Map<string, string>();
  const attrs = doc?.getElementsByTagNameNS(SAML2_ASSERTION, 'Attribute');
  for (let i = 0; attrs && i < attrs.length; i++) {
    const a = attrs.item(i)!;
    const name = a.getAttribute('Name');
    const v = a.getElementsByTagNameNS(SAML2_ASSERTION, 'AttributeValue').item(0)?.textContent?.trim();
    if (name && v && !values.has(name)) values.set(name, v);
  }
  const project = values.get('openstack_project');
  const domain = values.get('openstack_project_domain');
  return project && domain ? { project, domain } : undefined;
}

export function remoteTokenOf(access: {
  token: string;
  expiresAt: Date;
  project?: { id: string; name?: string | undefined } | undefined;
  catalog: Parameters<typeof rootsFromCatalog>[0];
}): RemoteToken | undefined {
  if (!access.project) return undefined;
  return {
    token: access.token,
    expiresAt: access.expiresAt,
    projectId: access.project.id,
    projectName: access.project.name,
    endpoints: rootsFromCatalog(access.catalog),
  };
}

export class EarlyK2K {
  private readonly entries = new Map<string, { p: Promise<EarlyExchange | undefined>; at: number }>();

  private readonly identityUrl: string;
  private readonly transport: Transport;

  constructor(identityUrl: string, transport: Transport) {
    this.identityUrl = identityUrl;
    this.transport = transport;
  }

  /** Start the exchange of `localToken` with each of `sps` (one per token and SP). */
  start(localToken: string, sps: ServiceProviderRef[], deadline: number): void {
    const now = Date.now();
    for (const [k, v] of this.entries) if (now - v.at > EARLY_TTL_MS) this.entries.delete(k);
    for (const sp of sps) {
      const key = `${sp.id}|${localToken}`;
      if (this.entries.has(key) || this.entries.size >= MAX_EARLY) continue;
      this.entries.set(key, { p: this.run(localToken, sp, deadline), at: now });
    }
  }

  /** The exchange started for exactly this token and SP, once (undefined: none, or too old). */
  take(localToken: string, spId: string): Promise<EarlyExchange | undefined> | undefined {
    const key = `${spId}|${localToken}`;
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    return Date.now() - e.at > EARLY_TTL_MS ? undefined : e.p;
  }

  /** Never rejects: whatever fails here, the exchange after validation runs in full and reports it. */
  private async run(localToken: string, sp: ServiceProviderRef, deadline: number): Promise<EarlyExchange | undefined> {
    try {
      const ctx = { transport: this.transport, deadline, cloud: sp.id };
      const envelope = await requestEcpAssertion(ctx, this.identityUrl, localToken, sp.id);
      if (!envelope) return undefined;
      const asserted = assertedProject(envelope);
      if (!asserted) return { envelope };
      const access = await k2kAtServiceProvider(
        sp,
        envelope,
        { projectName: asserted.project, projectDomainName: asserted.domain },
        ctx,
      );
      const remote = remoteTokenOf(access);
      return remote ? { asserted, remote } : undefined;
    } catch {
      return undefined;
    }
  }
}
