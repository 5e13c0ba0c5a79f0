/**
 * python-openstackclient, unmodified, against devcloud's clouds.yaml: token issue, project list, and K2K
 * (`--os-service-provider sp1 --os-remote-project-name demo ...`). Runs when /usr/bin/openstack exists; with
 * OCX_REQUIRE_OSC=1 (CI) a missing client is a failure, not a skip.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';

const run = promisify(execFile);
const OSC = process.env.OCX_OSC_PATH ?? '/usr/bin/openstack';
const present = existsSync(OSC);
const required = process.env.OCX_REQUIRE_OSC === '1';

test('python-openstackclient is installed when OCX_REQUIRE_OSC=1', {
  skip: !required && 'OCX_REQUIRE_OSC is not set',
}, () => {
  assert.ok(present, `OCX_REQUIRE_OSC=1 but ${OSC} does not exist (apt-get install python3-openstackclient)`);
});

describe('python-openstackclient against devcloud', { skip: !present && `${OSC} not installed` }, () => {
  let dc: Devcloud;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-osc-'));
    dc = await startDevcloud({ cloudsYamlPath: join(dir, 'clouds.yaml'), logLevel: 'silent' });
  });
  after(async () => {
    await dc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openstack(...args: string[]): Promise<string> {
    const { stdout } = await run(OSC, args, {
      timeout: 60_000,
      // /usr/bin first: the system python3 has the OpenStack libraries (a pyenv shim may not).
      env: {
        ...process.env,
        PATH: `/usr/bin:${process.env.PATH ?? ''}`,
        OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
        OS_CLOUD: '',
      },
    });
    return stdout;
  }

  test('token issue', async () => {
    const out = JSON.parse(await openstack('--os-cloud', 'idp', 'token', 'issue', '-f', 'json')) as Record<
      string,
      string
    >;
    const info = dc.cloud('idp').ctx.validateToken(out.id as string);
    assert.ok(info, 'the printed token is valid at the idp');
    assert.equal(info.userName, 'demo');
    assert.equal(out.project_id, info.projectId);
  });

  test('project list (admin sees admin and demo; demo sees demo)', async () => {
    const admin = JSON.parse(await openstack('--os-cloud', 'sp1-admin', 'project', 'list', '-f', 'json')) as {
      Name: string;
    }[];
    assert.deepEqual(admin.map((p) => p.Name).sort(), ['admin', 'demo']);
    const demo = JSON.parse(await openstack('--os-cloud', 'sp1', 'project', 'list', '-f', 'json')) as {
      Name: string;
    }[];
    assert.deepEqual(
      demo.map((p) => p.Name),
      ['demo'],
    );
  });

  test('K2K: --os-service-provider sp1 --os-remote-project-name demo token issue', async () => {
    const out = JSON.parse(
      await openstack(
        '--os-cloud',
        'idp',
        '--os-service-provider',
        'sp1',
        '--os-remote-project-name',
        'demo',
        '--os-remote-project-domain-name',
        'Default',
        'token',
        'issue',
        '-f',
        'json',
      ),
    ) as Record<string, string>;
    const sp1 = dc.cloud('sp1').ctx.validateToken(out.id as string);
    assert.ok(sp1, 'the printed token is an sp1 token');
    assert.equal(sp1.projectName, 'demo');
    assert.equal(sp1.federated?.identityProvider, 'idp');
    assert.equal(dc.cloud('idp').ctx.validateToken(out.id as string), undefined);
  });
});
