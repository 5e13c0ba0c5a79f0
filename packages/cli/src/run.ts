import type { CallFailure, Connection, FanOutContext } from '@ocx/sdk';
import { OcxError } from '@ocx/sdk';
import { type Command, Option } from 'commander';
import type { CliContext, GlobalOptions } from './context.ts';
import { FORMATS, type Format, type OutputOptions, type Row, renderList, renderOne } from './output.ts';
import { closeTargets, connectTargets } from './targets.ts';

/** The column naming the cloud a row came from, added when a command talks to more than one cloud. */
export const CLOUD_COLUMN = 'Cloud';

function collectValues(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** OSC's output options (`-f`, `-c`) on a command. */
export function withOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'the output format').choices([...FORMATS]).default('table'))
    .option('-c, --column <column>', 'specify the column(s) to include, can be repeated', collectValues, []);
}

export function outputOptions(opts: { format?: string; column?: string[] }): OutputOptions {
  return { format: (opts.format ?? 'table') as Format, columns: opts.column ?? [] };
}

/** A server's message on one line: fault bodies may carry HTML line breaks and newlines (Glance's do). */
function oneLine(message: string): string {
  return message
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** One stderr line per failed cloud: `cloud (region): [CODE] message [service METHOD url] (request-id)`. */
export function failureLine(f: CallFailure): string {
  const e = f.error;
  const where = f.region && !f.name.includes('/') ? `${f.name} (${f.region})` : f.name;
  const call = [e.service, e.method, e.url].filter(Boolean).join(' ');
  const rid = e.requestId ? ` (request id ${e.requestId})` : '';
  return `Error: ${where}: [${e.code}] ${oneLine(e.message)}${call ? ` [${call}]` : ''}${rid}\n`;
}

/**
 * Print a top-level failure (nothing was attempted) as `Error: [CODE] message` and set a failing exit status.
 * Whatever was thrown goes through the one conversion first, so even a bug shows a stable code (no stack trace).
 */
export function reportFatal(ctx: CliContext, err: unknown): void {
  const e = OcxError.from(err);
  ctx.err(`Error: ${oneLine(`[${e.code}] ${e.message}`)}\n`);
  ctx.exitCode = 1;
}

export type RowFetcher = (conn: Connection, ctx: FanOutContext) => Promise<Row[]>;

type Output = ReturnType<typeof outputOptions>;
interface FanOutView<T> {
  results: { location: { name: string }; value: T }[];
  /** More than one cloud was asked (a Cloud column is shown). */
  several: boolean;
  output: Output;
}

interface RunRules {
  /** Exit non-zero when any cloud failed (commands that change clouds), not only when all did (lists). */
  failOnAny?: boolean;
  /** The per-cloud deadline when `--timeout` is not given (waits need longer than a list). */
  defaultDeadlineMs?: number;
  /** Called once every cloud has answered, before anything is printed (ends a progress line). */
  beforeOutput?: () => void;
  /** Called with the connected clouds' names before `fetch` runs on them (e.g. to size a shared upload). */
  onTargets?: (names: string[]) => void;
}

/**
 * Shared by every command over the chosen clouds: connect, fan out, render what came back, print one line per
 * failed cloud on stderr, exit non-zero when every cloud failed (or, with `failOnAny`, when any did), and always
 * close the connections.
 */
async function runOverClouds<T>(
  command: Command,
  ctx: CliContext,
  fetch: (conn: Connection, ctx: FanOutContext) => Promise<T>,
  render: (view: FanOutView<T>) => string | undefined,
  rules: RunRules = {},
): Promise<void> {
  const g = command.optsWithGlobals() as GlobalOptions & { format?: string; column?: string[] };
  const output = outputOptions(g);
  let targets: Awaited<ReturnType<typeof connectTargets>>;
  try {
    targets = await connectTargets(g, ctx, { deadlineMs: rules.defaultDeadlineMs });
  } catch (err) {
    reportFatal(ctx, err);
    return;
  }
  try {
    rules.onTargets?.(targets.multi.names());
    const outcome = await targets.multi.call((conn, _name, fctx) => fetch(conn, fctx), {
      deadlineMs: targets.deadlineMs,
      concurrency: targets.concurrency,
    });
    rules.beforeOutput?.();
    const failures = [...targets.connectFailures, ...outcome.failures];
    const several = targets.multi.names().length + targets.connectFailures.length > 1;
    try {
      const text = render({ results: outcome.results, several, output });
      if (text !== undefined) ctx.out(text);
    } catch (err) {
      reportFatal(ctx, err);
      return;
    }
    for (const f of failures) ctx.err(failureLine(f));
    if (failures.length > 0 && (rules.failOnAny || outcome.results.length === 0)) ctx.exitCode = 1;
  } finally {
    await closeTargets(targets);
  }
}

/**
 * A list command over the chosen clouds: fan out, merge rows (with a Cloud column when there are several clouds),
 * print them, print one line per failed cloud on stderr, exit non-zero only when every cloud failed.
 */
export function runList(command: Command, ctx: CliContext, columns: string[], fetch: RowFetcher): Promise<void> {
  return runOverClouds(command, ctx, fetch, ({ results, several, output }) => {
    const rows: Row[] = results.flatMap((r) =>
      r.value.map((row) => (several ? { [CLOUD_COLUMN]: r.location.name, ...row } : row)),
    );
    return renderList(several ? [CLOUD_COLUMN, ...columns] : columns, rows, output);
  });
}

/**
 * A show-one command per cloud (`token issue`): one cloud prints OSC's Field/Value form; several print one row per
 * cloud with a Cloud column.
 */
export function runShowOne(
  command: Command,
  ctx: CliContext,
  fields: string[],
  fetch: (conn: Connection, ctx: FanOutContext) => Promise<Row>,
): Promise<void> {
  return runOverClouds(command, ctx, fetch, ({ results, several, output }) => {
    if (several) {
      const rows = results.map((r) => ({ [CLOUD_COLUMN]: r.location.name, ...r.value }));
      return renderList([CLOUD_COLUMN, ...fields], rows, output);
    }
    return results[0] ? renderOne(fields, results[0].value, output) : undefined;
  });
}

/**
 * A command run on each chosen cloud that shows or changes one thing (show, create, delete): `change` returns the
 * row to show (its keys are the fields, in order) or undefined (nothing to print, as OSC's delete). One cloud
 * prints the Field/Value form, several one row per cloud with a Cloud column. One stderr line per failed cloud;
 * the exit status is non-zero when any cloud failed.
 */
export function runEach(
  command: Command,
  ctx: CliContext,
  change: (conn: Connection, ctx: FanOutContext) => Promise<Row | undefined>,
  rules: Omit<RunRules, 'failOnAny'> = {},
): Promise<void> {
  return runOverClouds(
    command,
    ctx,
    change,
    ({ results, several, output }) => {
      const shown = results.filter((r): r is { location: { name: string }; value: Row } => r.value !== undefined);
      if (shown.length === 0) return undefined;
      const fields = [...new Set(shown.flatMap((r) => Object.keys(r.value)))];
      if (several) {
        const rows = shown.map((r) => ({ [CLOUD_COLUMN]: r.location.name, ...r.value }));
        return renderList([CLOUD_COLUMN, ...fields], rows, output);
      }
      return renderOne(fields, shown[0]!.value, output);
    },
    { ...rules, failOnAny: true },
  );
}

/**
 * A command that prints text per cloud (`server console log`): one cloud prints it as it is; several print each
 * under a `==> cloud <==` header (as `tail` does for several files). Errors and exit status as `runEach`.
 */
export function runText(
  command: Command,
  ctx: CliContext,
  fetch: (conn: Connection, ctx: FanOutContext) => Promise<string>,
): Promise<void> {
  return runOverClouds(
    command,
    ctx,
    fetch,
    ({ results, several }) => {
      const end = (t: string) => (t === '' || t.endsWith('\n') ? t : `${t}\n`);
      if (!several) return results[0] ? end(results[0].value) : undefined;
      return results.map((r) => `==> ${r.location.name} <==\n${end(r.value)}`).join('\n');
    },
    { failOnAny: true },
  );
}
