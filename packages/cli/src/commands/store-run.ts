/**
 * Running an object-store command over the chosen clouds. Reads (list/show) keep ocx's rule (non-zero only when
 * every cloud failed); changes (create/delete/save) exit non-zero when any cloud failed. Transfers have no overall
 * deadline unless `--timeout` is given: every HTTP call still has its own.
 */
import type { Connection, FanOutContext } from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context.ts';
import { type OutputOptions, type Row, renderList, renderOne } from '../output.ts';
import { CLOUD_COLUMN, failureLine, outputOptions, reportFatal } from '../run.ts';
import { closeTargets, connectTargets } from '../targets.ts';

/** A day: the fan-out deadline of a transfer when `--timeout` is not given. */
const TRANSFER_DEADLINE_S = '86400';

export type StoreOptions = GlobalOptions & { format?: string; column?: string[]; progress?: boolean };

export interface StoreRun<T> {
  kind: 'read' | 'change';
  transfer?: boolean;
  fetch: (conn: Connection, fctx: FanOutContext, cloud: string) => Promise<T>;
  render: (results: { cloud: string; value: T }[], several: boolean, output: OutputOptions) => string | undefined;
  /** Called once the clouds are done (progress bars end their line). */
  finished?: () => void;
}

export async function runStore<T>(command: Command, ctx: CliContext, run: StoreRun<T>): Promise<void> {
  const g = command.optsWithGlobals() as StoreOptions;
  const output = outputOptions(g);
  let targets: Awaited<ReturnType<typeof connectTargets>>;
  try {
    targets = await connectTargets(
      run.transfer && g.timeout === undefined ? { ...g, timeout: TRANSFER_DEADLINE_S } : g,
      ctx,
    );
  } catch (err) {
    reportFatal(ctx, err);
    return;
  }
  try {
    const outcome = await targets.multi.call((conn, name, fctx) => run.fetch(conn, fctx, name), {
      deadlineMs: targets.deadlineMs,
      concurrency: targets.concurrency,
    });
    run.finished?.();
    const failures = [...targets.connectFailures, ...outcome.failures];
    const several = targets.multi.names().length + targets.connectFailures.length > 1;
    try {
      const text = run.render(
        outcome.results.map((r) => ({ cloud: r.location.name, value: r.value })),
        several,
        output,
      );
      if (text) ctx.out(text);
    } catch (err) {
      reportFatal(ctx, err);
      return;
    }
    for (const f of failures) ctx.err(failureLine(f));
    if (failures.length > 0 && (run.kind === 'change' || outcome.results.length === 0)) ctx.exitCode = 1;
  } finally {
    await closeTargets(targets);
  }
}

/** Rows from every cloud, with a Cloud column when there are several. */
export function renderRows(
  columns: string[],
  results: { cloud: string; value: Row[] }[],
  several: boolean,
  output: OutputOptions,
): string {
  const rows = results.flatMap((r) => r.value.map((row) => (several ? { [CLOUD_COLUMN]: r.cloud, ...row } : row)));
  return renderList(several ? [CLOUD_COLUMN, ...columns] : columns, rows, output);
}

/** One object per cloud: OSC's Field/Value form for one cloud, a row per cloud with a Cloud column for several. */
export function renderShow(
  fields: (row: Row) => string[],
  results: { cloud: string; value: Row }[],
  several: boolean,
  output: OutputOptions,
): string | undefined {
  if (several) {
    const all = [...new Set(results.flatMap((r) => fields(r.value)))];
    return renderList(
      [CLOUD_COLUMN, ...all],
      results.map((r) => ({ [CLOUD_COLUMN]: r.cloud, ...r.value })),
      output,
    );
  }
  const one = results[0];
  return one ? renderOne(fields(one.value), one.value, output) : undefined;
}

/** The Swift account name (`AUTH_<project>`) of a connection: the last part of its endpoint, as OSC shows it. */
export async function accountOf(conn: Connection, signal: AbortSignal): Promise<string> {
  const url = await conn.objectStore.http.endpoint({ signal });
  return decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).at(-1) ?? '');
}

/** Metadata as OSC's `properties` column prints it (`k='v', k2='v2'`), or undefined when there is none. */
export function properties(meta: Record<string, string>): string | undefined {
  const entries = Object.entries(meta);
  if (entries.length === 0) return undefined;
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())}='${v}'`)
    .join(', ');
}
