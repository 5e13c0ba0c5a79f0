/** `--project P` on network/subnet/router create (issue 14); `router remove subnet` and `router unset --external-gateway`. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { collect, loadCloudsConfig, MultiCloud } from '@ocx/sdk';
import { type OcxRun, runOcx } from './minicloud.ts';

const SECOND = 'cli3-second';

describe('ocx network|subnet|router create --project, router remove subnet|unset on devcloud', {
  timeout: 60_000,
}, () => {
  let dc: Devcloud;
  let dir: string;
  let cloudsYamlPath: string;
  let env: Record<string, string>;
  let secondId = '';
  const ocx = (args: string[]) => runOcx(args, env);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const SP1 = ['--os-cloud', 'sp1'];

  /** The routers the demo user's default project sees on sp1, by name. */
  async function routers(): Promise<Map<string, { external_gateway_info?: unknown }>> {
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const multi = await MultiCloud.connect({ config, clouds: ['sp1'] });
    try {
      const all = await collect(multi.get('sp1').network.listRouters());
      return new Map(all.map((r) => [r.name, r]));
    } finally {
      await multi.close();
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-netproj-'));
    cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    const ks = dc.cloud('sp1').keystone;
    const project = ks.ensureProject(SECOND, 'default');
    secondId = project.id;
    const demo = ks.findUserByName('demo', 'default');
    const member = ks.findRoleByName('member');
    assert.ok(demo && member);
    ks.grant('user', demo.id, 'project', project.id, member.id);
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('network, subnet and router create --project land in that project; the default project sees none', async () => {
    const net = await ocx(['network', 'create', 'np-net', '--project', SECOND, ...SP1, '-f', 'json']);
    ok(net);
    const n = JSON.parse(net.stdout) as { project_id: string; tenant_id: string; id: string };
    assert.equal(n.project_id, secondId);
    assert.equal(n.tenant_id, secondId);

    // --network is resolved in P too: the default project cannot see np-net.
    const sub = await ocx([
      'subnet',
      'create',
      'np-sub',
      '--network',
      'np-net',
      '--subnet-range',
      '10.77.0.0/24',
      '--project',
      secondId,
      ...SP1,
      '-f',
      'json',
    ]);
    ok(sub);
    const s = JSON.parse(sub.stdout) as { project_id: string; network_id: string };
    assert.equal(s.project_id, secondId);
    assert.equal(s.network_id, n.id);

    const rt = await ocx(['router', 'create', 'np-router', '--project', SECOND, ...SP1, '-f', 'json']);
    ok(rt);
    assert.equal((JSON.parse(rt.stdout) as { project_id: string }).project_id, secondId);

    const list = await ocx(['network', 'list', ...SP1, '-f', 'value', '-c', 'Name']);
    ok(list);
    assert.ok(!list.stdout.split('\n').includes('np-net'), 'the default project does not see it');
    assert.ok(!(await routers()).has('np-router'));

    const bad = await ocx(['router', 'create', 'x', '--project', 'no-such-project', ...SP1]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^Error: sp1 \(RegionOne\): \[(NOT_FOUND|FORBIDDEN)\] /);
  });

  it('router remove subnet frees the subnet; router unset --external-gateway clears the gateway', async () => {
    ok(await ocx(['network', 'create', 'rm-net', ...SP1]));
    ok(await ocx(['subnet', 'create', 'rm-sub', '--network', 'rm-net', '--subnet-range', '10.78.0.0/24', ...SP1]));
    ok(await ocx(['router', 'create', 'rm-router', '--external-gateway', 'public', ...SP1]));
    ok(await ocx(['router', 'add', 'subnet', 'rm-router', 'rm-sub', ...SP1]));
    const busy = await ocx(['subnet', 'delete', 'rm-sub', ...SP1]);
    assert.equal(busy.code, 1, 'a subnet with a router interface is in use');

    const rm = await ocx(['router', 'remove', 'subnet', 'rm-router', 'rm-sub', ...SP1]);
    ok(rm);
    assert.equal(rm.stdout, '');
    const again = await ocx(['router', 'remove', 'subnet', 'rm-router', 'rm-sub', ...SP1]);
    assert.equal(again.code, 1, 'the interface is gone');
    assert.match(again.stderr, /^Error: sp1 \(RegionOne\): \[NOT_FOUND\] /);
    assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
    const missing = await ocx(['router', 'remove', 'subnet', 'no-router', 'rm-sub', ...SP1]);
    assert.equal(missing.stderr, 'Error: sp1 (RegionOne): [NOT_FOUND] router "no-router" not found\n');

    assert.ok((await routers()).get('rm-router')?.external_gateway_info);
    const unset = await ocx(['router', 'unset', '--external-gateway', 'rm-router', ...SP1]);
    ok(unset);
    assert.equal(unset.stdout, '');
    assert.equal((await routers()).get('rm-router')?.external_gateway_info ?? null, null);

    ok(await ocx(['subnet', 'delete', 'rm-sub', ...SP1]));
    ok(await ocx(['router', 'delete', 'rm-router', ...SP1]));
    ok(await ocx(['network', 'delete', 'rm-net', ...SP1]));
  });
});
