/** `os-instance-actions`: the action log of a server (`openstack server event list/show`). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext } from '../context.ts';
import { isoMicro, mv, notFound, tokenOf } from './http.ts';
import type { InstanceAction, NovaModel, ServerRow } from './model.ts';
import { getServer } from './server-common.ts';

export function instanceActionRoutes(app: FastifyInstance, _ctx: CloudContext, m: NovaModel): void {
  const render = (req: FastifyRequest, s: ServerRow, a: InstanceAction) => {
    const out: Record<string, unknown> = {
      action: a.action,
      instance_uuid: s.id,
      request_id: a.request_id,
      user_id: a.user_id,
      project_id: a.project_id,
      start_time: isoMicro(a.start),
      message: a.message,
    };
    if (mv(req) >= 58) out.updated_at = isoMicro(a.start);
    return out;
  };

  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/os-instance-actions', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    // Newest first, as Nova lists them.
    return { instanceActions: [...(s.actions ?? [])].reverse().map((a) => render(req, s, a)) };
  });

  app.get<{ Params: { id: string; rid: string } }>('/v2.1/servers/:id/os-instance-actions/:rid', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const a = (s.actions ?? []).find((x) => x.request_id === req.params.rid);
    if (!a) throw notFound(`Action for request_id ${req.params.rid} on instance ${s.id} not found`);
    const out = render(req, s, a);
    // Events: admins always; everyone from 2.51 (without the traceback).
    if (token.isAdmin || mv(req) >= 51) {
      const event: Record<string, unknown> = {
        event: a.event,
        start_time: isoMicro(a.start),
        finish_time: isoMicro(a.start),
        result: a.result,
      };
      if (token.isAdmin) event.traceback = null;
      out.events = [event];
    }
    return { instanceAction: out };
  });
}
