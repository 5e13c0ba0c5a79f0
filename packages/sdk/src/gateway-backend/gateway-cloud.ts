/**
 * `GatewayCloud`: the cloud layer of a clouds.yaml cloud with `gateway:` — the same `CloudLayer` as the REST
 * `Cloud`, talking gRPC to an OCX gateway. A chain of classes, one capability each (as the REST facade):
 *   gateway-core.ts     GatewayCore: session, gRPC client, caches, location filter, limits, capabilities
 *   gateway-compute.ts  GatewayCompute: flavors, keypairs, limits, zones, the server watch
 *   gateway-servers.ts  GatewayServers: servers (list cache, create with push, wait, power actions, delete)
 *   gateway-network.ts  GatewayNetwork: networks, subnets, routers
 *   gateway-ports.ts    GatewayPorts: ports, security groups and rules, floating IPs
 *   gateway-volumes.ts  GatewayVolumes: volumes and attaching them to servers
 *   gateway-objects.ts  GatewayObjects: object-store containers and objects
 *   gateway-updates.ts  GatewayUpdates: network, subnet, port and volume updates (the creates on their names)
 *   gateway-cloud.ts    GatewayCloud: images (listed, created with the streaming UploadImage, snapshots, deleted)
 * What the gateway has no RPC for answers UNSUPPORTED (unsupported.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Ref } from '../cloud/core.ts';
import { DEFAULT_IMAGE_TIMEOUT_MS, refId } from '../cloud/core.ts';
import { filterList, single } from '../cloud/filter.ts';
import { hashFile, toReadable } from '../cloud/image-hash.ts';
import type { CreateImageOptions, ListImagesOptions } from '../cloud/images.ts';
import type { CloudLayer } from '../cloud/layer.ts';
import type { Filters, Image } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { UploadImageRequestSchema } from '../gen/ocx/cloud/v1/transfer_service_pb.ts';
import { isNotFound } from '../services/common.ts';
import { rechunk } from '../transfer/rechunk.ts';
import { fromImage } from './convert.ts';
import { ANSWER_MARGIN_MS, seconds } from './gateway-servers.ts';
import { GatewayUpdates } from './gateway-updates.ts';
import { type UploadFrames, uploadFrames } from './upload-frames.ts';

/**
 * The gateway takes image data in chunks of at most 1 MiB; 16 bytes less leaves room for the field's tag and length,
 * so each message encodes in a 1 MiB buffer, not a zero-filled 2 MiB one (docs/gateway.md, BENCHMARKS.md).
 */
const CHUNK = 1024 * 1024 - 16;

type UploadPart = MessageInitShape<typeof UploadImageRequestSchema>;

async function* bytesOf(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for await (const piece of source) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
}

/** Full messages of CHUNK bytes: a file's 64 KiB reads joined, larger pieces cut. */
async function* chunked(source: AsyncIterable<Uint8Array | string>, frames: UploadFrames): AsyncGenerator<UploadPart> {
  for await (const value of rechunk(bytesOf(source), CHUNK)) yield frames.chunk(value);
}

export class GatewayCloud extends GatewayUpdates implements CloudLayer {
  // ---------------------------------------------------------------- images

  async listImages(opts: ListImagesOptions = {}): Promise<Image[]> {
    if (opts.showAll) throw this.unsupportedError('listImages({ showAll: true })');
    const images = await this.caches.images.get(async () => {
      const r = await this.client.run('ListImages', opts, (o) =>
        this.client.cloud.listImages({ filter: this.filter() }, o),
      );
      this.check(r.failures);
      return r.images.map((i) => fromImage(i, this.name));
    });
    if (images.some((i) => ['queued', 'saving', 'importing', 'uploading'].includes(i.status))) {
      this.caches.images.invalidate();
    }
    return images;
  }

  async searchImages(nameOrId?: string, filters?: Filters): Promise<Image[]> {
    return filterList(await this.listImages(), nameOrId, filters);
  }

  async getImage(nameOrId: Ref, filters?: Filters): Promise<Image | null> {
    if (typeof nameOrId === 'object') return nameOrId as Image;
    return single(await this.searchImages(nameOrId, filters), 'image', nameOrId);
  }

  async getImageById(id: string): Promise<Image | null> {
    try {
      const r = await this.client.run('GetImage', {}, (o) =>
        this.client.cloud.getImage({ filter: this.filter(id) }, o),
      );
      return r.image && r.image.id === id ? fromImage(r.image, this.name) : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /**
   * Create an image; its data goes up the gateway's client-streaming UploadImage in chunks of at most 1 MiB, never
   * held whole here. The gateway checks the sha256 it is told first (given, or computed from a file or bytes; a
   * stream needs `sha256`) and is idempotent by name + hash as the REST backend (unless `allowDuplicates`).
   */
  async createImage(name: string, opts: CreateImageOptions = {}): Promise<Image> {
    if (opts.filename && opts.data) {
      throw new OcxError(ErrorCode.BAD_REQUEST, 'createImage: filename and data are mutually exclusive');
    }
    if (opts.minDisk !== undefined || opts.minRam !== undefined) {
      throw this.unsupportedError('createImage option minDisk/minRam');
    }
    const visibility = opts.visibility ?? (opts.isPublic ? 'public' : '');
    const diskFormat = opts.diskFormat ?? this.opts.imageFormat ?? '';
    const bounds = { signal: opts.signal, timeoutMs: opts.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS };
    try {
      if (!opts.filename && opts.data === undefined) {
        const r = await this.client.run('CreateImage', bounds, (o) =>
          this.client.cloud.createImage(
            {
              location: this.at(),
              name,
              diskFormat,
              containerFormat: opts.containerFormat ?? '',
              visibility,
              meta: opts.meta ?? {},
              tags: opts.tags ?? [],
              wait: !!opts.wait,
              allowDuplicates: !!opts.allowDuplicates,
            },
            o,
          ),
        );
        if (!r.image) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no image', { cloud: this.name });
        return fromImage(r.image, this.name);
      }
      if (opts.tags?.length) throw this.unsupportedError('createImage with tags and data');
      const sha256 = opts.sha256 ?? (await this.#sha256Of(opts));
      const source: AsyncIterable<Uint8Array | string> = opts.filename
        ? createReadStream(opts.filename)
        : toReadable(opts.data as Readable | AsyncIterable<Uint8Array> | Uint8Array);
      const at = this.at();
      async function* parts(frames: UploadFrames): AsyncGenerator<UploadPart> {
        yield {
          part: {
            case: 'metadata',
            value: {
              location: at,
              name,
              diskFormat,
              containerFormat: opts.containerFormat ?? '',
              visibility,
              meta: opts.meta ?? {},
              sha256,
              wait: !!opts.wait,
              allowDuplicates: !!opts.allowDuplicates,
            },
          },
        };
        yield* chunked(source, frames);
      }
      // Chunks written as they are, past Connect-ES's encoder (upload-frames.ts says why).
      const r = await this.client.run('UploadImage', bounds, async (o) => {
        const frames = uploadFrames();
        try {
          return await this.client.transfer.uploadImage(parts(frames), { ...o, headers: frames.headers });
        } finally {
          frames.done();
        }
      });
      if (!r.image) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no image', { cloud: this.name });
      return fromImage(r.image, this.name);
    } finally {
      this.caches.images.invalidate();
    }
  }

  async #sha256Of(opts: CreateImageOptions): Promise<string> {
    if (opts.filename) return (await hashFile(opts.filename, opts.signal)).sha256;
    if (opts.data instanceof Uint8Array) return createHash('sha256').update(opts.data).digest('hex');
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `createImage on cloud '${this.name}' (through a gateway) from a stream needs its sha256 up front (opts.sha256); the gateway checks it`,
      { cloud: this.name },
    );
  }

  /** Snapshot a server into an image (CreateImageSnapshot); `wait` until active is done by the gateway. */
  async createImageSnapshot(
    name: string,
    server: Ref,
    opts: { metadata?: Record<string, string>; wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Image> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS;
    const bounds = opts.wait
      ? { signal: opts.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS }
      : { signal: opts.signal };
    try {
      const r = await this.client.run('CreateImageSnapshot', bounds, (c) =>
        this.client.cloud.createImageSnapshot(
          {
            filter: this.filter(refId(server) ?? (server as string)),
            name,
            metadata: opts.metadata ?? {},
            wait: !!opts.wait,
            timeoutSeconds: seconds(timeoutMs),
          },
          c,
        ),
      );
      if (!r.image) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no image', { cloud: this.name });
      return fromImage(r.image, this.name);
    } finally {
      this.caches.images.invalidate();
    }
  }

  /** False when no such image. `wait` until Glance has removed it is done by the gateway. */
  async deleteImage(
    nameOrId: Ref,
    opts: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const id = refId(nameOrId) ?? (await this.getImage(nameOrId))?.id;
    if (!id) return false;
    try {
      const r = await this.client.run('DeleteImage', { signal: opts.signal, timeoutMs: opts.timeoutMs }, (o) =>
        this.client.cloud.deleteImage({ filter: this.filter(id), wait: !!opts.wait }, o),
      );
      return r.deleted;
    } finally {
      this.caches.images.invalidate();
    }
  }
}
