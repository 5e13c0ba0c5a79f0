/**
 * Put the proxy into a home Keystone's catalog the way mixmatch's deployment did, but as a separate region, so
 * the cloud's other users are unaffected: region `ocx-proxy` (default) gets compute, block storage, image,
 * network and object storage endpoints at the proxy's devstack-style paths. Clients opt in with
 * `region_name: ocx-proxy`. Idempotent: endpoints already pointing at the proxy are kept, stale ones replaced.
 */
import { type CloudConfig, createSession, ErrorCode, isOcxError } from '@ocx/sdk';

const PATHS: Record<string, string> = {
  compute: '/compute/v2.1',
  volumev3: '/volume/v3/$(project_id)s',
  'block-storage': '/volume/v3/$(project_id)s',
  image: '/image',
  network: '/network',
  'object-store': '/object-store/v1/AUTH_$(project_id)s',
};

interface KeystoneEndpoint {
  id: string;
  service_id: string;
  interface: string;
  region_id: string | null;
  url: string;
}

/** Register (or refresh) the proxy's endpoints under `region` using an admin cloud of the home Keystone. */
export async function registerProxyRegion(
  admin: CloudConfig,
  proxyUrl: string,
  region = 'ocx-proxy',
): Promise<{ region: string; endpoints: number }> {
  const session = createSession(admin);
  try {
    const ks = session.client('identity');
    try {
      await ks.post('/regions', { json: { region: { id: region, description: 'OCX federation proxy' } } });
    } catch (err) {
      if (!isOcxError(err, ErrorCode.CONFLICT)) throw err;
    }
    const { services } = await ks.getJson<{ services: { id: string; type: string }[] }>('/services');
    const { endpoints } = await ks.getJson<{ endpoints: KeystoneEndpoint[] }>('/endpoints', {
      query: { region_id: region, interface: 'public' },
    });
    let count = 0;
    for (const s of services) {
      const path = PATHS[s.type];
      if (!path) continue;
      const url = `${proxyUrl.replace(/\/+$/, '')}${path}`;
      const existing = endpoints.filter((e) => e.service_id === s.id && e.region_id === region);
      if (existing.some((e) => e.url === url)) {
        count++;
        continue;
      }
      for (const e of existing) await ks.delete(`/endpoints/${e.id}`);
      await ks.post('/endpoints', {
        json: { endpoint: { service_id: s.id, interface: 'public', region_id: region, url } },
      });
      count++;
    }
    return { region, endpoints: count };
  } finally {
    await session.close();
  }
}

/** Remove the region's endpoints (and the region) again. */
export async function unregisterProxyRegion(admin: CloudConfig, region = 'ocx-proxy'): Promise<void> {
  const session = createSession(admin);
  try {
    const ks = session.client('identity');
    const { endpoints } = await ks.getJson<{ endpoints: KeystoneEndpoint[] }>('/endpoints', {
      query: { region_id: region },
    });
    for (const e of endpoints) if (e.region_id === region) await ks.delete(`/endpoints/${e.id}`);
    await ks.delete(`/regions/${region}`).catch(() => {});
  } finally {
    await session.close();
  }
}
