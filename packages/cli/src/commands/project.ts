/** `ocx project list`: per cloud, the projects the user can reach with their own credentials (id, name, domain). */
import { listProjects } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions, RegisterCommands } from '../context.ts';
import { renderList } from '../output.ts';
import { outputOptions, withOutputOptions } from '../run.ts';
import { failureText, withTargets } from './quota.ts';

export const PROJECT_COLUMNS = ['Cloud', 'ID', 'Name', 'Domain'];

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const project = program.command('project').description('Projects you can reach, on every chosen cloud');
  withOutputOptions(
    project
      .command('list')
      .description('List my projects per cloud (Keystone /v3/auth/projects; on a K2K SP, the federated user’s)'),
  ).action(async (_opts: unknown, cmd: Command) => {
    const g = cmd.optsWithGlobals() as GlobalOptions & { format?: string; column?: string[] };
    await withTargets(g, ctx, async (targets) => {
      const { projects, failures } = await listProjects(targets.multi, {
        deadlineMs: targets.deadlineMs,
        concurrency: targets.concurrency,
      });
      const rows = projects.map((p) => ({
        Cloud: p.location.cloud,
        ID: p.id,
        Name: p.name,
        Domain: p.domain.name ?? p.domain.id ?? '',
      }));
      ctx.out(renderList(PROJECT_COLUMNS, rows, outputOptions(g)));
      for (const f of failures) ctx.err(failureText(f));
      if (projects.length === 0 && failures.length > 0) ctx.exitCode = 1;
    });
  });
};
