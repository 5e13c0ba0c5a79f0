/** Flavors (openstacksdk `cloud/_compute.py`, flavor part): listed once per cache age, looked up by name or id. */
import { collect, isNotFound } from '../services/common.ts';
import type { CloudCore, Ref } from './core.ts';
import { filterList, single } from './filter.ts';
import { normalizeFlavor } from './normalize/compute.ts';
import type { Filters, Flavor } from './types.ts';
import { mapLimit } from './wait.ts';

export interface ListFlavorsOptions {
  /** Also fetch each flavor's extra specs. */
  getExtra?: boolean | undefined;
  /**
   * Nova's `is_public` filter: true public flavors only, false private ones only, undefined (default) both
   * (`is_public=None`, what shade asks for).
   */
  isPublic?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

function isPublicQuery(isPublic: boolean | undefined): string {
  return isPublic === undefined ? 'None' : isPublic ? 'True' : 'False';
}

export async function listFlavors(core: CloudCore, opts: ListFlavorsOptions = {}): Promise<Flavor[]> {
  const isPublic = isPublicQuery(opts.isPublic);
  const flavors = await core.listCaches.flavors.get(
    async () => {
      const base = await core.base();
      const raw = await collect(core.compute.listFlavors({ query: { is_public: isPublic }, signal: opts.signal }));
      return raw.map((f) => normalizeFlavor(f, base));
    },
    isPublic === 'None' ? '' : isPublic,
  );
  if (!opts.getExtra) return flavors;
  return mapLimit(flavors, 8, async (f) => {
    try {
      return { ...f, extra_specs: await core.compute.getFlavorExtraSpecs(f.id) };
    } catch (err) {
      if (isNotFound(err)) return f;
      throw err;
    }
  });
}

export async function searchFlavors(
  core: CloudCore,
  nameOrId?: string,
  filters?: Filters,
  opts?: { getExtra?: boolean },
): Promise<Flavor[]> {
  return filterList(await listFlavors(core, opts), nameOrId, filters);
}

export async function getFlavor(
  core: CloudCore,
  nameOrId: Ref,
  filters?: Filters,
  opts?: { getExtra?: boolean },
): Promise<Flavor | null> {
  if (typeof nameOrId === 'object') return nameOrId as Flavor;
  return single(await searchFlavors(core, nameOrId, filters, opts), 'flavor', nameOrId);
}

/** The smallest flavor with at least `ram` MiB (optionally whose name contains `include`); null if none. */
export async function getFlavorByRam(core: CloudCore, ram: number, include?: string): Promise<Flavor | null> {
  const flavors = (await listFlavors(core)).filter((f) => !f.is_disabled).sort((a, b) => a.ram - b.ram);
  return flavors.find((f) => f.ram >= ram && (!include || f.name.includes(include))) ?? null;
}
