/** Glance image tags, actions (deactivate/reactivate) and members (sharing an image with other projects). */
import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../fault.ts';
import { tok } from './http.ts';
import { canModify, glanceTime, type ImageMember, type ImageRow } from './images.ts';
import { findImage, type GlanceDeps, modifiable, nowIso, touch } from './store.ts';

function renderMember(img: ImageRow, m: ImageMember) {
  return {
    created_at: glanceTime(m.createdAt),
    image_id: img.id,
    member_id: m.memberId,
    schema: '/v2/schemas/member',
    status: m.status,
    updated_at: glanceTime(m.updatedAt),
  };
}

export function sharingRoutes(app: FastifyInstance, g: GlanceDeps): void {
  const { ctx, table } = g;
  app.put<{ Params: { id: string; tag: string } }>('/v2/images/:id/tags/:tag', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id);
    const tag = req.params.tag;
    if (tag.length > 255) throw new ApiFault(400, `Provided object does not match schema 'image': tag is too long`);
    if (!img.tags.includes(tag)) {
      if (img.tags.length >= 128) throw new ApiFault(413, 'Maximum number of tags exceeded (128).');
      img.tags.push(tag);
      touch(img);
      table.put(img);
    }
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string; tag: string } }>('/v2/images/:id/tags/:tag', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id);
    const idx = img.tags.indexOf(req.params.tag);
    if (idx < 0) throw new ApiFault(404, 'The resource could not be found.');
    img.tags.splice(idx, 1);
    touch(img);
    table.put(img);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string; action: string } }>('/v2/images/:id/actions/:action', async (req, reply) => {
    const { action } = req.params;
    if (action !== 'deactivate' && action !== 'reactivate') throw new ApiFault(404, 'The resource could not be found.');
    const img = modifiable(ctx, req, req.params.id, `${action}`);
    if (action === 'deactivate') {
      if (img.status !== 'active' && img.status !== 'deactivated') {
        throw new ApiFault(403, `Not allowed to deactivate image in status '${img.status}'`);
      }
      img.status = 'deactivated';
    } else {
      if (img.status !== 'active' && img.status !== 'deactivated') {
        throw new ApiFault(403, `Not allowed to reactivate image in status '${img.status}'`);
      }
      img.status = 'active';
    }
    touch(img);
    table.put(img);
    return reply.code(204).send();
  });

  // Members (sharing an image with other projects).
  app.get<{ Params: { id: string } }>('/v2/images/:id/members', async (req) => {
    const img = findImage(ctx, req, req.params.id);
    const t = tok(req);
    if (img.visibility !== 'shared') throw new ApiFault(403, 'Only shared images have members.');
    const members = canModify(img, t) ? img.members : img.members.filter((m) => m.memberId === t.projectId);
    return { members: members.map((m) => renderMember(img, m)), schema: '/v2/schemas/members' };
  });

  app.post<{ Params: { id: string } }>('/v2/images/:id/members', async (req) => {
    const img = modifiable(ctx, req, req.params.id, 'add_member');
    if (img.visibility !== 'shared') throw new ApiFault(403, 'Only shared images have members.');
    const member = (req.body as { member?: unknown } | undefined)?.member;
    if (typeof member !== 'string' || member === '') throw new ApiFault(400, 'Member to be added not specified');
    if (img.members.some((m) => m.memberId === member)) {
      throw new ApiFault(409, `Member ${member} already associated with image ${img.id}.`);
    }
    const now = nowIso();
    const m: ImageMember = { memberId: member, status: 'pending', createdAt: now, updatedAt: now };
    img.members.push(m);
    table.put(img);
    return renderMember(img, m);
  });

  app.get<{ Params: { id: string; member: string } }>('/v2/images/:id/members/:member', async (req) => {
    const img = findImage(ctx, req, req.params.id);
    const t = tok(req);
    const m = img.members.find((x) => x.memberId === req.params.member);
    if (!m || (!canModify(img, t) && m.memberId !== t.projectId)) {
      throw new ApiFault(404, `${req.params.member} is not a member of image ${img.id}`);
    }
    return renderMember(img, m);
  });

  app.put<{ Params: { id: string; member: string } }>('/v2/images/:id/members/:member', async (req) => {
    const img = findImage(ctx, req, req.params.id);
    const t = tok(req);
    const m = img.members.find((x) => x.memberId === req.params.member);
    if (!m) throw new ApiFault(404, `${req.params.member} is not a member of image ${img.id}`);
    if (m.memberId !== t.projectId && !t.isAdmin) {
      throw new ApiFault(403, 'You are not authorized to complete modify_member action.');
    }
    const status = (req.body as { status?: unknown } | undefined)?.status;
    if (status !== 'pending' && status !== 'accepted' && status !== 'rejected') {
      throw new ApiFault(
        400,
        `Provided object does not match schema 'member': ${JSON.stringify(status)} is not one of ['pending', 'accepted', 'rejected']`,
      );
    }
    m.status = status;
    m.updatedAt = nowIso();
    table.put(img);
    return renderMember(img, m);
  });

  app.delete<{ Params: { id: string; member: string } }>('/v2/images/:id/members/:member', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id, 'delete_member');
    const idx = img.members.findIndex((x) => x.memberId === req.params.member);
    if (idx < 0) throw new ApiFault(404, `${req.params.member} is not a member of image ${img.id}`);
    img.members.splice(idx, 1);
    table.put(img);
    return reply.code(204).send();
  });
}
