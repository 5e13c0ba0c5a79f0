/** Server actions (reboot, os-stop, os-start, pause, suspend, lock, ...), metadata, tags and volume attachments. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { InternalError } from '../context.ts';
import {
  badRequest,
  bodyOf,
  conflict,
  forbidden,
  mv,
  NovaError,
  notFound,
  pyRepr,
  requiredProperty,
  tokenOf,
} from './http.ts';
import { type NovaModel, POWER, recordAction, type ServerRow } from './model.ts';
import { getServer, nextDevice } from './server-common.ts';

function stateConflict(action: string, s: ServerRow): NovaError {
  if (s.task_state) return conflict(`Cannot '${action}' instance ${s.id} while it is in task_state ${s.task_state}`);
  return conflict(`Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vm_state}`);
}

export function serverActionRoutes(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  const transition = (s: ServerRow, task: string, vmState: string, power: number) =>
    m.begin(s, { kind: 'action', until: Date.now() + ctx.transitionMs, vm_state: vmState, power_state: power }, task);

  const checkLock = (token: TokenInfo, s: ServerRow) => {
    if (s.locked && !token.isAdmin) throw conflict(`Instance ${s.id} is locked`);
  };

  app.post<{ Params: { id: string } }>('/v2.1/servers/:id/action', async (req, reply) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id, true);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = Object.keys(body)[0];
    if (!action || Object.keys(body).length !== 1) throw badRequest('There is no such action: ');
    const arg = body[action] as Record<string, unknown> | null;
    const rid = String(reply.getHeader('x-openstack-request-id') ?? '');
    const LOG: Record<string, string> = {
      reboot: 'reboot',
      'os-stop': 'stop',
      'os-start': 'start',
      pause: 'pause',
      unpause: 'unpause',
      suspend: 'suspend',
      resume: 'resume',
      rebuild: 'rebuild',
    };
    /** Start a transition and log it as the instance action Nova would record. */
    const go = (task: string, vmState: string, power: number) => {
      recordAction(s, LOG[action] ?? action, rid, token.userId);
      transition(s, task, vmState, power);
    };
    const requireState = (name: string, states: string[]) => {
      if (s.task_state || !states.includes(s.vm_state)) throw stateConflict(name, s);
    };
    switch (action) {
      case 'reboot': {
        checkLock(token, s);
        const type = String(arg?.type ?? '').toUpperCase();
        if (type !== 'SOFT' && type !== 'HARD') {
          throw badRequest(
            `Invalid input for field/attribute type. Value: ${String(arg?.type)}. '${String(arg?.type)}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
          );
        }
        if (type === 'SOFT') requireState('reboot', ['active']);
        else requireState('reboot', ['active', 'stopped', 'paused', 'suspended', 'error']);
        go(type === 'SOFT' ? 'rebooting' : 'rebooting_hard', 'active', POWER.RUNNING);
        return reply.code(202).send();
      }
      case 'os-stop':
        checkLock(token, s);
        requireState('stop', ['active', 'error']);
        go('powering-off', 'stopped', POWER.SHUTDOWN);
        return reply.code(202).send();
      case 'os-start':
        checkLock(token, s);
        requireState('start', ['stopped']);
        go('powering-on', 'active', POWER.RUNNING);
        return reply.code(202).send();
      case 'pause':
        checkLock(token, s);
        requireState('pause', ['active']);
        go('pausing', 'paused', POWER.PAUSED);
        return reply.code(202).send();
      case 'unpause':
        checkLock(token, s);
        requireState('unpause', ['paused']);
        go('unpausing', 'active', POWER.RUNNING);
        return reply.code(202).send();
      case 'suspend':
        checkLock(token, s);
        requireState('suspend', ['active']);
        go('suspending', 'suspended', POWER.SHUTDOWN);
        return reply.code(202).send();
      case 'resume':
        checkLock(token, s);
        requireState('resume', ['suspended']);
        go('resuming', 'active', POWER.RUNNING);
        return reply.code(202).send();
      case 'lock':
        recordAction(s, 'lock', rid, token.userId);
        s.locked = true;
        s.locked_reason = mv(req) >= 73 && typeof arg?.locked_reason === 'string' ? arg.locked_reason : null;
        m.servers.put(s);
        return reply.code(202).send();
      case 'unlock':
        recordAction(s, 'unlock', rid, token.userId);
        s.locked = false;
        s.locked_reason = null;
        m.servers.put(s);
        return reply.code(202).send();
      case 'addSecurityGroup':
      case 'removeSecurityGroup': {
        const name = String(arg?.name ?? '');
        if (!name) throw badRequest('Security group name cannot be empty');
        if (action === 'addSecurityGroup') {
          if (!s.security_groups.includes(name)) s.security_groups.push(name);
        } else {
          if (!s.security_groups.includes(name)) throw notFound(`Security group ${name} not assigned to the instance.`);
          s.security_groups = s.security_groups.filter((g) => g !== name);
        }
        m.servers.put(s);
        return reply.code(202).send();
      }
      case 'changePassword':
        if (typeof arg?.adminPass !== 'string')
          throw badRequest("Invalid input for field/attribute changePassword. 'adminPass' is a required property");
        requireState('changePassword', ['active']);
        return reply.code(202).send();
      case 'os-getConsoleOutput':
        requireState('get_console_output', ['active', 'stopped', 'paused', 'suspended', 'error']);
        return { output: `devcloud console of ${s.name}\nlogin: \n` };
      case 'rebuild': {
        checkLock(token, s);
        requireState('rebuild', ['active', 'stopped', 'error']);
        const ref = String(arg?.imageRef ?? '');
        if (!ref) throw badRequest("Invalid input for field/attribute rebuild. 'imageRef' is a required property");
        if (!s.image_id) throw badRequest('Cannot rebuild a volume-backed server with a new image.');
        s.image_id = ref.includes('/') ? (ref.split('/').pop() ?? ref) : ref;
        if (typeof arg?.name === 'string') s.name = arg.name;
        if (arg?.metadata && typeof arg.metadata === 'object')
          s.metadata = { ...(arg.metadata as Record<string, string>) };
        go('rebuilding', 'active', POWER.RUNNING);
        return reply.code(202).send({ server: { id: s.id } });
      }
      case 'createImage': {
        // Snapshot: Glance gets a private image of the server's source image bytes (empty for boot from volume).
        if (!arg || typeof arg !== 'object' || Array.isArray(arg)) {
          throw badRequest(
            `Invalid input for field/attribute createImage. Value: ${pyRepr(arg)}. ${pyRepr(arg)} is not of type 'object'`,
          );
        }
        if (arg.name === undefined) throw requiredProperty('createImage', arg, 'name');
        const name = typeof arg.name === 'string' ? arg.name.trim() : '';
        if (typeof arg.name !== 'string' || name === '' || arg.name.length > 255) {
          throw badRequest(`Invalid input for field/attribute name. Value: ${pyRepr(arg.name)}.`);
        }
        const meta: Record<string, string> = {};
        if (arg.metadata !== undefined) {
          if (!arg.metadata || typeof arg.metadata !== 'object' || Array.isArray(arg.metadata)) {
            throw badRequest(`Invalid input for field/attribute metadata. Value: ${pyRepr(arg.metadata)}.`);
          }
          for (const [k, v] of Object.entries(arg.metadata as Record<string, unknown>)) {
            if (typeof v !== 'string' || !k || k.length > 255 || v.length > 255) {
              throw badRequest(`Invalid input for field/attribute metadata. Value: ${pyRepr(arg.metadata)}.`);
            }
            meta[k] = v;
          }
        }
        requireState('createImage', ['active', 'stopped', 'paused', 'suspended']);
        const volumeBacked = !s.image_id;
        const properties: Record<string, string> = {
          ...meta,
          image_type: 'snapshot',
          instance_uuid: s.id,
          user_id: token.userId,
          base_image_ref: s.image_id,
          owner_project_name: ctx.projectName(s.project_id) ?? '',
          owner_user_name: token.userName,
          boot_roles: token.roles.join(','),
          ...(volumeBacked ? { bdm_v2: 'True', root_device_name: '/dev/vda' } : {}),
        };
        let image: { id: string };
        try {
          image = await ctx.internal.images.create({
            projectId: s.project_id,
            name,
            ...(s.image_id ? { sourceImageId: s.image_id } : {}),
            properties,
          });
        } catch (e) {
          if (e instanceof InternalError) throw new NovaError(e.status === 503 ? 400 : e.status, e.message);
          throw e;
        }
        go('image_snapshot', s.vm_state, s.power_state);
        if (mv(req) >= 45) return reply.code(202).send({ image_id: image.id });
        reply.header('location', `${ctx.baseUrl}/image/images/${image.id}`);
        return reply.code(202).send();
      }
      default:
        throw badRequest(`There is no such action: ${action}`);
    }
  });

  // ---- metadata ------------------------------------------------------------------------------------------
  const metaQuota = (s: ServerRow, next: Record<string, string>) => {
    const max = ctx.quotaLimit('compute', s.project_id, 'metadata_items');
    if (max >= 0 && Object.keys(next).length > max) {
      throw forbidden(`Maximum number of metadata items exceeds ${max}`);
    }
  };
  const checkMeta = (obj: Record<string, unknown>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v !== 'string' || !k || k.length > 255 || v.length > 255) {
        throw badRequest(`Invalid input for field/attribute metadata. Value: ${JSON.stringify(obj)}.`);
      }
      out[k] = v;
    }
    return out;
  };
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/metadata', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    return { metadata: { ...s.metadata } };
  });
  app.put<{ Params: { id: string } }>('/v2.1/servers/:id/metadata', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    const next = checkMeta(bodyOf(req, 'metadata'));
    metaQuota(s, next);
    s.metadata = next;
    s.updated = Date.now();
    m.servers.put(s);
    return { metadata: { ...s.metadata } };
  });
  app.post<{ Params: { id: string } }>('/v2.1/servers/:id/metadata', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    const next = { ...s.metadata, ...checkMeta(bodyOf(req, 'metadata')) };
    metaQuota(s, next);
    s.metadata = next;
    s.updated = Date.now();
    m.servers.put(s);
    return { metadata: { ...s.metadata } };
  });
  app.get<{ Params: { id: string; key: string } }>('/v2.1/servers/:id/metadata/:key', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    const v = s.metadata[req.params.key];
    if (v === undefined) throw notFound('Metadata item was not found');
    return { meta: { [req.params.key]: v } };
  });
  app.put<{ Params: { id: string; key: string } }>('/v2.1/servers/:id/metadata/:key', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    const meta = checkMeta(bodyOf(req, 'meta'));
    const keys = Object.keys(meta);
    if (keys.length !== 1) throw badRequest('Request body contains too many items');
    if (keys[0] !== req.params.key) throw badRequest('Request body and URI mismatch');
    const next = { ...s.metadata, ...meta };
    metaQuota(s, next);
    s.metadata = next;
    s.updated = Date.now();
    m.servers.put(s);
    return { meta };
  });
  app.delete<{ Params: { id: string; key: string } }>('/v2.1/servers/:id/metadata/:key', async (req, reply) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    if (!(req.params.key in s.metadata)) throw notFound('Metadata item was not found');
    delete s.metadata[req.params.key];
    s.updated = Date.now();
    m.servers.put(s);
    return reply.code(204).send();
  });

  // ---- tags (2.26) ---------------------------------------------------------------------------------------
  const tagged = (req: Parameters<typeof mv>[0]) => {
    if (mv(req) < 26) throw notFound('The resource could not be found.');
  };
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/tags', async (req) => {
    tagged(req);
    return { tags: [...getServer(m, tokenOf(req), req.params.id).tags] };
  });
  app.put<{ Params: { id: string } }>('/v2.1/servers/:id/tags', async (req) => {
    tagged(req);
    const s = getServer(m, tokenOf(req), req.params.id);
    const tags = (req.body as { tags?: unknown } | undefined)?.tags;
    if (!Array.isArray(tags) || tags.length > 50) throw badRequest('Invalid input for field/attribute tags.');
    s.tags = [...new Set(tags.map(String))];
    m.servers.put(s);
    return { tags: [...s.tags] };
  });
  app.delete<{ Params: { id: string } }>('/v2.1/servers/:id/tags', async (req, reply) => {
    tagged(req);
    const s = getServer(m, tokenOf(req), req.params.id);
    s.tags = [];
    m.servers.put(s);
    return reply.code(204).send();
  });
  app.get<{ Params: { id: string; tag: string } }>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    tagged(req);
    const s = getServer(m, tokenOf(req), req.params.id);
    if (!s.tags.includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`);
    return reply.code(204).send();
  });
  app.put<{ Params: { id: string; tag: string } }>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    tagged(req);
    const s = getServer(m, tokenOf(req), req.params.id);
    const existed = s.tags.includes(req.params.tag);
    if (!existed) s.tags.push(req.params.tag);
    m.servers.put(s);
    reply.header('location', `${ctx.baseUrl}/compute/v2.1/servers/${s.id}/tags/${encodeURIComponent(req.params.tag)}`);
    return reply.code(existed ? 204 : 201).send();
  });
  app.delete<{ Params: { id: string; tag: string } }>('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    tagged(req);
    const s = getServer(m, tokenOf(req), req.params.id);
    if (!s.tags.includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`);
    s.tags = s.tags.filter((t) => t !== req.params.tag);
    m.servers.put(s);
    return reply.code(204).send();
  });

  // ---- volume attachments --------------------------------------------------------------------------------
  const renderAttachment = (req: Parameters<typeof mv>[0], s: ServerRow, v: ServerRow['volumes'][number]) => {
    const out: Record<string, unknown> = { id: v.id, volumeId: v.id, serverId: s.id, device: v.device };
    if (mv(req) >= 70) out.tag = v.tag;
    if (mv(req) >= 79) out.delete_on_termination = v.delete_on_termination;
    if (mv(req) >= 89) {
      delete out.id;
      out.attachment_id = v.attachment_id;
      out.bdm_uuid = v.attachment_id;
    }
    return out;
  };
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/os-volume_attachments', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    return { volumeAttachments: s.volumes.map((v) => renderAttachment(req, s, v)) };
  });
  app.get<{ Params: { id: string; vol: string } }>('/v2.1/servers/:id/os-volume_attachments/:vol', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    const v = s.volumes.find((x) => x.id === req.params.vol);
    if (!v) throw notFound(`Volume ${req.params.vol} is not attached to the instance ${s.id}`);
    return { volumeAttachment: renderAttachment(req, s, v) };
  });
  app.post<{ Params: { id: string } }>('/v2.1/servers/:id/os-volume_attachments', async (req, reply) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    checkLock(token, s);
    const b = bodyOf(req, 'volumeAttachment');
    const volumeId = typeof b.volumeId === 'string' ? b.volumeId : '';
    if (!volumeId)
      throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
    if (s.task_state || !['active', 'stopped', 'paused', 'suspended'].includes(s.vm_state))
      throw stateConflict('attach_volume', s);
    if (s.volumes.some((v) => v.id === volumeId)) {
      throw badRequest(`Invalid volume: volume ${volumeId} already attached`);
    }
    let vol: ReturnType<CloudContext['internal']['volumes']['get']>;
    try {
      vol = ctx.internal.volumes.get(volumeId);
    } catch (e) {
      if (e instanceof InternalError) throw new NovaError(e.status === 503 ? 400 : e.status, e.message);
      throw e;
    }
    if (!vol || (vol.projectId !== s.project_id && !token.isAdmin))
      throw notFound(`Volume ${volumeId} could not be found.`);
    if (vol.status !== 'available') throw badRequest(`Invalid volume: volume ${volumeId} status must be available`);
    const device = typeof b.device === 'string' && b.device ? b.device : nextDevice(s);
    if (s.volumes.some((v) => v.device === device)) throw badRequest(`The supplied device path (${device}) is in use.`);
    try {
      ctx.internal.volumes.attach(volumeId, s.id, device);
    } catch (e) {
      if (e instanceof InternalError)
        throw new NovaError(e.status >= 500 ? 400 : e.status, `Invalid volume: ${e.message}`);
      throw e;
    }
    const entry = {
      id: volumeId,
      device,
      delete_on_termination: mv(req) >= 79 ? Boolean(b.delete_on_termination) : false,
      boot_index: null,
      attachment_id: randomUUID(),
      tag: mv(req) >= 49 && typeof b.tag === 'string' ? b.tag : null,
    };
    s.volumes.push(entry);
    recordAction(s, 'attach_volume', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId);
    s.updated = Date.now();
    m.servers.put(s);
    return { volumeAttachment: renderAttachment(req, s, entry) };
  });
  app.delete<{ Params: { id: string; vol: string } }>(
    '/v2.1/servers/:id/os-volume_attachments/:vol',
    async (req, reply) => {
      const token = tokenOf(req);
      const s = getServer(m, token, req.params.id);
      checkLock(token, s);
      const v = s.volumes.find((x) => x.id === req.params.vol);
      if (!v) throw notFound(`Volume ${req.params.vol} is not attached to the instance ${s.id}`);
      if (v.boot_index === 0) throw badRequest(`Cannot detach a root device volume`);
      if (s.task_state) throw stateConflict('detach_volume', s);
      try {
        ctx.internal.volumes.detach(v.id, s.id);
      } catch (e) {
        if (e instanceof InternalError) throw new NovaError(e.status >= 500 ? 400 : e.status, e.message);
        throw e;
      }
      s.volumes = s.volumes.filter((x) => x.id !== v.id);
      recordAction(s, 'detach_volume', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId);
      s.updated = Date.now();
      m.servers.put(s);
      return reply.code(202).send();
    },
  );
}
