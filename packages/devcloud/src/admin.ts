/**
 * devcloud's own admin API on every cloud (no token; loopback only):
 *   GET    /_devcloud/health                      → {"cloud": name, "status": "ok"}
 *   GET    /_devcloud/faults[?cloud=NAME]          → {"cloud": name, "faults": {"<service>": FaultSpec}}
 *   PUT    /_devcloud/faults  {"cloud"?, "service"?: "*", ...FaultSpec}  → set (replace) one service's spec
 *   DELETE /_devcloud/faults[?cloud=&service=]    → clear one service's spec, or all of them
 * `cloud` defaults to the cloud answering, so a cloud that is down can be brought back through another one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Cloud } from './cloud.ts';
import type { FaultSpec } from './context.ts';
import { type Faults, parseFaultSpec } from './faults.ts';

interface AdminDeps {
  name: string;
  faults: Faults;
  peers: () => ReadonlyMap<string, Cloud>;
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const target = (req: FastifyRequest, reply: FastifyReply, cloudName: unknown): Faults | undefined => {
    if (!isLoopback(req.socket.remoteAddress)) {
      reply.code(403).send({ error: { code: 403, message: 'The devcloud admin API only answers loopback clients.' } });
      return undefined;
    }
    if (cloudName === undefined || cloudName === deps.name) return deps.faults;
    const peer = typeof cloudName === 'string' ? deps.peers().get(cloudName) : undefined;
    if (!peer) {
      reply.code(404).send({ error: { code: 404, message: `No cloud named ${String(cloudName)} in this devcloud.` } });
      return undefined;
    }
    return peer.faults;
  };
  const q = (req: FastifyRequest) => (req.query ?? {}) as Record<string, string | undefined>;

  app.get('/_devcloud/health', async () => ({ cloud: deps.name, status: 'ok' }));
  app.get('/_devcloud/faults', async (req, reply) => {
    const f = target(req, reply, q(req).cloud);
    if (!f) return reply;
    return { cloud: q(req).cloud ?? deps.name, faults: f.list() };
  });
  app.put('/_devcloud/faults', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body))
      return reply.code(400).send({ error: { code: 400, message: 'Expected a JSON object.' } });
    const { cloud, service, ...rest } = body;
    const f = target(req, reply, cloud);
    if (!f) return reply;
    let spec: FaultSpec;
    try {
      spec = parseFaultSpec(rest);
    } catch (err) {
      return reply.code(400).send({ error: { code: 400, message: `Invalid fault spec: ${(err as Error).message}` } });
    }
    const key = typeof service === 'string' && service !== '' ? service : '*';
    await f.set(key, spec);
    return { cloud: cloud ?? deps.name, faults: f.list() };
  });
  app.delete('/_devcloud/faults', async (req, reply) => {
    const f = target(req, reply, q(req).cloud);
    if (!f) return reply;
    const service = q(req).service;
    if (service) await f.set(service, null);
    else await f.clear();
    return { cloud: q(req).cloud ?? deps.name, faults: f.list() };
  });
}
