/**
 * Plankton, Synnefo's image service, as its image API guide (docs/plankton-api-guide.rst) and kamaki's
 * `image register` describe it: an image is a file already in Pithos, registered by `PUT /images/` with
 * `X-Image-Meta-Name` and `X-Image-Meta-Location: pithos://<user uuid>/<container>/<path>` (plus optional
 * disk/container format, `X-Image-Meta-Is-Public` and `X-Image-Meta-Property-*`); the answer carries the image as
 * `X-Image-Meta-*` headers. `GET /images/` lists {id, name, disk_format, container_format, size, status} and
 * `GET /images/detail` every field, both as a bare JSON list; `HEAD /images/<id>` answers headers;
 * `DELETE /images/<id>` unregisters (the file stays in Pithos).
 * Quota: an image takes no quota of its own. Its bytes are the Pithos object's, charged as `pithos.diskspace` to the
 * project of the object's container when the file was uploaded; registering or unregistering changes no usage.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden, itemNotFound, userOf } from './http.ts';
import type { SynnefoModel } from './model.ts';

export const PLANKTON_PREFIX = '/cyclades/image/v1.0';

export interface PlanktonImage {
  id: string;
  name: string;
  owner: string;
  location: string;
  size: number;
  checksum: string;
  disk_format: string;
  container_format: string;
  is_public: boolean;
  status: string;
  created_at: string;
  updated_at: string;
  deleted_at: string;
  properties: Record<string, string>;
}

type ObjectAt = (
  account: string,
  container: string,
  name: string,
) => { bytes: number; project: string; hash: string } | undefined;

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Plankton's time format (kamaki prints `created-at: 2013-06-19 08:00:22`). */
const planktonTime = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

export function planktonRoutes(app: FastifyInstance, model: SynnefoModel, objectAt: ObjectAt) {
  const images = new Map<string, PlanktonImage>();
  const visible = (user: string) => [...images.values()].filter((i) => i.owner === user || i.is_public);
  const summary = (i: PlanktonImage) => ({
    id: i.id,
    name: i.name,
    disk_format: i.disk_format,
    container_format: i.container_format,
    size: i.size,
    status: i.status,
  });
  const metaHeaders = (reply: FastifyReply, i: PlanktonImage) => {
    for (const [k, v] of Object.entries(i)) {
      if (k === 'properties') continue;
      reply.header(`x-image-meta-${k.replaceAll('_', '-')}`, String(v));
    }
    for (const [k, v] of Object.entries(i.properties)) reply.header(`x-image-meta-property-${k}`, v);
  };
  const imageOf = (req: FastifyRequest<{ Params: { id: string } }>) => {
    const user = userOf(model, req);
    const i = images.get(req.params.id);
    if (!i || (i.owner !== user.uuid && !i.is_public)) throw itemNotFound('Image not found');
    return { user, image: i };
  };

  for (const path of [`${PLANKTON_PREFIX}/images`, `${PLANKTON_PREFIX}/images/`]) {
    app.get(path, async (req) => visible(userOf(model, req).uuid).map(summary));
    app.put(path, async (req, reply) => {
      const user = userOf(model, req);
      const name = header(req, 'x-image-meta-name');
      const location = header(req, 'x-image-meta-location');
      if (!name) throw badRequest('Missing name');
      if (!location) throw badRequest('Missing location');
      const m = /^pithos:\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(location);
      if (!m) throw badRequest(`Invalid location '${location}'`);
      const [, account, container, object] = m as unknown as [string, string, string, string];
      if (account !== user.uuid) throw forbidden('Not allowed to register an image from another account');
      const file = objectAt(account, container, object);
      if (!file) throw badRequest(`Invalid location '${location}': no such object`);
      const properties: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (k.startsWith('x-image-meta-property-') && typeof v === 'string')
          properties[k.slice('x-image-meta-property-'.length)] = v;
      }
      const now = planktonTime(new Date());
      const image: PlanktonImage = {
        id: randomUUID(),
        name,
        owner: user.uuid,
        location,
        size: file.bytes,
        // Pithos' hash of the file (the Merkle root of its block hashes), as Plankton reports it.
        checksum: file.hash,
        disk_format: header(req, 'x-image-meta-disk-format') ?? 'diskdump',
        container_format: header(req, 'x-image-meta-container-format') ?? 'bare',
        is_public: (header(req, 'x-image-meta-is-public') ?? 'false').toLowerCase() === 'true',
        status: 'AVAILABLE',
        created_at: now,
        updated_at: now,
        deleted_at: '',
        properties,
      };
      images.set(image.id, image);
      metaHeaders(reply, image);
      return reply.code(200).send();
    });
  }
  app.get(`${PLANKTON_PREFIX}/images/detail`, async (req) => visible(userOf(model, req).uuid));
  app.head<{ Params: { id: string } }>(`${PLANKTON_PREFIX}/images/:id`, async (req, reply) => {
    metaHeaders(reply, imageOf(req).image);
    return reply.code(200).send();
  });
  app.delete<{ Params: { id: string } }>(`${PLANKTON_PREFIX}/images/:id`, async (req, reply) => {
    const { user, image } = imageOf(req);
    if (image.owner !== user.uuid) throw forbidden('Not allowed to delete an image of another account');
    images.delete(image.id);
    return reply.code(204).send();
  });
  return { images };
}
