/**
 * The Synnefo dialect, kamaki style: one cloud described by an Astakos URL and a token (clouds.yaml
 * `auth_type: token`, `auth: {auth_url: …/identity/v2.0, token}`, `dialect: synnefo`). Astakos for identity,
 * projects and quotas; Cyclades creates in a chosen project and reassigns; Pithos containers in a project,
 * container reassignment, and hashmap transfers. Every call has a deadline and goes through the SDK transport.
 */
import type { CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Transport } from '../transport/types.ts';
import { PithosClient } from './pithos.ts';

export type { AstakosAccess, AstakosProject, AstakosQuotas, AstakosResource, CallOpts } from './astakos.ts';
export type { CycladesKind, PlanktonImage } from './cyclades.ts';
export { pithosBlockHash } from './pithos.ts';

/** A clouds.yaml cloud that speaks Synnefo: `dialect: synnefo`, or an auth_url at Astakos' `/identity/v2.0`. */
export function isSynnefoCloud(config: Pick<CloudConfig, 'extra' | 'auth'>): boolean {
  if (config.extra?.dialect === 'synnefo') return true;
  const url = config.auth?.auth_url;
  return typeof url === 'string' && /\/identity\/v2\.0\/?$/.test(url);
}

/** One Synnefo cloud: Astakos (astakos.ts), Cyclades (cyclades.ts), Pithos and Plankton (pithos.ts). */
export class SynnefoClient extends PithosClient {
  static fromConfig(config: CloudConfig, transport: Transport): SynnefoClient {
    const url = config.auth.auth_url;
    const token = config.auth.token;
    if (typeof url !== 'string' || !url)
      throw new OcxError(ErrorCode.CONFIG_INVALID, `Synnefo cloud ${config.name} needs auth.auth_url (Astakos)`, {
        cloud: config.name,
        key: 'auth.auth_url',
      });
    return new SynnefoClient({
      cloud: config.name,
      astakosUrl: url,
      token: typeof token === 'string' ? token : '',
      transport,
      timeoutMs: config.apiTimeout ? config.apiTimeout * 1000 : undefined,
    });
  }
}
