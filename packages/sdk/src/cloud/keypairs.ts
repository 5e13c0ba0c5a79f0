/** Keypairs (openstacksdk `cloud/_compute.py`, keypair part). Keypairs have no id: their name is the id. */
import { collect } from '../services/common.ts';
import { type CloudCore, falseOn404 } from './core.ts';
import { filterList, single } from './filter.ts';
import { normalizeKeypair } from './normalize/compute.ts';
import type { Filters, Keypair } from './types.ts';

export async function listKeypairs(
  core: CloudCore,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<Keypair[]> {
  return core.listCaches.keypairs.get(async () => {
    const base = await core.base();
    return (await collect(core.compute.listKeypairs({ signal: opts.signal }))).map((k) => normalizeKeypair(k, base));
  });
}

export async function searchKeypairs(core: CloudCore, nameOrId?: string, filters?: Filters): Promise<Keypair[]> {
  return filterList(await listKeypairs(core), nameOrId, filters);
}

export async function getKeypair(core: CloudCore, nameOrId: string): Promise<Keypair | null> {
  return single(await searchKeypairs(core, nameOrId), 'keypair', nameOrId);
}

/** Without `publicKey` Nova generates the pair and the result carries `private_key`. */
export async function createKeypair(core: CloudCore, name: string, publicKey?: string): Promise<Keypair> {
  const raw = await core.compute.createKeypair(publicKey ? { name, public_key: publicKey } : { name });
  core.listCaches.keypairs.invalidate();
  return normalizeKeypair(raw, await core.base());
}

/** False on 404. */
export async function deleteKeypair(core: CloudCore, name: string): Promise<boolean> {
  try {
    return await falseOn404(() => core.compute.deleteKeypair(name));
  } finally {
    core.listCaches.keypairs.invalidate();
  }
}
