// Astakos, Synnefo's identity service: the token, the service catalog, projects, memberships and quotas. The base
// of SynnefoClient (client.ts), which adds Cyclades (cyclades.ts) and Pithos/Plankton (pithos.ts).
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { registerSecret } from '../transport/redact.ts';
import type { HttpResponse, Transport } from '../transport/types.ts';

const DEFAULT_TIMEOUT_MS = 30_000;

export interface CallOpts {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface AstakosAccess {
  token: { expires: string; tenant: { id: string; name: string } };
  user: { id: string; name: string; roles?: unknown[]; projects?: string[] };
  serviceCatalog: Array<{ name: string; type: string; endpoints: Array<{ publicURL: string; versionId?: string }> }>;
}

export interface AstakosProject {
  id: string;
  name: string;
  state: string;
  description: string;
  homepage: string;
  system_project: boolean;
  owner: string | null;
  resources: Record<string, { member_capacity: number; project_capacity: number }>;
}

export type AstakosQuotas = Record<
  string,
  Record<
    string,
    {
      limit: number;
      usage: number;
      pending: number;
      project_limit: number;
      project_usage: number;
      project_pending: number;
    }
  >
>;

export interface AstakosResource {
  service: string;
  description: string;
  unit: string | null;
}

export interface SendOpts extends CallOpts {
  json?: unknown;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  auth?: boolean;
  expect?: number[];
}

export class AstakosClient {
  readonly cloud: string;
  readonly astakosUrl: string;
  readonly #token: string;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  #access: Promise<AstakosAccess> | undefined;

  constructor(init: { cloud: string; astakosUrl: string; token: string; transport: Transport; timeoutMs?: number }) {
    if (!init.token)
      throw new OcxError(ErrorCode.CONFIG_INVALID, `Synnefo cloud ${init.cloud} needs auth.token`, {
        cloud: init.cloud,
        key: 'auth.token',
      });
    registerSecret(init.token);
    this.cloud = init.cloud;
    this.astakosUrl = init.astakosUrl.replace(/\/+$/, '');
    this.#token = init.token;
    this.#transport = init.transport;
    this.#timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  protected async send(method: string, url: string, service: string, opts: SendOpts = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (opts.auth !== false) headers['x-auth-token'] = this.#token;
    let body: Uint8Array | string | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    const res = await this.#transport.request({
      method,
      url,
      headers,
      body,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs ?? this.#timeoutMs,
      context: { cloud: this.cloud, service, operation: `synnefo.${service}` },
    });
    const ok = opts.expect ? opts.expect.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) {
      const text = await res.text().catch(() => '');
      throw OcxError.from(
        { status: res.status, body: text, requestId: res.requestId },
        { cloud: this.cloud, service, method, url: url.split('?')[0] },
      );
    }
    return res;
  }

  protected async json<T>(method: string, url: string, service: string, opts: SendOpts = {}) {
    const res = await this.send(method, url, service, opts);
    return (await res.json()) as T;
  }

  /** POST /identity/v2.0/tokens with the token as the credential (kamaki `user authenticate`); cached. */
  authenticate(opts: CallOpts = {}): Promise<AstakosAccess> {
    this.#access ??= this.json<{ access: AstakosAccess }>('POST', `${this.astakosUrl}/tokens`, 'identity', {
      ...opts,
      auth: false,
      json: { auth: { token: { id: this.#token } } },
    })
      .then((b) => b.access)
      .catch((err) => {
        this.#access = undefined;
        throw err;
      });
    return this.#access;
  }

  /** A service's public URL from the Astakos catalog (account, compute, network, volume, object-store, …). */
  async endpoint(type: string, opts: CallOpts = {}): Promise<string> {
    const access = await this.authenticate(opts);
    const url = access.serviceCatalog.find((s) => s.type === type)?.endpoints[0]?.publicURL;
    if (!url)
      throw new OcxError(ErrorCode.ENDPOINT_NOT_FOUND, `the Astakos catalog of ${this.cloud} has no ${type} service`, {
        cloud: this.cloud,
        service: type,
      });
    return url.replace(/\/+$/, '');
  }

  async listProjects(opts: CallOpts = {}): Promise<AstakosProject[]> {
    return this.json('GET', `${await this.endpoint('account', opts)}/projects`, 'account', opts);
  }

  async getProject(id: string, opts: CallOpts = {}): Promise<AstakosProject> {
    return this.json(
      'GET',
      `${await this.endpoint('account', opts)}/projects/${encodeURIComponent(id)}`,
      'account',
      opts,
    );
  }

  async listMemberships(opts: CallOpts = {}): Promise<Array<Record<string, unknown>>> {
    return this.json('GET', `${await this.endpoint('account', opts)}/projects/memberships`, 'account', opts);
  }

  async getQuotas(opts: CallOpts = {}): Promise<AstakosQuotas> {
    return this.json('GET', `${await this.endpoint('account', opts)}/quotas`, 'account', opts);
  }

  async listResources(opts: CallOpts = {}): Promise<Record<string, AstakosResource>> {
    return this.json('GET', `${await this.endpoint('account', opts)}/resources`, 'account', opts);
  }

  /** kamaki `user setdefaultproject`: where creates without a project go from now on (the token's tenant). */
  async setDefaultProject(ref: string, opts: CallOpts = {}): Promise<AstakosProject> {
    const project = await this.resolveProject(ref, opts);
    const res = await this.send(
      'POST',
      `${await this.endpoint('account', opts)}/myaccount/default_project`,
      'account',
      {
        ...opts,
        json: { project_id: project.id },
      },
    );
    await res.dump();
    this.#access = undefined;
    return project;
  }

  /** Resolve a project given by id or name (system projects also by `system`). */
  async resolveProject(ref: string, opts: CallOpts = {}): Promise<AstakosProject> {
    const projects = await this.listProjects(opts);
    const hits = projects.filter((p) => p.id === ref || p.name === ref || (ref === 'system' && p.system_project));
    if (hits.length === 1) return hits[0] as AstakosProject;
    if (hits.length > 1)
      throw new OcxError(ErrorCode.AMBIGUOUS, `more than one project of ${this.cloud} is named '${ref}'`, {
        cloud: this.cloud,
      });
    throw new OcxError(ErrorCode.NOT_FOUND, `User not assigned to project with id or name "${ref}" on ${this.cloud}`, {
      cloud: this.cloud,
    });
  }
}
