/**
 * The Synnefo dialect, kamaki style: one cloud described by an Astakos URL and a token (clouds.yaml
 * `auth_type: token`, `auth: {auth_url: …/identity/v2.0, token}`, `dialect: synnefo`). Astakos for identity,
 * projects and quotas; Cyclades creates in a chosen project and reassigns; Pithos containers in a project,
 * container reassignment, and hashmap transfers. Every call has a deadline and goes through the SDK transport.
 */
import { createHash } from 'node:crypto';
import type { CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { errorFromStatus } from '../errors/from-response.ts';
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

interface SendOpts extends CallOpts {
  json?: unknown;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  auth?: boolean;
  expect?: number[];
}

/** The Cyclades resources a project can be given (kamaki's create_* with project_id, reassign_*). */
/** A Plankton image (Synnefo's image API guide; `GET /images/` gives only id, name, formats, size, status). */
export interface PlanktonImage {
  id: string;
  name: string;
  size: number;
  status: string;
  disk_format: string;
  container_format: string;
  owner?: string;
  location?: string;
  checksum?: string;
  is_public?: boolean;
  created_at?: string;
  updated_at?: string;
  properties?: Record<string, string>;
}

export type CycladesKind = 'server' | 'network' | 'floatingip' | 'volume';

const KIND_PATH: Record<CycladesKind, { service: string; collection: string }> = {
  server: { service: 'compute', collection: 'servers' },
  network: { service: 'network', collection: 'networks' },
  floatingip: { service: 'network', collection: 'floatingips' },
  volume: { service: 'volume', collection: 'volumes' },
};

/** A clouds.yaml cloud that speaks Synnefo: `dialect: synnefo`, or an auth_url at Astakos' `/identity/v2.0`. */
export function isSynnefoCloud(config: Pick<CloudConfig, 'extra' | 'auth'>): boolean {
  if (config.extra?.dialect === 'synnefo') return true;
  const url = config.auth?.auth_url;
  return typeof url === 'string' && /\/identity\/v2\.0\/?$/.test(url);
}

/** Pithos' block hash: the digest of the block after its trailing NUL bytes are stripped (kamaki _pithos_hash). */
export function pithosBlockHash(block: Uint8Array, algorithm = 'sha256'): string {
  let end = block.length;
  while (end > 0 && block[end - 1] === 0) end--;
  return createHash(algorithm).update(block.subarray(0, end)).digest('hex');
}

export class SynnefoClient {
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

  async #send(method: string, url: string, service: string, opts: SendOpts = {}): Promise<HttpResponse> {
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
      throw errorFromStatus(res.status, text, {
        cloud: this.cloud,
        service,
        method,
        url: url.split('?')[0],
        requestId: res.requestId,
      });
    }
    return res;
  }

  async #json<T>(method: string, url: string, service: string, opts: SendOpts = {}) {
    const res = await this.#send(method, url, service, opts);
    return (await res.json()) as T;
  }

  /** POST /identity/v2.0/tokens with the token as the credential (kamaki `user authenticate`); cached. */
  authenticate(opts: CallOpts = {}): Promise<AstakosAccess> {
    this.#access ??= this.#json<{ access: AstakosAccess }>('POST', `${this.astakosUrl}/tokens`, 'identity', {
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
    return this.#json('GET', `${await this.endpoint('account', opts)}/projects`, 'account', opts);
  }

  async getProject(id: string, opts: CallOpts = {}): Promise<AstakosProject> {
    return this.#json(
      'GET',
      `${await this.endpoint('account', opts)}/projects/${encodeURIComponent(id)}`,
      'account',
      opts,
    );
  }

  async listMemberships(opts: CallOpts = {}): Promise<Array<Record<string, unknown>>> {
    return this.#json('GET', `${await this.endpoint('account', opts)}/projects/memberships`, 'account', opts);
  }

  async getQuotas(opts: CallOpts = {}): Promise<AstakosQuotas> {
    return this.#json('GET', `${await this.endpoint('account', opts)}/quotas`, 'account', opts);
  }

  async listResources(opts: CallOpts = {}): Promise<Record<string, AstakosResource>> {
    return this.#json('GET', `${await this.endpoint('account', opts)}/resources`, 'account', opts);
  }

  /** kamaki `user setdefaultproject`: where creates without a project go from now on (the token's tenant). */
  async setDefaultProject(ref: string, opts: CallOpts = {}): Promise<AstakosProject> {
    const project = await this.resolveProject(ref, opts);
    const res = await this.#send(
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

  /** Create a Cyclades resource, in `project` when given (else Synnefo charges the user's default project). */
  async create(
    kind: CycladesKind,
    body: Record<string, unknown>,
    opts: CallOpts & { project?: string | undefined } = {},
  ): Promise<Record<string, unknown>> {
    const { service, collection } = KIND_PATH[kind];
    const project = opts.project ? (await this.resolveProject(opts.project, opts)).id : undefined;
    const res = await this.#json<Record<string, Record<string, unknown>>>(
      'POST',
      `${await this.endpoint(service, opts)}/${collection}`,
      service,
      { ...opts, json: { [kind]: { ...body, ...(project ? { project } : {}) } } },
    );
    return res[kind] ?? {};
  }

  async get(kind: CycladesKind, id: string, opts: CallOpts = {}): Promise<Record<string, unknown>> {
    const { service, collection } = KIND_PATH[kind];
    const res = await this.#json<Record<string, Record<string, unknown>>>(
      'GET',
      `${await this.endpoint(service, opts)}/${collection}/${encodeURIComponent(id)}`,
      service,
      opts,
    );
    return res[kind] ?? {};
  }

  /** What a Cyclades resource is charged for (the quotaholder's view), for the destination check of a reassign. */
  async #charges(kind: CycladesKind, item: Record<string, unknown>, opts: CallOpts): Promise<Record<string, number>> {
    switch (kind) {
      case 'floatingip':
        return { 'cyclades.floating_ip': 1 };
      case 'network':
        return { 'cyclades.network.private': 1 };
      case 'volume':
        return { 'cyclades.disk': Number(item.size ?? 0) * 2 ** 30 };
      case 'server': {
        const flavorId = String((item.flavor as { id?: unknown } | undefined)?.id ?? '');
        const flavors = await this.#json<{ flavors: Array<{ id: unknown; vcpus: number; ram: number; disk: number }> }>(
          'GET',
          `${await this.endpoint('compute', opts)}/flavors/detail`,
          'compute',
          opts,
        );
        const f = flavors.flavors.find((x) => String(x.id) === flavorId);
        if (!f) return { 'cyclades.vm': 1 };
        return {
          'cyclades.vm': 1,
          'cyclades.cpu': f.vcpus,
          'cyclades.ram': f.ram * 2 ** 20,
          'cyclades.disk': f.disk * 2 ** 30,
        };
      }
    }
  }

  /** Fail before changing anything when `charges` would not fit the user's room in `project`. */
  async checkRoom(project: AstakosProject, charges: Record<string, number>, opts: CallOpts = {}): Promise<void> {
    const quotas = (await this.getQuotas(opts))[project.id] ?? {};
    for (const [resource, amount] of Object.entries(charges)) {
      const q = quotas[resource];
      if (!q || amount <= 0) continue;
      const room = Math.min(q.limit - q.usage - q.pending, q.project_limit - q.project_usage - q.project_pending);
      if (amount > room)
        throw new OcxError(
          ErrorCode.OVER_QUOTA,
          `project '${project.name}' has room for ${Math.max(0, room)} of ${resource}, ${amount} needed; nothing was changed`,
          { cloud: this.cloud, service: 'account' },
        );
    }
  }

  /** Synnefo's `reassign` action, after checking that the destination project has room. */
  async reassign(kind: CycladesKind, id: string, project: string, opts: CallOpts = {}): Promise<void> {
    const { service, collection } = KIND_PATH[kind];
    const dest = await this.resolveProject(project, opts);
    const item = await this.get(kind, id, opts);
    if (item.tenant_id === dest.id) return;
    await this.checkRoom(dest, await this.#charges(kind, item, opts), opts);
    const res = await this.#send(
      'POST',
      `${await this.endpoint(service, opts)}/${collection}/${encodeURIComponent(id)}/action`,
      service,
      { ...opts, json: { reassign: { project: dest.id } } },
    );
    await res.dump();
  }

  // ---- Pithos -----------------------------------------------------------------------------------------------

  /**
   * Plankton images the user can see (their own and public ones): `GET /images/detail` (every field) or, with
   * `detail: false`, `GET /images/` (id, name, formats, size, status). Plankton answers a bare JSON list.
   */
  async listImages(opts: CallOpts & { detail?: boolean } = {}): Promise<PlanktonImage[]> {
    const base = await this.endpoint('image', opts);
    const list = await this.#json<unknown>(
      'GET',
      `${base}/images/${opts.detail === false ? '' : 'detail'}`,
      'image',
      opts,
    );
    return Array.isArray(list) ? (list as PlanktonImage[]) : [];
  }

  /**
   * Register a file already in Pithos as an image (kamaki `image register NAME CONTAINER:PATH`): `PUT /images/`
   * with the name and `pithos://<uuid>/<container>/<path>` as headers; the image comes back as `X-Image-Meta-*`.
   * The image takes no quota of its own: its bytes are the file's `pithos.diskspace`, in the container's project.
   */
  async registerImage(
    name: string,
    container: string,
    path: string,
    opts: CallOpts & { public?: boolean; properties?: Record<string, string> } = {},
  ): Promise<PlanktonImage> {
    const access = await this.authenticate(opts);
    const headers: Record<string, string> = {
      'x-image-meta-name': name,
      'x-image-meta-location': `pithos://${access.user.id}/${container}/${path}`,
    };
    if (opts.public !== undefined) headers['x-image-meta-is-public'] = String(opts.public);
    for (const [k, v] of Object.entries(opts.properties ?? {})) headers[`x-image-meta-property-${k}`] = v;
    const res = await this.#send('PUT', `${await this.endpoint('image', opts)}/images/`, 'image', {
      ...opts,
      headers,
    });
    await res.dump();
    const meta = (k: string) => res.headers.get(`x-image-meta-${k}`) ?? '';
    const properties: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k.startsWith('x-image-meta-property-')) properties[k.slice('x-image-meta-property-'.length)] = v;
    });
    return {
      id: meta('id'),
      name: meta('name'),
      owner: meta('owner'),
      location: meta('location'),
      size: Number(meta('size') || 0),
      checksum: meta('checksum'),
      disk_format: meta('disk-format'),
      container_format: meta('container-format'),
      is_public: meta('is-public') === 'true',
      status: meta('status'),
      created_at: meta('created-at'),
      updated_at: meta('updated-at'),
      properties,
    };
  }

  async #accountUrl(opts: CallOpts): Promise<string> {
    const access = await this.authenticate(opts);
    return `${await this.endpoint('object-store', opts)}/${encodeURIComponent(access.user.id)}`;
  }

  async #containerUrl(container: string, opts: CallOpts): Promise<string> {
    return `${await this.#accountUrl(opts)}/${encodeURIComponent(container)}`;
  }

  #objectUrl(containerUrl: string, name: string): string {
    return `${containerUrl}/${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  async createContainer(name: string, opts: CallOpts & { project?: string | undefined } = {}): Promise<void> {
    const headers: Record<string, string> = {};
    if (opts.project) headers['x-container-policy-project'] = (await this.resolveProject(opts.project, opts)).id;
    const res = await this.#send('PUT', await this.#containerUrl(name, opts), 'object-store', { ...opts, headers });
    await res.dump();
  }

  /** Container HEAD: project, block size and hash, bytes and objects. */
  async getContainer(
    name: string,
    opts: CallOpts = {},
  ): Promise<{ project: string; blockSize: number; blockHash: string; bytes: number; objects: number }> {
    const res = await this.#send('HEAD', await this.#containerUrl(name, opts), 'object-store', opts);
    await res.dump();
    const h = res.headers;
    return {
      project: h.get('x-container-policy-project') ?? '',
      blockSize: Number(h.get('x-container-block-size') ?? 4194304),
      blockHash: h.get('x-container-block-hash') ?? 'sha256',
      bytes: Number(h.get('x-container-bytes-used') ?? 0),
      objects: Number(h.get('x-container-object-count') ?? 0),
    };
  }

  /** Move a container (and the pithos.diskspace it uses) to another project, after checking that it fits. */
  async reassignContainer(name: string, project: string, opts: CallOpts = {}): Promise<void> {
    const dest = await this.resolveProject(project, opts);
    const cur = await this.getContainer(name, opts);
    if (cur.project === dest.id) return;
    await this.checkRoom(dest, { 'pithos.diskspace': cur.bytes }, opts);
    const res = await this.#send('POST', `${await this.#containerUrl(name, opts)}?update`, 'object-store', {
      ...opts,
      headers: { 'x-container-policy-project': dest.id },
    });
    await res.dump();
  }

  /**
   * Upload by hashmap (kamaki upload_object): block size and hash from the container, blocks hashed after their
   * trailing NULs are stripped, PUT the hashmap, send only the blocks a 409 says are missing, PUT it again.
   * Re-uploading an unchanged file sends no blocks.
   */
  async upload(
    container: string,
    name: string,
    data: Uint8Array,
    opts: CallOpts & { contentType?: string } = {},
  ): Promise<{ blocks: number; blocksSent: number; bytes: number }> {
    return this.uploadBlocks(container, name, data.length, (at, size) => data.subarray(at, at + size), opts);
  }

  /**
   * The same for content read block by block: `read(offset, blockSize)` gives the block at `offset`. Since trailing
   * NULs do not count, a block of NULs may be given as an empty array (a sparse file costs no memory).
   */
  async uploadBlocks(
    container: string,
    name: string,
    size: number,
    read: (offset: number, blockSize: number) => Uint8Array,
    opts: CallOpts & { contentType?: string } = {},
  ): Promise<{ blocks: number; blocksSent: number; bytes: number }> {
    const info = await this.getContainer(container, opts);
    const curl = await this.#containerUrl(container, opts);
    const hashes: string[] = [];
    for (let at = 0; at < size; at += info.blockSize)
      hashes.push(pithosBlockHash(read(at, info.blockSize), info.blockHash));
    const putMap = () =>
      this.#send('PUT', `${this.#objectUrl(curl, name)}?hashmap&format=json`, 'object-store', {
        ...opts,
        json: { bytes: size, hashes },
        headers: { 'content-type': opts.contentType ?? 'application/octet-stream' },
        expect: [201, 409],
      });
    const first = await putMap();
    if (first.status === 201) {
      await first.dump();
      return { blocks: hashes.length, blocksSent: 0, bytes: size };
    }
    const missing = new Set((await first.json<string[]>()) ?? []);
    let sent = 0;
    for (const [i, hash] of hashes.entries()) {
      if (!missing.has(hash)) continue;
      missing.delete(hash);
      const res = await this.#send('POST', `${curl}?update&format=json`, 'object-store', {
        ...opts,
        body: read(i * info.blockSize, info.blockSize),
        headers: { 'content-type': 'application/octet-stream' },
      });
      const stored = await res.json<string[]>();
      if (stored?.[0] !== hash)
        throw new OcxError(ErrorCode.INVALID_RESPONSE, `Pithos stored block ${stored?.[0]} for ${hash}`, {
          cloud: this.cloud,
          service: 'object-store',
        });
      sent++;
    }
    const second = await putMap();
    if (second.status !== 201) {
      const still = await second.text();
      throw new OcxError(ErrorCode.CONFLICT, `Pithos still misses blocks after upload: ${still.slice(0, 200)}`, {
        cloud: this.cloud,
        service: 'object-store',
      });
    }
    await second.dump();
    return { blocks: hashes.length, blocksSent: sent, bytes: size };
  }

  /** The object's hashmap: `{block_hash, block_size, hashes, bytes}`. */
  async getHashmap(
    container: string,
    name: string,
    opts: CallOpts = {},
  ): Promise<{ block_hash: string; block_size: number; hashes: string[]; bytes: number }> {
    const curl = await this.#containerUrl(container, opts);
    return this.#json('GET', `${this.#objectUrl(curl, name)}?hashmap&format=json`, 'object-store', opts);
  }

  /** Download and check every block against the object's hashmap (INVALID_RESPONSE on a mismatch). */
  async download(container: string, name: string, opts: CallOpts = {}): Promise<Uint8Array> {
    const map = await this.getHashmap(container, name, opts);
    const curl = await this.#containerUrl(container, opts);
    const res = await this.#send('GET', this.#objectUrl(curl, name), 'object-store', opts);
    const data = await res.bytes();
    if (data.length !== map.bytes)
      throw new OcxError(ErrorCode.INVALID_RESPONSE, `got ${data.length} bytes, the hashmap says ${map.bytes}`, {
        cloud: this.cloud,
        service: 'object-store',
      });
    for (const [i, hash] of map.hashes.entries()) {
      const block = data.subarray(i * map.block_size, (i + 1) * map.block_size);
      if (pithosBlockHash(block, map.block_hash) !== hash)
        throw new OcxError(ErrorCode.INVALID_RESPONSE, `block ${i} of ${container}/${name} does not match its hash`, {
          cloud: this.cloud,
          service: 'object-store',
        });
    }
    return data;
  }
}
