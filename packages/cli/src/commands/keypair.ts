/** `keypair create | list | delete`: python-openstackclient's options and columns, on the SDK's cloud layer. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, type Keypair, OcxError } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions, RegisterCommands } from '../context.ts';
import type { Row } from '../output.ts';
import { reportFatal, runEach, runList, withOutputOptions } from '../run.ts';
import { deleteCommand } from './common.ts';

export const KEYPAIR_COLUMNS = ['Name', 'Fingerprint', 'Type'];

/** The fields `openstack keypair create --public-key` shows (Nova's keypair, id being its name). */
function keypairRow(k: Keypair): Row {
  return {
    created_at: k.properties.created_at ?? null,
    fingerprint: k.fingerprint,
    id: k.id,
    is_deleted: k.properties.deleted ?? null,
    name: k.name,
    type: k.type,
    user_id: k.properties.user_id ?? null,
  };
}

/** The public key file's contents, or a BAD_REQUEST naming the file. */
function readPublicKey(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new OcxError(ErrorCode.BAD_REQUEST, `cannot read --public-key file '${path}': ${(err as Error).message}`);
  }
}

/** More than one cloud is chosen (each would generate a different private key). */
function severalClouds(g: GlobalOptions): boolean {
  return g.allClouds === true || g.osCloud.length > 1 || g.osServiceProvider.length > 1;
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const keypair = program.command('keypair').description('Compute keypairs');

  withOutputOptions(keypair.command('create').description('Create new public or private key for server ssh access'))
    .argument('<name>')
    .option('--public-key <file>', 'filename for public key to add; without it a new key is generated')
    .option('--private-key <file>', 'filename for the private key to save when a new key is generated')
    .action(async (name: string, opts: { publicKey?: string; privateKey?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      let publicKey: string | undefined;
      try {
        if (opts.publicKey !== undefined && opts.privateKey !== undefined)
          throw new OcxError(ErrorCode.BAD_REQUEST, '--public-key and --private-key are mutually exclusive');
        if (opts.publicKey !== undefined) publicKey = readPublicKey(resolve(ctx.cwd, opts.publicKey));
        else if (severalClouds(g))
          throw new OcxError(
            ErrorCode.BAD_REQUEST,
            'generating a key on several clouds would make a different key on each: give --public-key',
          );
      } catch (err) {
        reportFatal(ctx, err);
        return;
      }
      await runEach(cmd, ctx, async (conn) => {
        const k = await conn.cloudLayer.createKeypair(name, publicKey);
        if (publicKey !== undefined) return keypairRow(k);
        if (opts.privateKey !== undefined) {
          writeFileSync(resolve(ctx.cwd, opts.privateKey), k.private_key ?? '', { mode: 0o600 });
          return keypairRow(k);
        }
        // As OSC: a generated key with nowhere to save it is printed, and only it.
        ctx.out(k.private_key ?? '');
        return undefined;
      });
    });

  withOutputOptions(keypair.command('list').description('List key fingerprints')).action(
    async (_opts: unknown, cmd: Command) => {
      await runList(cmd, ctx, KEYPAIR_COLUMNS, async (conn, fctx) =>
        (await conn.cloudLayer.listKeypairs({ signal: fctx.signal })).map((k) => ({
          Name: k.name,
          Fingerprint: k.fingerprint,
          Type: k.type,
        })),
      );
    },
  );

  deleteCommand(keypair, ctx, {
    kind: 'keypair',
    description: 'Delete public or private key(s)',
    del: (cloud, name) => cloud.deleteKeypair(name),
  });
};
