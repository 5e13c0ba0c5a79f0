/**
 * The K2K begun beside a new token's validation, on real OpenStack (OCX_TEST_TARGET=real; clouds from
 * OS_CLIENT_CONFIG_FILE as test/real/openstack.sh writes them): real Keystone's ECP assertion names the token's
 * project and domain (what k2k-early.ts reads), and a new token's first aggregated image list through a fresh proxy
 * makes one assertion per SP and rescopes by name — no project listing, no domain lookup.
 *
 * Read-only for the clouds (a K2K login makes Keystone keep a shadow user at the SP, as any federated login does).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningProxy, startProxy } from '@ocx/proxy';
import { createTransport, loadCloudsConfig, requestEcpAssertion } from '@ocx/sdk';
import { realLogin } from '../../../../test/lib/real-login.ts';
import { cloudsFile, skip } from '../../../../test/lib/real-target.ts';
import { assertedProject } from '../../src/k2k-early.ts';

const SLOW = 120_000;

let dir: string;
let proxy: RunningProxy | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-k2k-early-real-'));
});
after(async () => {
  await proxy?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A new token of clouds.yaml's `idp` user (demo), scoped to its project. */
async function idpLogin(): Promise<{ token: string; identityUrl: string; project: string }> {
  const c = loadCloudsConfig({ files: { clouds: [cloudsFile], secure: [], publicClouds: [] }, loadEnv: false });
  const l = await realLogin('idp', cloudsFile, SLOW);
  return { token: l.token, identityUrl: l.identityUrl, project: String(c.getCloud('idp').auth.project_name) };
}

test('real Keystone’s ECP assertion names the token’s project and its domain', { skip, timeout: SLOW }, async () => {
  const u = await idpLogin();
  const transport = createTransport({ retry: false, timeoutMs: SLOW });
  try {
    const envelope = await requestEcpAssertion(
      { transport, deadline: Date.now() + SLOW },
      u.identityUrl,
      u.token,
      'sp1',
    );
    assert.ok(envelope, 'the IdP issued an assertion');
    assert.deepEqual(assertedProject(envelope), { project: u.project, domain: 'Default' });
  } finally {
    await transport.close();
  }
});

test('a new token’s first aggregated list: one assertion per SP, rescoped by name, begun beside validation', {
  skip,
  timeout: SLOW,
}, async () => {
  proxy = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile,
    listen: '127.0.0.1:0',
    db: join(dir, 'proxy.sqlite'),
    upstreamTimeoutMs: SLOW,
    logLevel: 'warn',
  });
  const u = await idpLogin();
  const r = await fetch(`${proxy.url}/image/v2/images`, {
    headers: { 'x-auth-token': u.token },
    signal: AbortSignal.timeout(SLOW),
  });
  assert.equal(r.status, 200, await r.clone().text());
  assert.ok(Array.isArray(((await r.json()) as { images?: unknown[] }).images));
  const text = await (await fetch(`${proxy.url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  const count = (sp: string, step: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`ocx_proxy_token_step_seconds_count{target="${sp}",step="${step}"}`))
        ?.split(' ')[1] ?? 0,
    );
  for (const sp of ['sp1', 'sp2']) {
    assert.equal(count(sp, 'k2k.ecp'), 1, `${sp}: one assertion`);
    assert.equal(count(sp, 'k2k.rescope'), 1, `${sp}: one rescope`);
    assert.equal(count(sp, 'k2k.projects') + count(sp, 'k2k.domains'), 0, `${sp}: no listing, no domain lookup`);
    assert.equal(count(sp, 'mapping.k2k-wait'), 1, `${sp}: the request took the exchange begun beside validation`);
  }
});
