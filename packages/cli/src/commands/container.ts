/** `ocx container create|list|show|delete`: Swift containers, with python-openstackclient's columns. */
import { connectionInProject, isSynnefoCloud, synnefoClientFor } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { withOutputOptions } from '../run.ts';
import { accountOf, properties, renderRows, renderShow, runStore } from './store-run.ts';

export const CONTAINER_CREATE_COLUMNS = ['account', 'container', 'x-trans-id'];
export const CONTAINER_LIST_COLUMNS = ['Name'];
export const CONTAINER_LONG_COLUMNS = ['Name', 'Bytes', 'Count'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const container = program.command('container').description('Object storage containers (Swift)');

  withOutputOptions(container.command('create').description('Create new container'))
    .argument('<container-name...>', 'new container name(s)')
    .option('--project <id-or-name>', 'the project whose storage it uses (Synnefo: X-Container-Policy-Project)')
    .action(async (names: string[], opts: { project?: string }, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'change',
        fetch: async (conn, fctx) => {
          const rows: Row[] = [];
          if (isSynnefoCloud(conn.config)) {
            // Pithos: the container is charged to --project through its policy (the quotas module's client).
            const account = await accountOf(conn, fctx.signal).catch(() => '');
            for (const name of names) {
              await synnefoClientFor(conn).createContainer(name, { project: opts.project, signal: fctx.signal });
              rows.push({ account, container: name, 'x-trans-id': '' });
            }
            return rows;
          }
          const target = opts.project ? await connectionInProject(conn, opts.project, { signal: fctx.signal }) : conn;
          const account = await accountOf(target, fctx.signal);
          for (const name of names) {
            const res = await target.objectStore.http.put(`/${encodeURIComponent(name)}`, {
              signal: fctx.signal,
              expect: [201, 202, 204],
            });
            await res.dump();
            rows.push({ account, container: name, 'x-trans-id': res.headers.get('x-trans-id') ?? '' });
          }
          return rows;
        },
        render: (results, several, output) => renderRows(CONTAINER_CREATE_COLUMNS, results, several, output),
      });
    });

  withOutputOptions(container.command('list').description('List containers'))
    .option('--prefix <prefix>', 'filter list using <prefix>')
    .option('--long', 'list additional fields in output')
    .action(async (opts: { prefix?: string; long?: boolean }, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'read',
        fetch: async (conn, fctx) => {
          const items = await conn.cloudLayer.listContainers({ prefix: opts.prefix, signal: fctx.signal });
          return items.map((c): Row => ({ Name: c.name, Bytes: c.bytes, Count: c.count }));
        },
        render: (results, several, output) =>
          renderRows(opts.long ? CONTAINER_LONG_COLUMNS : CONTAINER_LIST_COLUMNS, results, several, output),
      });
    });

  withOutputOptions(container.command('show').description('Display container details'))
    .argument('<container>', 'container to display')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'read',
        fetch: async (conn, fctx) => {
          const account = await accountOf(conn, fctx.signal);
          const st = await conn.objectStore.getContainer(name, { signal: fctx.signal });
          const h = st.headers;
          const row: Row = {
            account,
            bytes_used: String(st.bytesUsed ?? 0),
            container: name,
            object_count: String(st.objectCount ?? 0),
          };
          const props = properties(st.metadata);
          if (props) row.properties = props;
          const optional: [string, string][] = [
            ['read_acl', 'x-container-read'],
            ['write_acl', 'x-container-write'],
            ['storage_policy', 'x-storage-policy'],
            ['sync_to', 'x-container-sync-to'],
            ['sync_key', 'x-container-sync-key'],
          ];
          for (const [field, header] of optional) {
            const v = h.get(header);
            if (v !== null) row[field] = v;
          }
          return row;
        },
        render: (results, several, output) => renderShow((r) => Object.keys(r).sort(), results, several, output),
      });
    });

  container
    .command('delete')
    .description('Delete container')
    .argument('<container...>', 'container(s) to delete')
    .option('-r, --recursive', 'recursively delete objects and container')
    .action(async (names: string[], opts: { recursive?: boolean }, cmd: Command) => {
      await runStore(cmd, ctx, {
        kind: 'change',
        fetch: async (conn, fctx) => {
          const cloud = conn.cloudLayer;
          for (const name of names) {
            if (opts.recursive) {
              // An object already gone (false) is fine: the container is what must go.
              for (const o of await cloud.listObjects(name, { signal: fctx.signal }))
                await cloud.deleteObject(name, o.name, { signal: fctx.signal });
            }
            // Swift's own answer for a missing container (its 404, with the call) is what OSC users see: not false.
            await conn.objectStore.deleteContainer(name, { signal: fctx.signal });
          }
          return [];
        },
        render: () => undefined,
      });
    });
};
