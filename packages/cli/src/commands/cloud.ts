import type { CloudConfig } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions, RegisterCommands } from '../context.ts';
import { type Row, renderList } from '../output.ts';
import { outputOptions, reportFatal, withOutputOptions } from '../run.ts';
import { loadConfig } from '../targets.ts';

export const CLOUD_COLUMNS = ['Name', 'Region', 'Auth URL', 'Auth Type', 'Project', 'Source'];

function row(c: CloudConfig): Row {
  const fed = c.federation;
  const project = fed
    ? (fed.remoteProjectName ?? fed.remoteProjectId ?? '')
    : String(c.auth.project_name ?? c.auth.project_id ?? c.auth.domain_name ?? c.auth.domain_id ?? '');
  return {
    Name: c.name,
    Region: c.regionName,
    'Auth URL': fed ? `k2k via ${fed.homeCloud} → ${fed.serviceProvider}` : String(c.auth.auth_url ?? ''),
    'Auth Type': fed ? 'k2k' : c.authType,
    Project: project,
    Source: c.sourceFile ?? '',
  };
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const cloud = program.command('cloud').description('Clouds in clouds.yaml / OS_* (no network access)');
  withOutputOptions(
    cloud.command('list').description('List the configured clouds, one row per cloud and region'),
  ).action(async (_opts: unknown, cmd: Command) => {
    const g = cmd.optsWithGlobals() as GlobalOptions & { format?: string; column?: string[] };
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(ctx, g);
    } catch (err) {
      reportFatal(ctx, err);
      return;
    }
    const names = g.osCloud.length > 0 ? g.osCloud : config.cloudNames();
    const rows: Row[] = [];
    const errors: string[] = [];
    for (const name of names) {
      let regions: string[] = [];
      try {
        regions = config.regionsOf(name);
      } catch {
        regions = [];
      }
      if (g.osRegionName !== undefined)
        regions = regions.length ? regions.filter((r) => r === g.osRegionName) : [g.osRegionName];
      for (const region of regions.length ? regions : [undefined]) {
        try {
          rows.push(row(config.getCloud(name, region ? { region } : {})));
        } catch (err) {
          errors.push(`Error: ${name}${region ? ` (${region})` : ''}: ${(err as Error).message}\n`);
        }
      }
    }
    try {
      ctx.out(renderList(CLOUD_COLUMNS, rows, outputOptions(g)));
    } catch (err) {
      reportFatal(ctx, err);
      return;
    }
    for (const e of errors) ctx.err(e);
    for (const w of config.warnings) ctx.err(`Warning: ${w}\n`);
    if (rows.length === 0 && errors.length > 0) ctx.exitCode = 1;
  });
};
