/**
 * `ocx quota list`: usage and limits of every project of every chosen cloud in one table (Cloud, Project, Resource,
 * Usage, Limit), sizes humanised unless --bytes; `-f json|yaml` gives the nested per-project form kamaki prints
 * (`{cloud: {project_id: {resource: {usage, limit, reserved, unit}}}}`). Filters: --project, --resource PREFIX,
 * --near N%. On a terminal a usage bar is drawn next to the numbers.
 */
import { ErrorCode, listQuotas, OcxError, type QuotaFailure, type QuotaRow } from '@ocx/sdk';
import { type Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import type { CliContext, GlobalOptions, RegisterCommands } from '../context.ts';
import { renderList } from '../output.ts';
import { outputOptions, reportFatal } from '../run.ts';
import { closeTargets, connectTargets, type Targets } from '../targets.ts';

export const QUOTA_COLUMNS = ['Cloud', 'Project', 'Resource', 'Usage', 'Limit'];
const BAR_COLUMN = 'Used';
const BAR_WIDTH = 20;

/** Connect the chosen clouds, run `fn`, always close them; a failure to connect at all is a fatal error. */
export async function withTargets(
  g: GlobalOptions,
  ctx: CliContext,
  fn: (targets: Targets) => Promise<void>,
): Promise<void> {
  let targets: Targets;
  try {
    targets = await connectTargets(g, ctx);
  } catch (err) {
    reportFatal(ctx, err);
    return;
  }
  try {
    for (const f of targets.connectFailures) ctx.err(`Error: ${f.name}: [${f.error.code}] ${f.error.message}\n`);
    await fn(targets);
  } catch (err) {
    reportFatal(ctx, err);
  } finally {
    await closeTargets(targets);
  }
}

/** `Error: cloud/project (service): [CODE] message` — one stderr line per failed part of the answer. */
export function failureText(f: QuotaFailure): string {
  const p = f.location.project;
  const where = [f.location.cloud, p.name ?? p.id].filter(Boolean).join('/');
  const svc = f.service ? ` (${f.service})` : '';
  return `Error: ${where}${svc}: [${f.error.code}] ${f.error.message}\n`;
}

/** kamaki-style sizes: 1024-based, up to two decimals, unit glued on (5.11GiB, 512MiB, 100B). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(v) : String(Math.round(v * 100) / 100);
  return `${s}${units[i]}`;
}

function amount(n: number, row: QuotaRow, bytes: boolean): string {
  return row.unit === 'bytes' && !bytes ? humanBytes(n) : String(n);
}

/** Percentage of the limit in use; undefined when there is no (positive) limit. */
export function percentUsed(row: QuotaRow): number | undefined {
  if (row.limit === null || row.limit <= 0 || row.usage === null) return undefined;
  return (row.usage / row.limit) * 100;
}

/** `[########------------]  40%`; unlimited resources get no bar. */
export function usageBar(row: QuotaRow): string {
  const pct = percentUsed(row);
  if (pct === undefined) return '';
  const filled = Math.min(BAR_WIDTH, Math.round((Math.min(pct, 100) / 100) * BAR_WIDTH));
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(pct)).padStart(3)}%`;
}

function parseNear(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim());
  if (!m) throw new OcxError(ErrorCode.BAD_REQUEST, `--near expects a percentage such as 80 or 80%, got '${value}'`);
  return Number(m[1]);
}

/** The nested per-project form: {cloud: {project_id: {resource: {usage, limit, reserved, unit}}}}. */
export function nestedQuotas(rows: QuotaRow[]): Record<string, Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const r of rows) {
    const cloud = out[r.location.cloud] ?? {};
    out[r.location.cloud] = cloud;
    const key = r.location.project.id ?? '';
    const project = cloud[key] ?? {};
    cloud[key] = project;
    project[r.resource] = { usage: r.usage, limit: r.limit, reserved: r.reserved, unit: r.unit };
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const register: RegisterCommands = (program: Command, ctx: CliContext) => {
  const quota = program.command('quota').description('Usage and limits per project, on every chosen cloud');
  quota
    .command('list')
    .description('List usage and limits of my projects (all of them unless --project)')
    .addOption(
      new Option('-f, --format <format>', 'the output format')
        .choices(['table', 'json', 'yaml', 'csv', 'value'])
        .default('table'),
    )
    .option('-c, --column <column>', 'specify the column(s) to include, can be repeated', collect, [])
    .option('--project <id-or-name>', 'only this project (repeatable)', collect, [])
    .option('--resource <prefix>', 'only resources whose name starts with this (e.g. compute. or volume.gigabytes)')
    .option('--near <percent>', 'only resources at or above this percentage of their limit (e.g. 80%)')
    .option('--bytes', 'show sizes in bytes instead of KiB/MiB/GiB')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions & {
        format?: string;
        column?: string[];
        project: string[];
        resource?: string;
        near?: string;
        bytes?: boolean;
      };
      let near: number | undefined;
      try {
        near = parseNear(g.near);
      } catch (err) {
        reportFatal(ctx, err);
        return;
      }
      await withTargets(g, ctx, async (targets) => {
        const outcome = await listQuotas(targets.multi, {
          projects: g.project.length > 0 ? g.project : undefined,
          deadlineMs: targets.deadlineMs,
          concurrency: targets.concurrency,
        });
        const rows = outcome.rows.filter((r) => {
          if (g.resource && !r.resource.startsWith(g.resource)) return false;
          if (near !== undefined) {
            const pct = percentUsed(r);
            if (pct === undefined || pct < near) return false;
          }
          return true;
        });
        const output = outputOptions(g);
        if (output.format === 'json') ctx.out(`${JSON.stringify(nestedQuotas(rows), null, 2)}\n`);
        else if (output.format === 'yaml') ctx.out(toYaml(nestedQuotas(rows)));
        else {
          const bars = ctx.isTTY === true && output.format === 'table';
          const table = rows.map((r) => ({
            Cloud: r.location.cloud,
            Project: r.location.project.name ?? r.location.project.id ?? '',
            Resource: r.resource,
            // Keystone unified limits publish no usage: '-' rather than a made-up 0.
            Usage: r.usage === null ? '-' : amount(r.usage, r, g.bytes === true),
            Limit: r.limit === null ? 'unlimited' : amount(r.limit, r, g.bytes === true),
            ...(bars ? { [BAR_COLUMN]: usageBar(r) } : {}),
          }));
          ctx.out(renderList(bars ? [...QUOTA_COLUMNS, BAR_COLUMN] : QUOTA_COLUMNS, table, output));
        }
        for (const f of outcome.failures) ctx.err(failureText(f));
        if (outcome.rows.length === 0 && outcome.failures.length > 0) ctx.exitCode = 1;
      });
    });
};
