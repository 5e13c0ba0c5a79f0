/**
 * Version discovery through a fresh federation proxy on real OpenStack (OCX_TEST_TARGET=real; clouds from
 * OS_CLIENT_CONFIG_FILE as test/real/openstack.sh writes them). idp runs Keystone only, so `GET /compute/`,
 * `/volume/`, `/image/`, `/network/` — which keystoneauth asks without a token before anything else — must be
 * answered with an SP's document that the proxy learned with its own service account (idp-admin, K2K to sp1/sp2),
 * and a second proxy on the same database must answer them at once, without K2K.
 *
 * Read-only for the clouds: nothing is created (a K2K login makes Keystone keep a shadow user at the SP, as any
 * federated login does).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '@ocx/proxy';
import { cloudsFile, skip } from '../../../../test/lib/real-target.ts';

const SLOW = 180_000;
/** Each service's path prefix at the proxy and a version its real document lists. */
const SERVICES = [
  ['/compute', 'v2.1'],
  ['/volume', 'v3.0'],
  ['/image', 'v2.0'],
  ['/network', 'v2.0'],
] as const;

let dir: string;
const proxies: RunningProxy[] = [];

async function proxy(): Promise<RunningProxy> {
  const p = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile,
    listen: '127.0.0.1:0',
    db: join(dir, 'proxy.sqlite'),
    upstreamTimeoutMs: 120_000,
    logLevel: 'warn',
  });
  proxies.push(p);
  return p;
}

async function discoveries(p: RunningProxy): Promise<string[]> {
  const text = await (await fetch(`${p.url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  return text.split('\n').filter((l) => l.startsWith('ocx_proxy_sp_discoveries_total{'));
}

/** Unauthenticated version documents through `p`: real ones (Nova/Neutron 200, Cinder/Glance 300), links at p. */
async function assertVersionDocs(p: RunningProxy): Promise<void> {
  for (const [prefix, id] of SERVICES) {
    const r = await fetch(`${p.url}${prefix}/`, { signal: AbortSignal.timeout(SLOW) });
    const text = await r.text();
    assert.ok(r.status === 200 || r.status === 300, `GET ${prefix}/ without a token: ${r.status} ${text}`);
    const doc = JSON.parse(text) as { versions: { id: string; links: { rel: string; href: string }[] }[] };
    assert.ok(
      doc.versions.some((v) => v.id === id),
      `${prefix}/ lists ${id}: ${text}`,
    );
    const self = doc.versions.flatMap((v) => v.links.filter((l) => l.rel === 'self').map((l) => l.href));
    assert.ok(self.length > 0, `${prefix}/ has self links`);
    for (const h of self) assert.ok(h.startsWith(`${p.url}${prefix}/`), `${h} points at the proxy`);
  }
}

before(() => {
  if (!skip) dir = mkdtempSync(join(tmpdir(), 'ocx-proxy-discovery-real-'));
});
after(async () => {
  for (const p of proxies) await p.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a fresh proxy answers unauthenticated version discovery of services only sp1/sp2 run', {
  skip,
  timeout: SLOW,
}, async () => {
  const p = await proxy();
  await assertVersionDocs(p);
  const done = await discoveries(p);
  assert.ok(
    done.some((l) => /outcome="ok"/.test(l)),
    `the service account learned an SP's endpoints by K2K: ${done.join('; ')}`,
  );
});

test('a second proxy on the same database answers at once, without K2K', { skip, timeout: SLOW }, async () => {
  const p = await proxy();
  await assertVersionDocs(p);
  assert.deepEqual(await discoveries(p), [], 'the stored roots were used');
});
