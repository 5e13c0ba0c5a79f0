// Pithos, Synnefo's object store (containers in a project, reassignment, hashmap transfers), and the Plankton
// images registered on it.
import { createHash } from 'node:crypto';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { CallOpts } from './astakos.ts';
import { CycladesClient, type PlanktonImage } from './cyclades.ts';

/** Pithos' block hash: the digest of the block after its trailing NUL bytes are stripped (kamaki _pithos_hash). */
export function pithosBlockHash(block: Uint8Array, algorithm = 'sha256'): string {
  let end = block.length;
  while (end > 0 && block[end - 1] === 0) end--;
  return createHash(algorithm).update(block.subarray(0, end)).digest('hex');
}

export class PithosClient extends CycladesClient {
  /**
   * Plankton images the user can see (their own and public ones): `GET /images/detail` (every field) or, with
   * `detail: false`, `GET /images/` (id, name, formats, size, status). Plankton answers a bare JSON list.
   */
  async listImages(opts: CallOpts & { detail?: boolean } = {}): Promise<PlanktonImage[]> {
    const base = await this.endpoint('image', opts);
    const list = await this.json<unknown>(
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
    const res = await this.send('PUT', `${await this.endpoint('image', opts)}/images/`, 'image', {
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
    const res = await this.send('PUT', await this.#containerUrl(name, opts), 'object-store', { ...opts, headers });
    await res.dump();
  }

  /** Container HEAD: project, block size and hash, bytes and objects. */
  async getContainer(
    name: string,
    opts: CallOpts = {},
  ): Promise<{ project: string; blockSize: number; blockHash: string; bytes: number; objects: number }> {
    const res = await this.send('HEAD', await this.#containerUrl(name, opts), 'object-store', opts);
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
    const res = await this.send('POST', `${await this.#containerUrl(name, opts)}?update`, 'object-store', {
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
      this.send('PUT', `${this.#objectUrl(curl, name)}?hashmap&format=json`, 'object-store', {
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
      const res = await this.send('POST', `${curl}?update&format=json`, 'object-store', {
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
    return this.json('GET', `${this.#objectUrl(curl, name)}?hashmap&format=json`, 'object-store', opts);
  }

  /** Download and check every block against the object's hashmap (INVALID_RESPONSE on a mismatch). */
  async download(container: string, name: string, opts: CallOpts = {}): Promise<Uint8Array> {
    const map = await this.getHashmap(container, name, opts);
    const curl = await this.#containerUrl(container, opts);
    const res = await this.send('GET', this.#objectUrl(curl, name), 'object-store', opts);
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
