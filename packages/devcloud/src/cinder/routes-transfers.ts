/** Cinder v3 volume transfers (os-volume-transfer, and volume-transfers from 3.55). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, notFound } from './errors.ts';
import { body, findVolume, optString, requireMv, rs, truthy } from './http.ts';
import { paginate, queryParams } from './list.ts';
import { transferBody } from './render.ts';
import type { CinderState, TransferRow } from './state.ts';

const P = '/v3/:project_id';

export function registerTransferRoutes(app: FastifyInstance, state: CinderState): void {
  // ---- transfers (os-volume-transfer, and volume-transfers from 3.55) -----------------------------------------
  function findTransfer(req: FastifyRequest, id: string, forAccept: boolean): TransferRow {
    const { tok } = rs(req);
    const t = state.transfers.get(id);
    if (!t || (!forAccept && !tok.isAdmin && t.sourceProjectId !== tok.projectId)) {
      throw notFound(`Transfer ${id} could not be found.`);
    }
    return t;
  }

  for (const base of ['os-volume-transfer', 'volume-transfers']) {
    const gate = (req: FastifyRequest) => {
      if (base === 'volume-transfers') requireMv(req, 55);
    };
    const list = (detail: boolean) => async (req: FastifyRequest) => {
      gate(req);
      const { tok, view } = rs(req);
      const q = queryParams(req);
      const all = tok.isAdmin && (truthy(q.get('all_tenants')) || truthy(q.get('all_projects')));
      const rows = state.transfers.filter((t) => all || t.sourceProjectId === tok.projectId);
      const { page, links } = paginate(
        req,
        rows,
        (t, k) => (k === 'id' ? t.id : k === 'created_at' ? t.createdAt : k === 'name' ? t.name : null),
        ['id', 'created_at', 'name'],
        `${view.apiBase}/v3/${view.urlProject}/${base}${detail ? '/detail' : ''}`,
        'Transfer',
      );
      const out: Record<string, unknown> = {
        transfers: page.map((t) => transferBody(view, t, detail ? 'detail' : 'summary')),
      };
      if (links) out.transfers_links = links;
      return out;
    };
    app.get(`${P}/${base}`, list(false));
    app.get(`${P}/${base}/detail`, list(true));
    app.post(`${P}/${base}`, async (req, reply) => {
      gate(req);
      const { view } = rs(req);
      const b = body(req, 'transfer');
      if (typeof b.volume_id !== 'string')
        throw badRequest("Invalid input for field/attribute transfer. 'volume_id' is a required property");
      const v = findVolume(state, req, b.volume_id);
      const t = state.newTransfer(v, optString(b.name, 'name') ?? null, b.no_snapshots === true);
      return reply.code(202).send({ transfer: transferBody(view, t, 'created') });
    });
    app.get<{ Params: { id: string } }>(`${P}/${base}/:id`, async (req) => {
      gate(req);
      return { transfer: transferBody(rs(req).view, findTransfer(req, req.params.id, false), 'detail') };
    });
    app.delete<{ Params: { id: string } }>(`${P}/${base}/:id`, async (req, reply: FastifyReply) => {
      gate(req);
      state.cancelTransfer(findTransfer(req, req.params.id, false));
      return reply.code(202).send();
    });
    app.post<{ Params: { id: string } }>(`${P}/${base}/:id/accept`, async (req, reply) => {
      gate(req);
      const { tok, view } = rs(req);
      const t = findTransfer(req, req.params.id, true);
      const b = body(req, 'accept');
      state.acceptTransfer(t, b.auth_key, tok.projectId ?? '', tok.userId);
      t.accepted = true;
      t.destinationProjectId = tok.projectId ?? null;
      return reply.code(202).send({ transfer: transferBody(view, t, 'accepted') });
    });
  }
}
