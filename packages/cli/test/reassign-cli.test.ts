/**
 * `ocx … reassign --project`, `ocx floating ip create --project`, `ocx container create --project` and the quota
 * and project lists on a Synnefo cloud, against devcloud (idp: OpenStack, snf: Synnefo as kamaki's docs describe
 * it — the system project and "CS333 lab assignments").
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, type SynnefoCloud, startDevcloud } from '@ocx/devcloud';
import { runOcx } from './minicloud.ts';

const SECOND = 'quota-b';
const LAB = 'CS333 lab assignments';

describe('ocx reassign / create --project on OpenStack and Synnefo (devcloud)', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let snf: SynnefoCloud;
  let dir: string;
  let env: Record<string, string>;
  let secondId = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-reassign-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'snf'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    snf = dc.synnefo[0] as SynnefoCloud;
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    const ks = dc.cloud('idp').keystone;
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

  const SNF = ['--os-cloud', 'snf'];
  const fipUsage = async () => {
    const r = await runOcx([...SNF, 'quota', 'list', '--resource', 'cyclades.floating_ip', '-f', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<string, Record<string, Record<string, { usage: number }>>>;
    return [snf.user.uuid, snf.labProject.id].map((p) => doc.snf?.[p]?.['cyclades.floating_ip']?.usage);
  };

  it('project list on Synnefo: the system project and CS333', async () => {
    const r = await runOcx([...SNF, 'project', 'list', '-f', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      { Cloud: 'snf', ID: snf.user.uuid, Name: `system:${snf.user.uuid}`, Domain: '' },
      { Cloud: 'snf', ID: snf.labProject.id, Name: LAB, Domain: '' },
    ]);
  });

  it('floating ip create --project and floating ip reassign on Synnefo move the usage', async () => {
    assert.deepEqual(await fipUsage(), [0, 0]);
    const c = await runOcx([...SNF, 'floating', 'ip', 'create', '--project', LAB, '-f', 'json'], env);
    assert.equal(c.code, 0, c.stderr);
    const ip = JSON.parse(c.stdout) as { id: string; project_id: string };
    assert.equal(ip.project_id, snf.labProject.id);
    assert.deepEqual(await fipUsage(), [0, 1]);
    const r = await runOcx([...SNF, 'floating', 'ip', 'reassign', ip.id, '--project', `system:${snf.user.uuid}`], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `floating ip ${ip.id} is now in project system:${snf.user.uuid} (${snf.user.uuid}) on snf\n`,
    );
    assert.deepEqual(await fipUsage(), [1, 0]);
  });

  it('container create --project and container reassign on Synnefo', async () => {
    const c = await runOcx([...SNF, 'container', 'create', 'course_container', '--project', LAB], env);
    assert.equal(c.code, 0, c.stderr);
    const r = await runOcx([...SNF, 'container', 'reassign', 'course_container', '--project', snf.user.uuid], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^container course_container is now in project system:/);
  });

  it('on OpenStack: floating ip create --project lands there; server reassign is UNSUPPORTED (exit 1, reason on stderr)', async () => {
    const created = await runOcx(
      ['--os-cloud', 'idp', 'floating', 'ip', 'create', '--project', SECOND, '-f', 'json'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as { project_id: string }).project_id, secondId);

    const s = await runOcx(['--os-cloud', 'idp', 'server', 'reassign', 'srv-1', '--project', SECOND], env);
    assert.equal(s.code, 1);
    assert.equal(s.stdout, '');
    assert.match(s.stderr, /^Error: \[UNSUPPORTED\] server srv-1 cannot be moved to another project on OpenStack: /);

    // Glance answers a missing image with an HTML page (`<br /><br />` and blank lines): still one error line.
    const img = await runOcx(['--os-cloud', 'idp', 'image', 'reassign', 'no-such-image', '--project', SECOND], env);
    assert.equal(img.code, 1);
    assert.equal(img.stderr, 'Error: [NOT_FOUND] No image found with ID no-such-image\n');

    const unknown = await runOcx(['--os-cloud', 'idp', 'volume', 'reassign', 'v', '--project', 'nope'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /\[NOT_FOUND\] no project 'nope'/);

    const both = await runOcx(
      ['--os-cloud', 'idp', '--os-cloud', 'snf', 'volume', 'reassign', 'v', '--project', 'x'],
      env,
    );
    assert.equal(both.code, 1);
    assert.match(both.stderr, /works on one cloud/);
  });
});
