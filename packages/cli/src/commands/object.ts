/**
 * `ocx object create|list|show|delete|save`: Swift objects with python-openstackclient's names and columns. Large
 * files go up as static large objects in parallel segments (resumable, verified) and come down in parallel ranges
 * (verified), with a progress bar on a terminal.
 */

import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { downloadFile, ErrorCode, isFolder, type ObjectStoreClient, OcxError, uploadFile } from '@ocx/sdk';
import { type Command, Option } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { progressBar, progressWanted } from '../progress.ts';
import { withOutputOptions } from '../run.ts';
import { accountOf, properties, renderRows, renderShow, runStore, type StoreOptions } from './store-run.ts';

export const OBJECT_CREATE_COLUMNS = ['object', 'container', 'etag'];
export const OBJECT_LIST_COLUMNS = ['Name'];
export const OBJECT_LONG_COLUMNS = ['Name', 'Bytes', 'Hash', 'Content Type', 'Last Modified'];

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new OcxError(ErrorCode.BAD_REQUEST, `${flag} expects a positive whole number, got '${v}'`);
    return n;
  };
}

function transferOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--threads <n>', 'segments or ranges moved at once (default 4)').argParser(positiveInt('--threads')),
    )
    .addOption(
      new Option(
        '--segment-size <bytes>',
        'bytes per segment of a large object (default 32 MiB, or what /info requires)',
      ).argParser(positiveInt('--segment-size')),
    )
    .option('--no-progress', 'do not draw a progress bar on stderr');
}

/** Delete an object; a static large object's segments go with it (`multipart-manifest=delete`), as `swift delete` does. */
async function deleteObject(store: ObjectStoreClient, container: string, name: string, signal: AbortSignal) {
  const stat = await store.headObject(container, name, { signal });
  if (stat.headers.get('x-static-large-object')?.toLowerCase() === 'true') {
    const path = `/${encodeURIComponent(container)}/${name.split('/').map(encodeURIComponent).join('/')}`;
    const res = await store.http.delete(path, { signal, query: { 'multipart-manifest': 'delete' } });
    await res.dump();
    return;
  }
  await store.deleteObject(container, name, { signal });
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const object = program.command('object').description('Object storage objects (Swift)');

  transferOptions(withOutputOptions(object.command('create').description('Upload object to container')))
    .argument('<container>', 'container for new object')
    .argument('<filename...>', 'local filename(s) to upload')
    .option('--name <name>', 'upload a file and rename it (only with one file)')
    .action(
      async (
        container: string,
        files: string[],
        opts: { name?: string; threads?: number; segmentSize?: number },
        cmd: Command,
      ) => {
        if (opts.name !== undefined && files.length > 1) {
          ctx.err('Error: attempting to upload multiple objects and using --name is not permitted\n');
          ctx.exitCode = 2;
          return;
        }
        const g = cmd.optsWithGlobals() as StoreOptions;
        const bar = progressBar(ctx, 'upload', progressWanted(ctx, g));
        await runStore(cmd, ctx, {
          kind: 'change',
          transfer: true,
          fetch: async (conn, fctx, cloud) => {
            const rows: Row[] = [];
            for (const file of files) {
              const name = opts.name ?? file;
              const r = await uploadFile(conn.objectStore, container, name, resolve(ctx.cwd, file), {
                signal: fctx.signal,
                threads: opts.threads,
                segmentSize: opts.segmentSize,
                onProgress: bar.listener(`${cloud}\n${file}`),
              });
              rows.push({ object: r.name, container: r.container, etag: r.etag });
            }
            return rows;
          },
          finished: () => bar.done(),
          render: (results, several, output) => renderRows(OBJECT_CREATE_COLUMNS, results, several, output),
        });
      },
    );

  withOutputOptions(object.command('list').description('List objects'))
    .argument('<container>', 'container to list')
    .option('--prefix <prefix>', 'filter list using <prefix>')
    .option('--delimiter <delimiter>', 'roll up items with <delimiter>')
    .option('--long', 'list additional fields in output')
    .action(async (container: string, opts: { prefix?: string; delimiter?: string; long?: boolean }, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'read',
        fetch: async (conn, fctx) => {
          const entries = await conn.cloudLayer.listObjectEntries(container, {
            prefix: opts.prefix,
            delimiter: opts.delimiter,
            signal: fctx.signal,
          });
          return entries.map(
            (o): Row =>
              isFolder(o)
                ? { Name: o.subdir }
                : {
                    Name: o.name,
                    Bytes: o.bytes,
                    Hash: o.hash,
                    'Content Type': o.content_type,
                    'Last Modified': o.last_modified,
                  },
          );
        },
        render: (results, several, output) =>
          renderRows(opts.long ? OBJECT_LONG_COLUMNS : OBJECT_LIST_COLUMNS, results, several, output),
      });
    });

  withOutputOptions(object.command('show').description('Display object details'))
    .argument('<container>', 'container of the object')
    .argument('<object>', 'object to display')
    .action(async (container: string, name: string, _opts: unknown, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'read',
        fetch: async (conn, fctx) => {
          const account = await accountOf(conn, fctx.signal);
          const st = await conn.objectStore.headObject(container, name, { signal: fctx.signal });
          const row: Row = {
            account,
            container,
            'content-length': String(st.contentLength ?? 0),
            'content-type': st.contentType ?? '',
            // As OSC prints it: the header as sent (a static large object's is quoted).
            etag: st.headers.get('etag') ?? '',
            'last-modified': st.lastModified ?? '',
            object: name,
          };
          const props = properties(st.metadata);
          if (props) row.properties = props;
          const manifest = st.headers.get('x-object-manifest');
          if (manifest !== null) row['x-object-manifest'] = manifest;
          return row;
        },
        render: (results, several, output) => renderShow((r) => Object.keys(r).sort(), results, several, output),
      });
    });

  object
    .command('delete')
    .description('Delete object from container')
    .argument('<container>', 'delete object(s) from <container>')
    .argument('<object...>', 'object(s) to delete')
    .action(async (container: string, names: string[], _opts: unknown, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'change',
        fetch: async (conn, fctx) => {
          for (const name of names) await deleteObject(conn.objectStore, container, name, fctx.signal);
          return [];
        },
        render: () => undefined,
      });
    });

  transferOptions(object.command('save').description('Save object locally'))
    .argument('<container>', 'download <object> from <container>')
    .argument('<object>', 'object to save')
    .option('--file <filename>', 'destination filename (defaults to object name)')
    .action(async (container: string, name: string, opts: { file?: string; threads?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as StoreOptions;
      const bar = progressBar(ctx, 'download', progressWanted(ctx, g));
      await runStore(cmd, ctx, {
        kind: 'change',
        transfer: true,
        fetch: async (conn, fctx, cloud) => {
          // Without --file the object's name is the path, pseudo-folders included (made as needed, as OSC does).
          const file = resolve(ctx.cwd, opts.file ?? name);
          if (opts.file === undefined && name.includes('/')) await mkdir(dirname(file), { recursive: true });
          await downloadFile(conn.objectStore, container, name, file, {
            signal: fctx.signal,
            threads: opts.threads,
            onProgress: bar.listener(cloud),
          });
          return [];
        },
        finished: () => bar.done(),
        render: () => undefined,
      });
    });
};
