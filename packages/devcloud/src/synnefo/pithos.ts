/**
 * Pithos object storage: Swift-compatible account/container/object calls plus Synnefo's policies and hashmaps
 * (docs/object-api-guide.rst; snf-pithos-app pithos/api/functions.py, util.py; backends/modular.py):
 * - account HEAD/GET: X-Account-Bytes-Used, X-Account-Container-Count, X-Account-Policy-Quota-<project> per
 *   project the user draws pithos.diskspace from, X-Account-Policy-Quota (their sum);
 * - containers carry X-Container-Policy-Project (whose pithos.diskspace they use; default the system project),
 *   X-Container-Block-Size / -Block-Hash; `POST ?update` with a new project reassigns the container's bytes as one
 *   commission; `POST ?update` with application/octet-stream stores a block and answers the hashes stored;
 * - objects: `PUT ?hashmap&format=json {bytes, hashes}` → 201, or 409 with the hashes of the blocks it lacks;
 *   blocks are hashed after trailing NUL bytes are stripped; `GET ?hashmap&format=json` gives the hashmap.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { overLimitAstakos } from './astakos.ts';
import { badRequest, conflict, forbidden, itemNotFound, jsonBody, SnfFault, userOf } from './http.ts';
import { OverLimit, type SynnefoModel } from './model.ts';

export const PITHOS_PREFIX = '/pithos/object-store/v1';

interface PObject {
  bytes: number;
  hashes: string[];
  contentType: string;
  modified: string;
}

interface PContainer {
  name: string;
  project: string;
  quota: number;
  versioning: string;
  objects: Map<string, PObject>;
}

export interface PithosOptions {
  blockSize: number;
  blockHash: string;
}

/** The block hash Pithos uses: the configured digest of the block with trailing NUL bytes stripped. */
export function pithosBlockHash(block: Uint8Array, algorithm = 'sha256'): string {
  let end = block.length;
  while (end > 0 && block[end - 1] === 0) end--;
  return createHash(algorithm).update(block.subarray(0, end)).digest('hex');
}

function containerBytes(c: PContainer): number {
  let n = 0;
  for (const o of c.objects.values()) n += o.bytes;
  return n;
}

function has(req: FastifyRequest, key: string): boolean {
  return Object.hasOwn((req.query ?? {}) as object, key);
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function pithosRoutes(app: FastifyInstance, model: SynnefoModel, opts: PithosOptions) {
  /** Blocks by hash, shared by all accounts (Pithos' content-addressed block store). */
  const blocks = new Map<string, Buffer>();
  /** account → container name → container */
  const accounts = new Map<string, Map<string, PContainer>>();
  /** Blocks received by POST ?update (what a test counts to see that unchanged files send none). */
  const stats = { blocksReceived: 0 };

  const account = (req: FastifyRequest<{ Params: { account: string } }>) => {
    const user = userOf(model, req);
    if (req.params.account !== user.uuid) throw forbidden('Not allowed');
    let m = accounts.get(user.uuid);
    if (!m) {
      m = new Map();
      accounts.set(user.uuid, m);
    }
    return { user, containers: m };
  };
  const containerOf = (containers: Map<string, PContainer>, name: string) => {
    const c = containers.get(name);
    if (!c) throw itemNotFound('Container does not exist');
    return c;
  };
  const charge = (user: string, project: string, delta: number, name: string) => {
    if (delta === 0) return;
    try {
      model.commission(name, [{ user, project, resource: 'pithos.diskspace', quantity: delta }]);
    } catch (err) {
      if (err instanceof OverLimit) throw overLimitAstakos(err);
      throw err;
    }
  };

  const accountHeaders = (reply: FastifyReply, user: string, containers: Map<string, PContainer>) => {
    let bytes = 0;
    for (const c of containers.values()) bytes += containerBytes(c);
    reply.header('x-account-container-count', String(containers.size));
    reply.header('x-account-bytes-used', String(bytes));
    let total = 0;
    for (const p of model.projectsOf(user)) {
      const limit = p.resources['pithos.diskspace']?.member_capacity ?? 0;
      total += limit;
      reply.header(`x-account-policy-quota-${p.id}`, String(limit));
    }
    reply.header('x-account-policy-quota', String(total));
  };
  const containerHeaders = (reply: FastifyReply, c: PContainer) => {
    reply.header('x-container-object-count', String(c.objects.size));
    reply.header('x-container-bytes-used', String(containerBytes(c)));
    reply.header('x-container-block-size', String(opts.blockSize));
    reply.header('x-container-block-hash', opts.blockHash);
    reply.header('x-container-policy-project', c.project);
    reply.header('x-container-policy-quota', String(c.quota));
    reply.header('x-container-policy-versioning', c.versioning);
  };

  type AP = { Params: { account: string } };
  type CP = { Params: { account: string; container: string } };
  type OP = { Params: { account: string; container: string; '*': string } };

  app.get<AP>(`${PITHOS_PREFIX}/:account`, async (req, reply) => {
    const { user, containers } = account(req);
    accountHeaders(reply, user.uuid, containers);
    const list = [...containers.values()].sort((a, b) => a.name.localeCompare(b.name));
    if (req.method === 'HEAD') return reply.code(204).send();
    if ((req.query as Record<string, string>).format === 'json')
      return list.map((c) => ({
        name: c.name,
        count: c.objects.size,
        bytes: containerBytes(c),
        x_container_policy: { project: c.project, quota: String(c.quota), versioning: c.versioning },
      }));
    return reply.type('text/plain').send(list.map((c) => `${c.name}\n`).join(''));
  });

  app.put<CP>(`${PITHOS_PREFIX}/:account/:container`, async (req, reply) => {
    const { user, containers } = account(req);
    if (containers.has(req.params.container)) return reply.code(202).send();
    const project = header(req, 'x-container-policy-project') ?? user.uuid;
    if (!model.isMember(user.uuid, project)) throw badRequest('Invalid policy: project');
    containers.set(req.params.container, {
      name: req.params.container,
      project,
      quota: Number(header(req, 'x-container-policy-quota') ?? 0),
      versioning: header(req, 'x-container-policy-versioning') ?? 'auto',
      objects: new Map(),
    });
    return reply.code(201).send();
  });

  app.get<CP>(`${PITHOS_PREFIX}/:account/:container`, async (req, reply) => {
    const { containers } = account(req);
    const c = containerOf(containers, req.params.container);
    containerHeaders(reply, c);
    if (req.method === 'HEAD') return reply.code(204).send();
    const names = [...c.objects.keys()].sort();
    if ((req.query as Record<string, string>).format === 'json')
      return names.map((n) => {
        const o = c.objects.get(n) as PObject;
        return { name: n, bytes: o.bytes, content_type: o.contentType, last_modified: o.modified };
      });
    return reply.type('text/plain').send(names.map((n) => `${n}\n`).join(''));
  });

  app.post<CP>(`${PITHOS_PREFIX}/:account/:container`, async (req, reply) => {
    const { user, containers } = account(req);
    const c = containerOf(containers, req.params.container);
    if (!has(req, 'update')) throw badRequest('Missing update');
    const type = header(req, 'content-type') ?? '';
    if (type.startsWith('application/octet-stream')) {
      const data = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
      const stored: string[] = [];
      for (let at = 0; at < Math.max(1, data.length); at += opts.blockSize) {
        const block = data.subarray(at, at + opts.blockSize);
        const hash = pithosBlockHash(block, opts.blockHash);
        blocks.set(hash, Buffer.from(block));
        stored.push(hash);
        stats.blocksReceived++;
      }
      return reply.code(202).send(stored);
    }
    const project = header(req, 'x-container-policy-project');
    if (project !== undefined && project !== c.project) {
      if (!model.isMember(user.uuid, project)) throw badRequest('Invalid policy: project');
      // One commission moves the container's whole usage (modular.py update_container_policy).
      try {
        model.reassign(`reassign container ${c.name}`, user.uuid, c.project, project, {
          'pithos.diskspace': containerBytes(c),
        });
      } catch (err) {
        if (err instanceof OverLimit) throw overLimitAstakos(err);
        throw err;
      }
      c.project = project;
    }
    const quota = header(req, 'x-container-policy-quota');
    if (quota !== undefined) c.quota = Number(quota);
    return reply.code(202).send();
  });

  const putObject = (user: string, c: PContainer, name: string, obj: PObject) => {
    const old = c.objects.get(name)?.bytes ?? 0;
    if (c.quota > 0 && containerBytes(c) - old + obj.bytes > c.quota)
      throw new SnfFault(413, 'overLimit', 'Container quota exceeded');
    charge(user, c.project, obj.bytes - old, `object ${c.name}/${name}`);
    c.objects.set(name, obj);
  };

  app.put<OP>(`${PITHOS_PREFIX}/:account/:container/*`, async (req, reply) => {
    const { user, containers } = account(req);
    const c = containerOf(containers, req.params.container);
    const name = req.params['*'];
    const contentType = header(req, 'content-type');
    if (has(req, 'hashmap')) {
      if (!contentType) return reply.code(411).send('Missing Content-Type header');
      const map = jsonBody(req);
      const hashes = map.hashes;
      const bytes = Number(map.bytes);
      if (!Array.isArray(hashes) || !Number.isInteger(bytes) || bytes < 0) throw badRequest('Invalid hashmap');
      const missing = (hashes as unknown[]).map(String).filter((h) => !blocks.has(h));
      if (missing.length > 0) {
        if ((req.query as Record<string, string>).format === 'json') return reply.code(409).send(missing);
        return reply.code(409).type('text/plain').send(missing.join('\n'));
      }
      putObject(user.uuid, c, name, {
        bytes,
        hashes: (hashes as unknown[]).map(String),
        contentType,
        modified: new Date().toISOString(),
      });
      return reply
        .code(201)
        .header('etag', merkleRoot((hashes as unknown[]).map(String), opts.blockHash))
        .send();
    }
    const data = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.from(String(req.body ?? ''));
    const hashes: string[] = [];
    for (let at = 0; at < data.length; at += opts.blockSize) {
      const block = data.subarray(at, at + opts.blockSize);
      const hash = pithosBlockHash(block, opts.blockHash);
      blocks.set(hash, Buffer.from(block));
      hashes.push(hash);
    }
    putObject(user.uuid, c, name, {
      bytes: data.length,
      hashes,
      contentType: contentType ?? 'application/octet-stream',
      modified: new Date().toISOString(),
    });
    return reply.code(201).header('etag', createHash('md5').update(data).digest('hex')).send();
  });

  app.get<OP>(`${PITHOS_PREFIX}/:account/:container/*`, async (req, reply) => {
    const { containers } = account(req);
    const c = containerOf(containers, req.params.container);
    const o = c.objects.get(req.params['*']);
    if (!o) throw itemNotFound('Object does not exist');
    reply.header('content-type', o.contentType);
    if (has(req, 'hashmap')) {
      if ((req.query as Record<string, string>).format !== 'json') throw badRequest('format=json expected');
      return reply
        .type('application/json')
        .send({ block_hash: opts.blockHash, block_size: opts.blockSize, hashes: o.hashes, bytes: o.bytes });
    }
    const data = assemble(blocks, o.hashes, o.bytes, opts.blockSize);
    reply.header('etag', createHash('md5').update(data).digest('hex'));
    if (req.method === 'HEAD') return reply.code(200).header('content-length', String(o.bytes)).send();
    return reply.send(data);
  });

  app.delete<OP>(`${PITHOS_PREFIX}/:account/:container/*`, async (req, reply) => {
    const { user, containers } = account(req);
    const c = containerOf(containers, req.params.container);
    const o = c.objects.get(req.params['*']);
    if (!o) throw itemNotFound('Object does not exist');
    charge(user.uuid, c.project, -o.bytes, `delete ${c.name}`);
    c.objects.delete(req.params['*']);
    return reply.code(204).send();
  });

  app.delete<CP>(`${PITHOS_PREFIX}/:account/:container`, async (req, reply) => {
    const { containers } = account(req);
    const c = containerOf(containers, req.params.container);
    if (c.objects.size > 0) throw conflict('Container is not empty');
    containers.delete(c.name);
    return reply.code(204).send();
  });

  /** An object as Plankton sees it when an image is registered at its location (the caller's own account). */
  const objectAt = (accountId: string, container: string, name: string) => {
    const c = accounts.get(accountId)?.get(container);
    const o = c?.objects.get(name);
    return c && o ? { bytes: o.bytes, project: c.project, hash: merkleRoot(o.hashes, opts.blockHash) } : undefined;
  };

  return { stats, objectAt };
}

/** The object's bytes: each block padded back to the block size with the NULs the hash ignored, cut to `bytes`. */
function assemble(blocks: Map<string, Buffer>, hashes: string[], bytes: number, blockSize: number): Buffer {
  const parts = hashes.map((h, i) => {
    const b = blocks.get(h) ?? Buffer.alloc(0);
    return i < hashes.length - 1 && b.length < blockSize ? Buffer.concat([b, Buffer.alloc(blockSize - b.length)]) : b;
  });
  const all = Buffer.concat(parts);
  return all.length >= bytes ? all.subarray(0, bytes) : Buffer.concat([all, Buffer.alloc(bytes - all.length)]);
}

/** Pithos' object hash (its ETag when MD5 is off): a binary Merkle tree over the block hashes, zero-padded. */
function merkleRoot(hashes: string[], algorithm: string): string {
  if (hashes.length === 0) return createHash(algorithm).update('').digest('hex');
  if (hashes.length === 1) return hashes[0] as string;
  let level: Buffer[] = hashes.map((h) => Buffer.from(h, 'hex'));
  let size = 1;
  while (size < level.length) size *= 2;
  const zero = Buffer.alloc(level[0]?.length ?? 32);
  while (level.length < size) level.push(zero);
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(
        createHash(algorithm)
          .update(Buffer.concat([level[i] as Buffer, level[i + 1] as Buffer]))
          .digest(),
      );
    level = next;
  }
  return (level[0] as Buffer).toString('hex');
}
