/**
 * `ocx project list` and `ocx quota list` against devcloud (idp and sp1, each by its own credentials). The demo
 * user also belongs to a second project on idp, where the test creates two m1.tiny servers and a 3 GiB volume;
 * the output must show exactly that, humanised or in bytes, filtered, nested for json/yaml, with bars on a TTY.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { ComputeClient, connectionForProject, createSession, loadCloudsConfig, MultiCloud } from '@ocx/sdk';
import type { CliContext } from '../src/context.ts';
import { main } from '../src/main.ts';

const SECOND = 'quota-b';

async function ocx(
  args: string[],
  env: Record<string, string>,
  isTTY = false,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) clean[k] = v;
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    env: { ...clean, ...env },
    cwd: env.HOME ?? process.cwd(),
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    exitCode: 0,
    isTTY,
  };
  const code = await main(args, ctx);
  return { code, stdout, stderr };
}

describe('ocx project list / quota list on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  let secondId = '';
  let demoId = '';
  const BOTH = ['--os-cloud', 'idp', '--os-cloud', 'sp1'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-quota-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    const ks = dc.cloud('idp').keystone;
    const project = ks.ensureProject(SECOND, 'default');
    secondId = project.id;
    const demo = ks.findUserByName('demo', 'default');
    const member = ks.findRoleByName('member');
    assert.ok(demo && member);
    ks.grant('user', demo.id, 'project', project.id, member.id);
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const admin = createSession(config.getCloud('idp-admin'));
    // Two servers against a limit of 2 instances: 100% used, which --near must find.
    await new ComputeClient(admin.client('compute')).updateQuotaSet(secondId, { instances: 2 });
    await admin.close();
    const multi = await MultiCloud.connect({ config, clouds: ['idp'] });
    try {
      demoId = (await multi.get('idp').session.projectId()) ?? '';
      const conn = await connectionForProject(multi.get('idp'), secondId);
      let imageRef = '';
      for await (const img of conn.image.listImages()) {
        imageRef = img.id;
        break;
      }
      for (const i of [1, 2])
        await conn.compute.createServer(
          { name: `cli-q-${i}`, flavorRef: '1', imageRef, networks: 'none' },
          { microversion: '2.37' },
        );
      await conn.blockStorage.createVolume({ size: 3, name: 'cli-q-vol' });
    } finally {
      await multi.close();
    }
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('project list: Cloud, ID, Name, Domain for every project on every chosen cloud', async () => {
    const r = await ocx([...BOTH, 'project', 'list', '-f', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const rows = JSON.parse(r.stdout) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((x) => [x.Cloud, x.Name, x.Domain]),
      [
        ['idp', 'demo', 'Default'],
        ['idp', SECOND, 'Default'],
        ['sp1', 'demo', 'Default'],
      ],
    );
    assert.equal(rows[1]?.ID, secondId);
    assert.equal(rows[0]?.ID, demoId);
  });

  it('quota list: a table with sizes humanised, and in bytes with --bytes', async () => {
    const r = await ocx(['--os-cloud', 'idp', 'quota', 'list', '--project', SECOND], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[1] ?? '', /^\| Cloud \| Project +\| Resource +\| Usage +\| Limit +\|$/);
    const line = (resource: string) => {
      const l = lines.find((x) => x.includes(`| ${resource} `));
      assert.ok(l, `a line for ${resource} in\n${r.stdout}`);
      return l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
    };
    assert.deepEqual(line('compute.instances'), ['idp', SECOND, 'compute.instances', '2', '2']);
    assert.deepEqual(line('compute.ram'), ['idp', SECOND, 'compute.ram', '1GiB', '50GiB']);
    assert.deepEqual(line('volume.gigabytes'), ['idp', SECOND, 'volume.gigabytes', '3GiB', '1000GiB']);
    assert.deepEqual(line('network.subnetpool'), ['idp', SECOND, 'network.subnetpool', '0', 'unlimited']);
    assert.equal(r.stdout.includes('Used'), false, 'no bar column when stdout is not a terminal');

    const raw = await ocx(['--os-cloud', 'idp', 'quota', 'list', '--project', SECOND, '--bytes', '-f', 'csv'], env);
    assert.ok(raw.stdout.includes(`idp,${SECOND},compute.ram,1073741824,53687091200\n`), raw.stdout);
  });

  it('--resource PREFIX and --near N% filter the rows', async () => {
    const r = await ocx([...BOTH, 'quota', 'list', '--resource', 'compute.ram', '-f', 'value'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [
      'idp demo compute.ram 0B 50GiB',
      `idp ${SECOND} compute.ram 1GiB 50GiB`,
      'sp1 demo compute.ram 0B 50GiB',
    ]);
    const near = await ocx([...BOTH, 'quota', 'list', '--near', '80%', '-f', 'value'], env);
    assert.equal(near.code, 0, near.stderr);
    assert.equal(near.stdout, `idp ${SECOND} compute.instances 2 2\n`);
    const bad = await ocx([...BOTH, 'quota', 'list', '--near', 'lots'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--near expects a percentage/);
  });

  it('-f json and -f yaml give the nested per-project form', async () => {
    const r = await ocx([...BOTH, 'quota', 'list', '--resource', 'compute.instances', '-f', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepEqual(Object.keys(doc), ['idp', 'sp1']);
    assert.deepEqual(doc.idp?.[secondId], {
      'compute.instances': { usage: 2, limit: 2, reserved: 0, unit: 'count' },
    });
    assert.deepEqual(doc.idp?.[demoId], {
      'compute.instances': { usage: 0, limit: 10, reserved: 0, unit: 'count' },
    });
    const y = await ocx(
      ['--os-cloud', 'idp', 'quota', 'list', '--resource', 'compute.ram', '--project', SECOND, '-f', 'yaml'],
      env,
    );
    assert.equal(
      y.stdout,
      `idp:\n  ${secondId}:\n    compute.ram:\n      usage: 1073741824\n      limit: 53687091200\n      reserved: 0\n      unit: bytes\n`,
    );
  });

  it('on a terminal a usage bar is drawn next to the numbers', async () => {
    const r = await ocx(
      ['--os-cloud', 'idp', 'quota', 'list', '--project', SECOND, '--resource', 'compute.'],
      env,
      true,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| compute\.instances +\| 2 +\| 2 +\| \[#{20}\] 100% \|/);
    assert.match(r.stdout, /\| compute\.cores +\| 2 +\| 20 +\| \[##-{18}\] {2}10% \|/);
  });

  it('a failing service on one cloud: the other rows print, one stderr line per failed part, exit 0', async () => {
    await dc.setFaults('sp1', 'network', { errorRate: 1, errorStatus: 500 });
    try {
      const r = await ocx([...BOTH, 'quota', 'list', '--resource', 'network.router', '-f', 'value'], env);
      assert.equal(r.code, 0);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), [
        // devcloud seeds demo as devstack does: network private, router router1.
        'idp demo network.router 1 10',
        `idp ${SECOND} network.router 0 10`,
      ]);
      assert.match(r.stderr, /^Error: sp1\/demo \(network\): \[SERVICE_ERROR\] /);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      await dc.clearFaults('sp1');
    }
  });

  it('an unknown --project is an error naming it', async () => {
    const r = await ocx(['--os-cloud', 'idp', 'quota', 'list', '--project', 'nope'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[NOT_FOUND\] no project named or with id 'nope'/);
  });

  it('Keystone unified limits: limits.* rows with no usage (printed -), null in json, no bar', async () => {
    // Registered by the admin as `openstack registered limit create` / `limit create` do (last test: the other
    // tests' outputs stay free of these rows).
    const config = loadCloudsConfig({
      files: { clouds: [env.OS_CLIENT_CONFIG_FILE as string], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const admin = createSession(config.getCloud('idp-admin'));
    try {
      const base = (await admin.getAccess()).identityUrl.replace(/\/+$/, '');
      const ks = admin.client('identity');
      const { services } = await ks.getJson<{ services: Array<{ id: string; type: string }> }>(`${base}/services`);
      const compute = services.find((x) => x.type === 'compute')?.id;
      const reg = { service_id: compute, resource_name: 'servers', default_limit: 10 };
      assert.equal((await ks.post(`${base}/registered_limits`, { json: { registered_limits: [reg] } })).status, 201);
      const own = { project_id: secondId, service_id: compute, resource_name: 'servers', resource_limit: 4 };
      assert.equal((await ks.post(`${base}/limits`, { json: { limits: [own] } })).status, 201);
    } finally {
      await admin.close();
    }
    const r = await ocx(['--os-cloud', 'idp', 'quota', 'list', '--resource', 'limits.', '-f', 'value'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [
      'idp demo limits.compute.servers - 10',
      `idp ${SECOND} limits.compute.servers - 4`,
    ]);
    const j = await ocx(
      ['--os-cloud', 'idp', 'quota', 'list', '--resource', 'limits.', '--project', SECOND, '-f', 'json'],
      env,
    );
    assert.deepEqual(JSON.parse(j.stdout), {
      idp: { [secondId]: { 'limits.compute.servers': { usage: null, limit: 4, reserved: 0, unit: 'count' } } },
    });
    const near = await ocx(
      ['--os-cloud', 'idp', 'quota', 'list', '--resource', 'limits.', '--near', '0%', '-f', 'value'],
      env,
    );
    assert.equal(near.stdout, '', 'no usage: never near a limit');
    const tty = await ocx(
      ['--os-cloud', 'idp', 'quota', 'list', '--resource', 'limits.', '--project', SECOND],
      env,
      true,
    );
    assert.match(tty.stdout, /\| limits\.compute\.servers +\| - +\| 4 +\| +\|/);
  });
});
