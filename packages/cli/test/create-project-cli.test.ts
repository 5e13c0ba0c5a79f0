/** `--project P` on server/volume/image create (issue 14): the resource is made in P, not the token's project. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type OcxRun, runOcx } from './minicloud.ts';

const SECOND = 'cli2-second';

describe('ocx server|volume|image create --project on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  let secondId = '';
  const ocx = (args: string[]) => runOcx(args, env);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-project-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    const ks = dc.cloud('sp1').keystone;
    const project = ks.ensureProject(SECOND, 'default');
    secondId = project.id;
    const demo = ks.findUserByName('demo', 'default');
    const member = ks.findRoleByName('member');
    assert.ok(demo && member);
    ks.grant('user', demo.id, 'project', project.id, member.id);
    writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(4096, 1));
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('server create --project: its project_id is the other project', async () => {
    const r = await ocx([
      'server',
      'create',
      'pr-vm',
      '--project',
      SECOND,
      '--image',
      'cirros-0.6.2-x86_64-disk',
      '--flavor',
      'm1.tiny',
      '--os-cloud',
      'sp1',
      '-f',
      'json',
    ]);
    ok(r);
    const s = JSON.parse(r.stdout) as { project_id: string };
    assert.equal(s.project_id, secondId);
  });

  it('image create --project: owned by the other project', async () => {
    const r = await ocx([
      'image',
      'create',
      'pr-img',
      '--file',
      'disk.raw',
      '--project',
      secondId,
      '--os-cloud',
      'sp1',
      '-f',
      'json',
    ]);
    ok(r);
    assert.equal((JSON.parse(r.stdout) as { owner: string }).owner, secondId);
  });

  it('volume create --project: not in the token’s project; an unknown project fails with one line', async () => {
    const r = await ocx([
      'volume',
      'create',
      'pr-vol',
      '--size',
      '1',
      '--project',
      SECOND,
      '--os-cloud',
      'sp1',
      '-f',
      'json',
    ]);
    ok(r);
    const list = await ocx(['volume', 'list', '--os-cloud', 'sp1', '-f', 'value', '-c', 'Name']);
    ok(list);
    assert.ok(!list.stdout.split('\n').includes('pr-vol'), 'the default project does not see it');

    const bad = await ocx([
      'volume',
      'create',
      'x',
      '--size',
      '1',
      '--project',
      'no-such-project',
      '--os-cloud',
      'sp1',
    ]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^Error: sp1 \(RegionOne\): \[(NOT_FOUND|FORBIDDEN)\] /);
  });
});
