import type { Engine } from '../engine.ts';
import { type resourceOf, singularKey } from '../paths.ts';
import type { LearnedResource } from '../resource-mappings.ts';
import type { RequestState } from './context.ts';

/** Learn from what just went through: creates, shows, deletes. Awaited before the client gets the answer. */
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
  try {
    if (ref?.exact && st.method === 'DELETE' && (ok || status === 404)) {
      await eng.o.resources.forget(projectId, ref.type, ref.id);
      eng.o.lane?.forgetResource(`${ref.type} ${ref.id}`);
      return;
    }
    if (ref && ok && (st.method === 'GET' || st.method === 'HEAD' || st.method === 'PUT')) {
      await eng.o.resources.record([{ type: ref.type, id: ref.id, targetId, projectId }]);
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
      if (learned.length) await eng.o.resources.record(learned);
    }
  } catch (err) {
    eng.o.logger.error({ err: { message: (err as Error).message } }, 'could not store a resource mapping');
    throw err;
  }
}
