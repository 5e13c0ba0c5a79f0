/** Helpers shared by the commands that show, create or delete one resource per cloud. */
import {
  type CloudLayer,
  ErrorCode,
  type FanOutContext,
  type Image,
  looksLikeId,
  OcxError,
  type Server,
  type Volume,
} from '@ocx/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { runEach } from '../run.ts';

/** Commander collector for repeatable options. */
export function collectValues(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--property key=value` (repeatable) → an object; a value may contain '='. */
export function parseProperties(list: string[], option = '--property'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new OcxError(ErrorCode.BAD_REQUEST, `${option} expects key=value, got '${item}'`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** python-openstackclient's message for a name or id that matches nothing (its image commands word it their way). */
export function notFound(kind: string, ref: string): OcxError {
  const message = kind === 'image' ? `No Image found for ${ref}` : `No ${kind} with a name or ID of '${ref}' exists.`;
  return new OcxError(ErrorCode.NOT_FOUND, message, { resourceId: ref });
}

/** `get(ref)`, NOT_FOUND (OSC's message) when it finds nothing. */
export async function mustFind<T>(kind: string, ref: string, get: (ref: string) => Promise<T | null>): Promise<T> {
  const found = await get(ref);
  if (found === null) throw notFound(kind, ref);
  return found;
}

/**
 * Delete each of `refs` in turn (as OSC does); a ref that matches nothing counts as failed. When any failed, one
 * error for the cloud: the single failure as it is, or OSC's `N of M <kind>s failed to delete` with each reason.
 */
export async function deleteEach(kind: string, refs: string[], del: (ref: string) => Promise<boolean>): Promise<void> {
  const failures: { ref: string; error: unknown }[] = [];
  for (const ref of refs) {
    try {
      if (!(await del(ref))) failures.push({ ref, error: notFound(kind, ref) });
    } catch (error) {
      failures.push({ ref, error });
    }
  }
  if (failures.length === 0) return;
  const first = failures[0]!;
  if (refs.length === 1) throw first.error;
  const code = first.error instanceof OcxError ? first.error.code : ErrorCode.SERVICE_ERROR;
  const reasons = failures.map((f) => `'${f.ref}': ${(f.error as Error).message}`).join('; ');
  throw new OcxError(
    code,
    `${failures.length} of ${refs.length} ${kind}s failed to delete: ${reasons}`,
    {},
    {
      cause: first.error,
    },
  );
}

/** Keys sorted as python's sorted() sorts them (code points: upper case first), as OSC's show commands print. */
export function sortedRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(row)
      .sort()
      .map((k) => [k, row[k]]),
  );
}

/**
 * `<group> delete <ref...>` (OSC's shape): on each cloud, `del` each ref in turn (false: it was not found); prints
 * nothing on success, one error line per cloud where any ref failed.
 */
export function deleteCommand<O extends object>(
  group: Command,
  ctx: CliContext,
  spec: {
    kind: string;
    description: string;
    /** Extra options of the command. */
    options?: (cmd: Command) => Command;
    /** The per-cloud deadline when `--timeout` is not given (e.g. longer with `--wait`). */
    deadlineMs?: (opts: O) => number | undefined;
    del: (cloud: CloudLayer, ref: string, opts: O, fctx: FanOutContext) => Promise<boolean>;
  },
): void {
  const cmd = group.command('delete').description(spec.description).argument(`<${spec.kind}...>`);
  (spec.options ? spec.options(cmd) : cmd).action(async (refs: string[], opts: O, command: Command) => {
    await runEach(
      command,
      ctx,
      async (conn, fctx) => {
        await deleteEach(spec.kind, refs, (ref) => spec.del(conn.cloudLayer, ref, opts, fctx));
        return undefined;
      },
      { defaultDeadlineMs: spec.deadlineMs?.(opts) },
    );
  });
}

/** `{net: [{addr}]}` → `{net: ['10.0.0.5', ...]}` (OSC shows it as `net=10.0.0.5, ...`). */
export function networks(addresses: Server['addresses']): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [net, list] of Object.entries(addresses)) out[net] = list.map((a) => String(a.addr ?? ''));
  return out;
}

/** A volume by id (one GET) or name (the list); NOT_FOUND with OSC's message. */
export function findVolume(cloud: CloudLayer, ref: string): Promise<Volume> {
  return mustFind(
    'volume',
    ref,
    async (r) => (looksLikeId(r) ? await cloud.getVolumeById(r) : null) ?? cloud.getVolume(r),
  );
}

/** An image by id (one GET) or name (the list); NOT_FOUND with OSC's message. */
export function findImage(cloud: CloudLayer, ref: string): Promise<Image> {
  return mustFind(
    'image',
    ref,
    async (r) => (looksLikeId(r) ? await cloud.getImageById(r) : null) ?? cloud.getImage(r),
  );
}
