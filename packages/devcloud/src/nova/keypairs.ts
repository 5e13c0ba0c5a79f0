/** Nova keypairs (per user): import or server-side generation (real RSA keys), list with 2.35 paging, quota. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudContext, Table } from '../context.ts';
import {
  badRequest,
  bodyOf,
  conflict,
  first,
  forbidden,
  isoMicro,
  mv,
  nextLink,
  notFound,
  parseLimit,
  projectOf,
  queryOf,
  tokenOf,
} from './http.ts';
import { generateSshKeyPair, sshFingerprint, x509Fingerprint } from './ssh.ts';

export interface KeypairRow {
  /** `<user_id>/<name>`: keypair names are unique per user. */
  id: string;
  seq: number;
  name: string;
  user_id: string;
  public_key: string;
  fingerprint: string;
  type: 'ssh' | 'x509';
  created_at: number;
}

const NAME_RE = /^[a-zA-Z0-9 _@.-]+$/;

export function keypairTable(ctx: CloudContext): Table<KeypairRow> {
  return ctx.store.table<KeypairRow>('nova_keypairs');
}

export function keypairRoutes(app: FastifyInstance, ctx: CloudContext): void {
  const keypairs = keypairTable(ctx);

  /** Whose keypairs: the caller's, or (admin, 2.10+) `?user_id=`. */
  const userFor = (req: FastifyRequest, explicit?: unknown): string => {
    const token = tokenOf(req);
    const wanted = typeof explicit === 'string' ? explicit : first(queryOf(req).user_id);
    if (wanted && mv(req) >= 10 && wanted !== token.userId) {
      if (!token.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-keypairs:index to be performed.");
      return wanted;
    }
    return token.userId;
  };

  const summary = (req: FastifyRequest, k: KeypairRow) => {
    const out: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
    if (mv(req) >= 2) out.type = k.type;
    return out;
  };

  app.get('/v2.1/os-keypairs', async (req) => {
    const userId = userFor(req);
    const q = queryOf(req);
    let rows = keypairs
      .filter((k) => k.user_id === userId)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const body: Record<string, unknown> = {};
    if (mv(req) >= 35) {
      const marker = first(q.marker);
      if (marker !== undefined) {
        const i = rows.findIndex((k) => k.name === marker);
        if (i < 0) throw badRequest(`marker [${marker}] not found`);
        rows = rows.slice(i + 1);
      }
      const limit = parseLimit(first(q.limit));
      if (limit !== undefined) {
        rows = rows.slice(0, limit);
        if (rows.length === limit && limit > 0)
          body.keypairs_links = nextLink(ctx, '/compute/v2.1/os-keypairs', q, rows[rows.length - 1]!.name);
      }
    }
    body.keypairs = rows.map((k) => ({ keypair: summary(req, k) }));
    // Nova puts the links after the list.
    if (body.keypairs_links) {
      const links = body.keypairs_links;
      delete body.keypairs_links;
      body.keypairs_links = links;
    }
    return body;
  });

  app.get<{ Params: { name: string } }>('/v2.1/os-keypairs/:name', async (req) => {
    const userId = userFor(req);
    const k = keypairs.get(`${userId}/${req.params.name}`);
    if (!k) throw notFound(`Keypair ${req.params.name} not found for user ${userId}`);
    const out: Record<string, unknown> = {
      ...summary(req, k),
      user_id: k.user_id,
      created_at: isoMicro(k.created_at),
      deleted: false,
      deleted_at: null,
      id: k.seq,
      updated_at: null,
    };
    delete out.type;
    if (mv(req) >= 2) out.type = k.type;
    return { keypair: out };
  });

  app.post('/v2.1/os-keypairs', async (req, reply: FastifyReply) => {
    const token = tokenOf(req);
    const b = bodyOf(req, 'keypair');
    const userId = userFor(req, b.user_id);
    const name = typeof b.name === 'string' ? b.name : '';
    if (!name || name.length > 255 || !NAME_RE.test(name) || name.trim() !== name) {
      throw badRequest(
        `Invalid input for field/attribute name. Value: ${name}. '${name}' does not match '^[a-zA-Z0-9 _@.-]+$'`,
      );
    }
    const type = mv(req) >= 2 && b.type === 'x509' ? 'x509' : 'ssh';
    if (b.type !== undefined && b.type !== 'ssh' && b.type !== 'x509') {
      throw badRequest(
        `Invalid input for field/attribute type. Value: ${String(b.type)}. '${String(b.type)}' is not one of ['ssh', 'x509']`,
      );
    }
    if (keypairs.get(`${userId}/${name}`)) throw conflict(`Key pair '${name}' already exists.`);
    const limit = ctx.quotaLimit('compute', projectOf(token), 'key_pairs');
    const used = keypairs.filter((k) => k.user_id === userId).length;
    if (limit >= 0 && used + 1 > limit) throw forbidden('Quota exceeded, too many key pairs.');

    let publicKey: string;
    let privateKey: string | undefined;
    if (typeof b.public_key === 'string' && b.public_key.trim()) {
      publicKey = b.public_key.trim();
    } else {
      if (mv(req) >= 92) {
        throw badRequest(
          `Invalid input for field/attribute keypair. Value: ${JSON.stringify(b)}. 'public_key' is a required property`,
        );
      }
      if (type === 'x509')
        throw badRequest(
          'Keypair data is invalid: x509 keypairs cannot be generated by devcloud; import a certificate.',
        );
      const gen = generateSshKeyPair();
      publicKey = gen.publicKey;
      privateKey = gen.privateKey;
    }
    const fingerprint = type === 'x509' ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
    if (!fingerprint) throw badRequest('Keypair data is invalid: failed to generate fingerprint');
    const seq = keypairs.all().reduce((m, k) => Math.max(m, k.seq), 0) + 1;
    const row: KeypairRow = {
      id: `${userId}/${name}`,
      seq,
      name,
      user_id: userId,
      public_key: publicKey,
      fingerprint,
      type,
      created_at: Date.now(),
    };
    keypairs.put(row);
    const out: Record<string, unknown> = {};
    if (privateKey) out.private_key = privateKey;
    if (mv(req) >= 2) out.type = type;
    Object.assign(out, { name, public_key: publicKey, fingerprint, user_id: userId });
    // 2.2 changed the status of a create from 200 to 201.
    return reply.code(mv(req) >= 2 ? 201 : 200).send({ keypair: out });
  });

  app.delete<{ Params: { name: string } }>('/v2.1/os-keypairs/:name', async (req, reply) => {
    const userId = userFor(req);
    const id = `${userId}/${req.params.name}`;
    if (!keypairs.get(id)) throw notFound(`Keypair ${req.params.name} not found for user ${userId}`);
    keypairs.delete(id);
    return reply.code(mv(req) >= 2 ? 204 : 202).send();
  });
}
