/**
 * ocx against devcloud (idp + two service providers wired for K2K): the OSC K2K options reach a service provider
 * through the home Keystone and see the same resources as its own credentials do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { runOcx } from './minicloud.ts';

describe('ocx on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-dc-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const K2K = ['--os-cloud', 'idp', '--os-remote-project-name', 'demo', '--os-remote-project-domain-name', 'Default'];
  const ids = (stdout: string) => (JSON.parse(stdout) as Array<{ ID: string }>).map((r) => r.ID).sort();

  it('flavor and network list through K2K show what the SP shows its own users', async () => {
    for (const noun of ['flavor', 'network', 'image']) {
      const direct = await runOcx([noun, 'list', '--os-cloud', 'sp1', '-f', 'json'], env);
      assert.equal(direct.code, 0, direct.stderr);
      const viaK2K = await runOcx([...K2K, '--os-service-provider', 'sp1', noun, 'list', '-f', 'json'], env);
      assert.equal(viaK2K.code, 0, viaK2K.stderr);
      assert.equal(viaK2K.stderr, '');
      assert.deepEqual(ids(viaK2K.stdout), ids(direct.stdout), `${noun} list`);
      if (noun === 'flavor') assert.ok(ids(direct.stdout).length > 0, 'devcloud has flavors');
    }
  });

  it('two service providers at once get a Cloud column; token issue through K2K gives a federated SP token', async () => {
    const r = await runOcx(
      [
        ...K2K,
        '--os-service-provider',
        'sp1',
        '--os-service-provider',
        'sp2',
        'flavor',
        'list',
        '-f',
        'json',
        '-c',
        'Cloud',
        '-c',
        'ID',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ Cloud: string; ID: string }>;
    assert.deepEqual([...new Set(rows.map((x) => x.Cloud))], ['sp1', 'sp2']);

    const direct = await runOcx(['token', 'issue', '--os-cloud', 'sp1', '-f', 'json'], env);
    const viaK2K = await runOcx([...K2K, '--os-service-provider', 'sp1', 'token', 'issue', '-f', 'json'], env);
    assert.equal(viaK2K.code, 0, viaK2K.stderr);
    const a = JSON.parse(direct.stdout) as { project_id: string; user_id: string; id: string };
    const b = JSON.parse(viaK2K.stdout) as { project_id: string; user_id: string; id: string };
    assert.equal(b.project_id, a.project_id, 'same demo project at the SP');
    assert.notEqual(b.user_id, a.user_id, 'but as the federated (ephemeral) user, not the local demo user');
  });

  it('an SP the home Keystone does not know is one clear error and a failing exit status', async () => {
    const r = await runOcx([...K2K, '--os-service-provider', 'sp9', 'image', 'list'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^Error: sp9: \[FEDERATION_FAILED\] service provider 'sp9' is not registered .*\(registered: sp1, sp2\)\n$/,
    );
  });
});
