/**
 * `ocx` on a clouds.yaml cloud with `gateway:` (reached through an OCX gateway, gRPC) beside a REST cloud: the
 * same commands, one table with a Cloud column; what the gateway refuses is one error line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type Gateway, startGateway } from '@ocx/gateway';
import { loadCloudsConfig } from '@ocx/sdk';
import { runOcx } from './minicloud.ts';

describe('ocx on a gateway: cloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let gw: Gateway;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-gw-'));
    const devcloudYaml = join(dir, 'devcloud.yaml');
    dc = await startDevcloud({
      clouds: ['idp', 'sp1'],
      cloudsYamlPath: devcloudYaml,
      transitionMs: 50,
      logLevel: 'silent',
    });
    const config = loadCloudsConfig({
      files: { clouds: [devcloudYaml], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    gw = await startGateway({ home: config.getCloud('idp-admin'), homeName: 'idp' });
    // devcloud's clouds.yaml plus sp1-gw: idp's demo user, sp1 through the gateway.
    const idp = config.getCloud('idp').auth;
    const cloudsYaml = join(dir, 'clouds.yaml');
    writeFileSync(
      cloudsYaml,
      `${readFileSync(devcloudYaml, 'utf8')}  sp1-gw:
    auth: {auth_url: "${idp.auth_url}", username: demo, password: demo-secret, project_name: demo,
           user_domain_name: Default, project_domain_name: Default}
    gateway: {url: "${gw.grpcUrl}", cloud: sp1}
`,
    );
    env = { OS_CLIENT_CONFIG_FILE: cloudsYaml, HOME: dir };
  });
  after(async () => {
    await dc?.stop();
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('flavor, image and server lists over a REST cloud and a gateway cloud in one table', async () => {
    const flavors = await runOcx(['flavor', 'list', '--os-cloud', 'idp', '--os-cloud', 'sp1-gw', '-f', 'json'], env);
    assert.equal(flavors.code, 0, flavors.stderr);
    const rows = JSON.parse(flavors.stdout) as { Cloud: string; Name: string }[];
    assert.deepEqual([...new Set(rows.map((r) => r.Cloud))].sort(), ['idp', 'sp1-gw']);
    assert.ok(rows.some((r) => r.Cloud === 'sp1-gw' && r.Name === 'm1.tiny'));
    const images = await runOcx(['image', 'list', '--os-cloud', 'sp1-gw', '-f', 'value', '-c', 'Name'], env);
    assert.equal(images.code, 0, images.stderr);
    assert.match(images.stdout, /cirros/);
    const servers = await runOcx(['server', 'list', '--os-cloud', 'sp1-gw', '-f', 'json'], env);
    assert.equal(servers.code, 0, servers.stderr);
    assert.deepEqual(JSON.parse(servers.stdout), []);
  });

  it('a volume made through the gateway; a second of the same name is one CONFLICT line, exit 1', async () => {
    const made = await runOcx(['volume', 'create', 'v1', '--size', '1', '--os-cloud', 'sp1-gw', '-f', 'json'], env);
    assert.equal(made.code, 0, made.stderr);
    assert.equal((JSON.parse(made.stdout) as { name: string }).name, 'v1');
    const again = await runOcx(['volume', 'create', 'v1', '--size', '1', '--os-cloud', 'sp1-gw'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: .*\[CONFLICT\] the project already has a volume named 'v1'/);
    assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
    // One volume v1, seen over REST; deleted once Cinder has made it (a creating volume cannot be deleted).
    let listed = '';
    for (const until = Date.now() + 10_000; Date.now() < until && listed !== 'v1 available'; ) {
      const r = await runOcx(['volume', 'list', '--os-cloud', 'sp1', '-f', 'value', '-c', 'Name', '-c', 'Status'], env);
      listed = r.stdout.trim();
    }
    assert.equal(listed, 'v1 available');
    const deleted = await runOcx(['volume', 'delete', 'v1', '--os-cloud', 'sp1-gw'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});
