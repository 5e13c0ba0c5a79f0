// Cyclades, Synnefo's compute, network and volume service: create in a chosen project, charges, quota room and
// reassignment between projects.
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { AstakosClient, type AstakosProject, type CallOpts } from './astakos.ts';

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

/** The Cyclades resources a project can be given (kamaki's create_* with project_id, reassign_*). */
export type CycladesKind = 'server' | 'network' | 'floatingip' | 'volume';

const KIND_PATH: Record<CycladesKind, { service: string; collection: string }> = {
  server: { service: 'compute', collection: 'servers' },
  network: { service: 'network', collection: 'networks' },
  floatingip: { service: 'network', collection: 'floatingips' },
  volume: { service: 'volume', collection: 'volumes' },
};

export class CycladesClient extends AstakosClient {
  /** Create a Cyclades resource, in `project` when given (else Synnefo charges the user's default project). */
  async create(
    kind: CycladesKind,
    body: Record<string, unknown>,
    opts: CallOpts & { project?: string | undefined } = {},
  ): Promise<Record<string, unknown>> {
    const { service, collection } = KIND_PATH[kind];
    const project = opts.project ? (await this.resolveProject(opts.project, opts)).id : undefined;
    const res = await this.json<Record<string, Record<string, unknown>>>(
      'POST',
      `${await this.endpoint(service, opts)}/${collection}`,
      service,
      { ...opts, json: { [kind]: { ...body, ...(project ? { project } : {}) } } },
    );
    return res[kind] ?? {};
  }

  async get(kind: CycladesKind, id: string, opts: CallOpts = {}): Promise<Record<string, unknown>> {
    const { service, collection } = KIND_PATH[kind];
    const res = await this.json<Record<string, Record<string, unknown>>>(
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
        const flavors = await this.json<{ flavors: Array<{ id: unknown; vcpus: number; ram: number; disk: number }> }>(
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
    const res = await this.send(
      'POST',
      `${await this.endpoint(service, opts)}/${collection}/${encodeURIComponent(id)}/action`,
      service,
      { ...opts, json: { reassign: { project: dest.id } } },
    );
    await res.dump();
  }
}
