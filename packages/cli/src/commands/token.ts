import type { Command } from 'commander';
import type { CliContext, RegisterCommands } from '../context.ts';
import { runShowOne, withOutputOptions } from '../run.ts';

export const TOKEN_FIELDS = ['expires', 'id', 'project_id', 'user_id'];

/** 2026-11-23T11:32:01+0000, as python-openstackclient prints token expiry. */
function oscTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}+0000`;
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const token = program.command('token').description('Keystone tokens');
  withOutputOptions(token.command('issue').description('Issue a new token')).action(
    async (_opts: unknown, cmd: Command) => {
      await runShowOne(cmd, ctx, TOKEN_FIELDS, async (conn, fctx) => {
        const access = await conn.session.getAccess({ signal: fctx.signal });
        const row: Record<string, unknown> = {
          expires: oscTime(access.expiresAt),
          id: access.token,
          user_id: access.user.id,
        };
        if (access.project) row.project_id = access.project.id;
        else if (access.domain) row.domain_id = access.domain.id;
        return row;
      });
    },
  );
};
