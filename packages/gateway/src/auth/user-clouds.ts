/**
 * The clouds a caller reaches, in the caller's name: the home cloud by the caller's own token (rescoped to the
 * project asked for), every service provider by K2K from that token. One MultiCloud per (token, project), shared
 * by the caller's concurrent calls and kept until the token expires (LRU-bounded); tokens are keys only as hashes.
 *
 * Clouds reached through another OCX gateway (clouds.yaml entries with `gateway:`, `gatewayClouds`) are added to
 * every caller's set, and the caller's identity crosses as it is: the caller's own (possibly rescoped) home token
 * is forwarded as that gateway's bearer. So both gateways must trust the same home Keystone; the entry's own
 * `auth` credentials are never used here — serving every caller with one account would let one user act as
 * another. A gateway that does not accept the token answers UNAUTHENTICATED, reported as that cloud's failure.
 */

import type { ValidatedToken } from '@ocx/sdk';
import {
  type AuthPlugin,
  authFromConfig,
  type CloudConfig,
  type CloudOptions,
  createSession,
  ErrorCode,
  hashKey,
  type K2KOptions,
  Keystone2Keystone,
  MultiCloud,
  OcxError,
  type SessionFactory,
} from '@ocx/sdk';
import { PresentedTokenAuth } from './presented-token.ts';

/** A project named by a request (LocationFilter.project); empty fields mean "not given". */
export interface ProjectRef {
  id: string;
  name: string;
  domainId: string;
  domainName: string;
}

export interface UserCloudsOptions {
  /** The home cloud's config (the service account's; only its auth_url, region and service settings are used). */
  home: CloudConfig;
  /** The name the home cloud has in locations (default: home.name). */
  homeName?: string | undefined;
  /** Reach the home Keystone's service providers by K2K (default true). */
  k2k?: boolean | undefined;
  /** Only these service providers (default: every one the caller's token lists). */
  serviceProviders?: readonly string[] | undefined;
  /** Per-cloud budget for connecting, ms (default 20 s). */
  connectDeadlineMs?: number | undefined;
  cloudOptions?: CloudOptions | undefined;
  /** Clouds reached through another OCX gateway (resolved clouds.yaml entries with `gateway:`). */
  gatewayClouds?: readonly CloudConfig[] | undefined;
  /** At most this many callers' MultiClouds are kept (default 200). */
  maxEntries?: number | undefined;
}

interface Entry {
  multi: Promise<MultiCloud>;
  expiresAt: number;
}

function hasProject(p: ProjectRef | undefined): p is ProjectRef {
  return !!p && !!(p.id || p.name);
}

export class UserClouds {
  readonly #opts: UserCloudsOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(opts: UserCloudsOptions) {
    this.#opts = opts;
  }

  /** The caller's clouds; PERMISSION_DENIED when the caller may not reach the project asked for. */
  async forUser(token: string, user: ValidatedToken, project?: ProjectRef): Promise<MultiCloud> {
    const asked = hasProject(project) ? project : undefined;
    const key = hashKey(['gw', token, asked ?? null]);
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) {
      this.#entries.delete(key);
      this.#entries.set(key, hit); // most recently used last
      return hit.multi;
    }
    if (hit) this.#drop(key, hit);
    const multi = this.#connect(token, user, asked);
    const entry: Entry = { multi, expiresAt: user.expiresAt };
    this.#entries.set(key, entry);
    multi.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    const max = this.#opts.maxEntries ?? 200;
    while (this.#entries.size > max) {
      const [oldKey, old] = this.#entries.entries().next().value as [string, Entry];
      this.#drop(oldKey, old);
    }
    return multi;
  }

  async #connect(token: string, user: ValidatedToken, project: ProjectRef | undefined): Promise<MultiCloud> {
    const base = this.#opts.home;
    const auth: CloudConfig['auth'] = { auth_url: base.auth.auth_url, token };
    if (project?.id) auth.project_id = project.id;
    else if (project) {
      auth.project_name = project.name;
      if (project.domainId) auth.project_domain_id = project.domainId;
      else auth.project_domain_name = project.domainName || 'Default';
    } else if (user.projectId) auth.project_id = user.projectId;
    const home: CloudConfig = { ...base, name: this.#opts.homeName ?? base.name, authType: 'v3token', auth };
    delete home.federation;
    let k2k: K2KOptions | undefined;
    if (this.#opts.k2k ?? true) {
      const remoteName = project?.name || user.projectName;
      const domainName = project ? project.domainName : user.projectDomainName;
      const domainId = project ? project.domainId : user.projectDomainId;
      k2k = {
        serviceProviders: this.#opts.serviceProviders,
        remoteProjectName: remoteName,
        remoteProjectDomainName: remoteName && domainName ? domainName : undefined,
        remoteProjectDomainId: remoteName && !domainName ? domainId : undefined,
      };
    }
    // The caller's own token as it is, unless another project was asked for (then Keystone rescopes it, and
    // refuses where the caller has no role there). K2K assertions are made from that same home token.
    const homeAuth: AuthPlugin = project
      ? authFromConfig(home)
      : new PresentedTokenAuth(String(base.auth.auth_url ?? ''), token, user);
    const sessionFactory: SessionFactory = (cloud, ctx) => {
      const fed = cloud.federation;
      // The home cloud, and clouds behind another gateway: the caller's home token, forwarded as it is.
      if (!fed) return createSession(cloud, { transport: ctx.transport, auth: homeAuth });
      const target = fed.remoteProjectId
        ? { projectId: fed.remoteProjectId }
        : {
            projectName: fed.remoteProjectName,
            projectDomainId: fed.remoteProjectDomainId,
            projectDomainName: fed.remoteProjectDomainName,
          };
      const auth = new Keystone2Keystone({ idp: homeAuth, serviceProvider: fed.serviceProvider, target });
      return createSession(cloud, { transport: ctx.transport, auth });
    };
    const multi = await MultiCloud.connect({
      home,
      clouds: [...(this.#opts.gatewayClouds ?? [])],
      k2k,
      sessionFactory,
      deadlineMs: this.#opts.connectDeadlineMs ?? 20_000,
      cloudOptions: this.#opts.cloudOptions,
    });
    const homeFailure = multi.connectFailures.find((f) => f.name === home.name);
    if (homeFailure) {
      await multi.close();
      const code = homeFailure.error.code;
      if (project && (code === ErrorCode.AUTH_FAILED || code === ErrorCode.FORBIDDEN)) {
        throw new OcxError(ErrorCode.FORBIDDEN, 'the caller may not reach the project asked for', {
          cloud: home.name,
        });
      }
      throw homeFailure.error;
    }
    return multi;
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    entry.multi.then(
      (m) => m.close(),
      () => undefined,
    );
  }

  async close(): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(all.map((e) => e.multi.then((m) => m.close())));
  }
}
