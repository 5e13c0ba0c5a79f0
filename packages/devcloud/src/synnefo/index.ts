/**
 * A Synnefo cloud for devcloud (no real Synnefo can be installed here): Astakos identity and account API,
 * Cyclades compute/network/volume with projects and reassign, Plankton images (files in Pithos), and Pithos with
 * policies and hashmaps, on one loopback port. Seeded with the kamaki docs' user and projects (the seed's "my projects" and "quotas per project"
 * examples): user@example.com with its system project, and a "CS333 lab assignments" project.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { astakosRoutes } from './astakos.ts';
import { cycladesRoutes } from './cyclades.ts';
import { SnfFault, sendFault } from './http.ts';
import { type SnfProject, type SnfUser, SynnefoModel } from './model.ts';
import { pithosRoutes } from './pithos.ts';
import { planktonRoutes } from './plankton.ts';

export { SNF_FLAVORS } from './cyclades.ts';
export { SNF_RESOURCES, SYSTEM_DEFAULTS, SynnefoModel } from './model.ts';
export { pithosBlockHash } from './pithos.ts';

export interface SynnefoOptions {
  name?: string;
  /** 0 (default) = ephemeral. */
  port?: number;
  /** Pithos block size (default 4 MiB, PITHOS_BACKEND_BLOCK_SIZE) and hash (default sha256). */
  blockSize?: number;
  blockHash?: string;
  tokenTtlSeconds?: number;
  logLevel?: string;
}

export interface SynnefoCloud {
  readonly name: string;
  readonly baseUrl: string;
  /** The Astakos identity URL a kamaki config names: http://127.0.0.1:PORT/identity/v2.0 */
  readonly astakosUrl: string;
  readonly model: SynnefoModel;
  /** The seeded user (kamaki docs' user@example.com) and its token. */
  readonly user: SnfUser;
  /** The seeded extra project ("CS333 lab assignments"). */
  readonly labProject: SnfProject;
  readonly serviceToken: string;
  /** Blocks Pithos has received by `POST ?update` since start. */
  pithosBlocksReceived(): number;
  close(): Promise<void>;
}

const GiB = 2 ** 30;

export async function startSynnefo(opts: SynnefoOptions = {}): Promise<SynnefoCloud> {
  const name = opts.name ?? 'snf';
  const model = new SynnefoModel();
  const user = model.addUser({ name: 'User Example', email: 'user@example.com' });
  const cap = (member: number, project: number) => ({ member_capacity: member, project_capacity: project });
  const labProject = model.addProject({
    name: 'CS333 lab assignments',
    description: 'Virtual clusters for CS333 assignments',
    homepage: 'https://university.example.com/courses/cs333',
    owner: user.uuid,
    members: [user.uuid],
    // The member limits of the seed's second project ("cyclades.vm: 3/4", "cyclades.disk: 80/120", ...).
    resources: {
      'cyclades.vm': cap(4, 40),
      'cyclades.cpu': cap(8, 80),
      'cyclades.ram': cap(53687091200, 536870912000),
      'cyclades.disk': cap(120 * GiB, 1200 * GiB),
      'cyclades.network.private': cap(5, 50),
      'cyclades.floating_ip': cap(4, 40),
      'pithos.diskspace': cap(53687091200, 536870912000),
    },
  });
  const serviceToken = randomUUID().replace(/-/g, '');
  const level = opts.logLevel ?? process.env.OCX_DEVCLOUD_LOG ?? 'warn';
  const app = Fastify({ logger: level === 'silent' ? false : { level }, bodyLimit: 256 * 1024 * 1024 });
  // Every body arrives raw: Pithos needs the bytes, the JSON APIs parse it themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof SnfFault) return sendFault(reply, err);
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500)
      return sendFault(reply, new SnfFault(status, 'badRequest', err instanceof Error ? err.message : 'Bad request'));
    return sendFault(reply, new SnfFault(500, 'internalServerError', 'Internal server error'));
  });
  app.setNotFoundHandler((_req, reply) => sendFault(reply, new SnfFault(404, 'itemNotFound', 'Not found')));
  let baseUrl = '';
  astakosRoutes(app, model, { baseUrl: () => baseUrl, serviceToken, tokenTtlSeconds: opts.tokenTtlSeconds ?? 86400 });
  cycladesRoutes(app, model);
  const pithos = pithosRoutes(app, model, {
    blockSize: opts.blockSize ?? 4 * 1024 * 1024,
    blockHash: opts.blockHash ?? 'sha256',
  });
  planktonRoutes(app, model, pithos.objectAt);
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    name,
    baseUrl,
    astakosUrl: `${baseUrl}/identity/v2.0`,
    model,
    user,
    labProject,
    serviceToken,
    pithosBlocksReceived: () => pithos.stats.blocksReceived,
    close: async () => {
      await app.close();
    },
  };
}

/** A clouds.yaml entry for a Synnefo cloud as kamaki's config has it: the Astakos URL and the user's token. */
export function synnefoCloudsYamlEntry(cloud: Pick<SynnefoCloud, 'astakosUrl' | 'user'>): Record<string, unknown> {
  return { auth_type: 'token', dialect: 'synnefo', auth: { auth_url: cloud.astakosUrl, token: cloud.user.token } };
}
