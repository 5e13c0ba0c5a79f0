/**
 * `image create --file` (streamed, sha256 + md5 stored, idempotent by name + hash through the cloud layer's
 * createImage, `--project` through connectionInProject) and `image save --file` (streamed to a temporary file,
 * checked against Glance's checksum, then renamed into place).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { type CloudLayer, connectionInProject, ErrorCode, type GlanceImage, OcxError } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context.ts';
import { FileTee } from '../file-tee.ts';
import type { Row } from '../output.ts';
import { reportFatal, runEach, withOutputOptions } from '../run.ts';
import { collectValues, findImage, parseProperties } from './common.ts';

/** Uploads and downloads may take long: per cloud, unless `--timeout` says otherwise. */
const TRANSFER_DEADLINE_MS = 60 * 60_000;

interface CreateOpts {
  file?: string;
  diskFormat?: string;
  containerFormat: string;
  public?: boolean;
  private?: boolean;
  property: string[];
  tag: string[];
  minDisk?: string;
  minRam?: string;
  project?: string;
}

function wholeNumber(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new OcxError(ErrorCode.BAD_REQUEST, `${option} expects a whole number, got '${value}'`);
  return n;
}

export function registerImageTransfer(image: Command, ctx: CliContext, imageRow: (raw: GlanceImage) => Row): void {
  withOutputOptions(image.command('create').description('Create/upload an image').argument('<image-name>'))
    .option('--file <file>', 'upload image from local file (streamed)')
    .option('--disk-format <disk-format>', 'image disk format (default: the cloud’s image_format, else qcow2)')
    .option('--container-format <container-format>', 'image container format', 'bare')
    .option('--public', 'image is accessible to the public')
    .option('--private', 'image is inaccessible to the public (default)')
    .option('--property <key=value>', 'set a property on this image (repeatable)', collectValues, [])
    .option('--tag <tag>', 'set a tag on this image (repeatable)', collectValues, [])
    .option('--min-disk <disk-gb>', 'minimum disk size needed to boot image, in gigabytes')
    .option('--min-ram <ram-mb>', 'minimum RAM size needed to boot image, in megabytes')
    .option('--project <project>', 'create the image in this project (name or ID; issue 14)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals() as CreateOpts & GlobalOptions;
      let req: Parameters<CloudLayer['createImage']>[1];
      try {
        if (o.public && o.private) throw new OcxError(ErrorCode.BAD_REQUEST, '--public and --private are exclusive');
        req = {
          filename: o.file === undefined ? undefined : resolve(ctx.cwd, o.file),
          diskFormat: o.diskFormat,
          containerFormat: o.containerFormat,
          isPublic: o.public === true,
          meta: parseProperties(o.property),
          tags: o.tag.length ? o.tag : undefined,
          minDisk: wholeNumber(o.minDisk, '--min-disk'),
          minRam: wholeNumber(o.minRam, '--min-ram'),
        };
      } catch (err) {
        reportFatal(ctx, err);
        return;
      }
      // Hashed once here, so no cloud hashes it again; over several clouds one read feeds every upload.
      let hashes: { md5: string; sha256: string } | undefined;
      if (req.filename) {
        try {
          hashes = await hashOf(req.filename);
        } catch (err) {
          reportFatal(
            ctx,
            new OcxError(ErrorCode.BAD_REQUEST, `cannot read --file '${o.file}': ${(err as Error).message}`),
          );
          return;
        }
      }
      let tee: FileTee | undefined;
      await runEach(
        cmd,
        ctx,
        async (conn, fctx) => {
          const branch = tee?.join();
          try {
            const target = o.project ? await connectionInProject(conn, o.project) : conn;
            const cloud = target.cloudLayer;
            const source = branch ? { filename: undefined, data: branch } : {};
            const created = await cloud.createImage(name, {
              ...req,
              ...source,
              ...hashes,
              signal: fctx.signal,
              timeoutMs: fctx.deadline - Date.now(),
            });
            return imageRow(await cloud.image.getImage(created.id, { signal: fctx.signal }));
          } finally {
            // Not wanted (the image was already there) or the upload failed: let the others go on without it.
            if (branch && !branch.readableEnded) branch.destroy();
          }
        },
        {
          defaultDeadlineMs: TRANSFER_DEADLINE_MS,
          onTargets: (names) => {
            if (req.filename && hashes && names.length > 1)
              tee = new FileTee(req.filename, names.length, hashes.sha256);
          },
        },
      );
    });

  image
    .command('save')
    .description('Save an image locally')
    .argument('<image>')
    .requiredOption('--file <filename>', 'downloaded image save filename')
    .action(async (ref: string, opts: { file: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      if (g.allClouds || g.osCloud.length > 1) {
        reportFatal(ctx, new OcxError(ErrorCode.BAD_REQUEST, 'image save writes one file: choose one cloud'));
        return;
      }
      const file = resolve(ctx.cwd, opts.file);
      await runEach(
        cmd,
        ctx,
        async (conn, fctx) => {
          const cloud = conn.cloudLayer;
          const img = await findImage(cloud, ref);
          // Into FILE.part first: a failed or corrupt download never leaves a file that looks complete.
          const part = `${file}.part`;
          try {
            const md5 = await downloadTo(cloud, img.id, part, fctx.signal);
            if (img.checksum && img.checksum !== md5)
              throw new OcxError(
                ErrorCode.INVALID_RESPONSE,
                `image ${img.id}: downloaded data has md5 ${md5}, Glance's checksum is ${img.checksum}`,
                { resourceId: img.id },
              );
            await rename(part, file);
          } catch (err) {
            await rm(part, { force: true });
            throw err;
          }
          return undefined;
        },
        { defaultDeadlineMs: TRANSFER_DEADLINE_MS },
      );
    });
}

/** md5 and sha256 of a file, read as a stream. */
async function hashOf(path: string): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** Stream image `id` into `path` (never held in memory), hashing as it goes; returns the md5 hex digest. */
async function downloadTo(cloud: CloudLayer, id: string, path: string, signal: AbortSignal): Promise<string> {
  const md5 = createHash('md5');
  const out = createWriteStream(path, { mode: 0o600 });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      md5.update(chunk);
      if (out.write(chunk)) done();
      else out.once('drain', () => done());
    },
    final(done) {
      out.end(() => done());
    },
    destroy(err, done) {
      out.destroy();
      done(err);
    },
  });
  out.on('error', (err) => sink.destroy(err));
  await cloud.image.downloadImageData(id, sink, { signal });
  return md5.digest('hex');
}
