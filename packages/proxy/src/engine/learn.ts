import { setTimeout as sleep } from 'node:timers/promises';
import { isDatabaseUnavailable } from '../db/errors.ts';
import type { Engine } from '../engine.ts';
import { errorResponse } from '../errors.ts';
import { type resourceOf, singularKey } from '../paths.ts';
import type { LearnedResource } from '../resource-mappings.ts';
import { HttpError, type RequestState } from './context.ts';

/**
 * A create went through upstream but where it lives could not be stored, even after retrying: the caller
 * (engine/forward.ts) deletes it again and answers 503, so nothing the client sees acknowledged is unmapped.
 */
export class MappingNotStoredError extends Error {
  readonly learned: LearnedResource[];
  constructor(learned: LearnedResource[], cause: Error) {
    super(`could not store ${learned.length} resource mapping(s): ${cause.message}`);
    this.learned = learned;
  }
}

/** How long a mapping write is retried while the database is unavailable (a PostgreSQL restart, a SQLite lock). */
export const MAPPING_WRITE_RETRY_MS = 10_000;

async function recordRetrying(eng: Engine, items: LearnedResource[], retryMs: number): Promise<void> {
  const until = Date.now() + retryMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      await eng.o.resources.record(items);
      return;
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() + delay > until) throw err;
    }
    await sleep(delay);
  }
}

/**
 * Learn from what just went through: creates, shows, deletes. Awaited before the client gets the answer.
 * What a create or PUT taught is written before the answer goes out, retried while the database is away; a
 * GET's or DELETE's lesson is a cache of what the clouds would say again, so failing to write it does not fail
 * the answer.
 */
export async function learn(
  eng: Engine,
  st: RequestState,
  targetId: string,
  status: number,
  json: unknown,
  ref: ReturnType<typeof resourceOf>,
): Promise<void> {
  const projectId = st.user.projectId ?? '';
  const ok = status >= 200 && status < 300;
  const retryMs = eng.o.mappingWriteRetryMs ?? MAPPING_WRITE_RETRY_MS;
  try {
    if (ref?.exact && st.method === 'DELETE' && (ok || status === 404)) {
      eng.o.lane?.forgetResource(`${ref.type} ${ref.id}`);
      await eng.o.resources.forget(projectId, ref.type, ref.id).catch((err: Error) => {
        if (!isDatabaseUnavailable(err)) throw err;
        // Left behind, the row points at a cloud that now answers 404 for the id: the same answer.
        eng.o.logger.warn({ err: { message: err.message } }, 'could not drop a resource mapping');
      });
      return;
    }
    if (ref && ok && (st.method === 'GET' || st.method === 'HEAD')) {
      await eng.o.resources.record([{ type: ref.type, id: ref.id, targetId, projectId }]).catch((err: Error) => {
        if (!isDatabaseUnavailable(err)) throw err;
        eng.o.logger.warn({ err: { message: err.message } }, 'could not store a resource mapping learned from a read');
      });
      return;
    }
    if (ref && ok && st.method === 'PUT') {
      await recordRetrying(eng, [{ type: ref.type, id: ref.id, targetId, projectId }], retryMs).catch((err) => {
        if (!isDatabaseUnavailable(err)) throw err;
        // A PUT is idempotent: the client sends it again; until then the id is found by asking every cloud.
        throw new HttpError(
          errorResponse(
            st.service,
            503,
            `The change to ${ref.type} ${ref.id} was made at ${targetId}, but the federation proxy could not record it (its database is unavailable); send the request again.`,
          ),
        );
      });
      return;
    }
    const segs = st.parsed.segments;
    if (ok && st.method === 'POST' && segs.length === 1 && json && typeof json === 'object') {
      const collection = segs[0]!;
      const learned: LearnedResource[] = [];
      const obj = json as Record<string, unknown>;
      const one = obj[singularKey(collection)] as { id?: unknown } | undefined;
      if (one && typeof one.id === 'string') learned.push({ type: collection, id: one.id, targetId, projectId });
      const many = obj[collection.replaceAll('-', '_')];
      if (Array.isArray(many)) {
        for (const it of many) {
          const id = (it as { id?: unknown })?.id;
          if (typeof id === 'string') learned.push({ type: collection, id, targetId, projectId });
        }
      }
      if (!one && !Array.isArray(many) && typeof obj.id === 'string') {
        learned.push({ type: collection, id: obj.id, targetId, projectId }); // Glance answers the image itself
      }
      if (learned.length) {
        await recordRetrying(eng, learned, retryMs).catch((err: Error) => {
          throw isDatabaseUnavailable(err) ? new MappingNotStoredError(learned, err) : err;
        });
      }
    }
  } catch (err) {
    if (!(err instanceof HttpError))
      eng.o.logger.error({ err: { message: (err as Error).message } }, 'could not store a resource mapping');
    throw err;
  }
}
