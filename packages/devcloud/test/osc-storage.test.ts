/**
 * python-openstackclient, unmodified, against a started devcloud's clouds.yaml: images (create --file, list, save,
 * delete), volumes (create, list, delete), Swift (container create, object create/save) and quota show.
 * Skipped when /usr/bin/openstack is absent, unless OCX_REQUIRE_OSC=1 (then it fails loudly).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';

const OSC = '/usr/bin/openstack';
const haveOsc = existsSync(OSC);
const required = process.env.OCX_REQUIRE_OSC === '1';

if (!haveOsc && required) {
  throw new Error(`OCX_REQUIRE_OSC=1 but ${OSC} is missing: install the Debian package python3-openstackclient`);
}

describe('python-openstackclient against devcloud: image, volume, object storage, quota', {
  skip: !haveOsc && 'no /usr/bin/openstack',
}, () => {
  let dc: Devcloud;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-osc-storage-'));
    dc = await startDevcloud({
      clouds: ['idp', 'sp1'],
      cloudsYamlPath: join(dir, 'clouds.yaml'),
      transitionMs: 0,
      logLevel: 'silent',
    });
    env = {
      HOME: dir,
      PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`,
      OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
      LANG: 'C.UTF-8',
    };
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function osc(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(OSC, ['--os-cloud', 'sp1', ...args], { env, cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`openstack ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolve(stdout);
      });
    });
  }
  const oscJson = async <T = Record<string, unknown>>(...args: string[]): Promise<T> =>
    JSON.parse(await osc(...args, '-f', 'json')) as T;

  it('image create --file, list, save (same bytes), delete', async () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
    writeFileSync(join(dir, 'disk.raw'), data);
    const created = await oscJson(
      'image',
      'create',
      '--file',
      join(dir, 'disk.raw'),
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      'osc-img',
    );
    assert.equal(created.name, 'osc-img');
    const list = await oscJson<{ ID: string; Name: string; Status: string }[]>('image', 'list');
    const mine = list.find((i) => i.Name === 'osc-img');
    assert.equal(mine?.Status, 'active');
    assert.ok(
      list.some((i) => i.Name === 'cirros-0.6.2-x86_64-disk'),
      'the seed image is listed',
    );
    await osc('image', 'save', '--file', join(dir, 'saved.raw'), 'osc-img');
    const saved = readFileSync(join(dir, 'saved.raw'));
    assert.equal(createHash('md5').update(saved).digest('hex'), createHash('md5').update(data).digest('hex'));
    await osc('image', 'delete', 'osc-img');
    const after = await oscJson<{ Name: string }[]>('image', 'list');
    assert.ok(!after.some((i) => i.Name === 'osc-img'));
  });

  it('volume create, list, delete', async () => {
    const v = await oscJson('volume', 'create', '--size', '1', 'osc-vol');
    assert.equal(v.name, 'osc-vol');
    assert.equal(v.size, 1);
    const list = await oscJson<{ ID: string; Name: string; Status: string; Size: number }[]>('volume', 'list');
    const row = list.find((x) => x.Name === 'osc-vol');
    assert.equal(row?.Status, 'available');
    assert.equal(row?.Size, 1);
    await osc('volume', 'delete', 'osc-vol');
    const sp1 = dc.cloud('sp1');
    const gone = sp1.ctx.internal.volumes.get(String(v.id));
    assert.ok(gone === undefined || gone.status === 'deleting');
  });

  it('container create, object create and object save', async () => {
    const created = await oscJson<{ container: string }[]>('container', 'create', 'osc-c');
    assert.equal(created[0]?.container, 'osc-c');
    writeFileSync(join(dir, 'note.txt'), 'hello from osc\n');
    const obj = await oscJson<{ object: string; etag: string }[]>('object', 'create', 'osc-c', 'note.txt');
    assert.equal(obj[0]?.object, 'note.txt');
    assert.equal(obj[0]?.etag, createHash('md5').update('hello from osc\n').digest('hex'));
    await osc('object', 'save', '--file', join(dir, 'note-copy.txt'), 'osc-c', 'note.txt');
    assert.equal(readFileSync(join(dir, 'note-copy.txt'), 'utf8'), 'hello from osc\n');
  });

  it('quota show includes volume quotas', async () => {
    const q = await oscJson<Record<string, unknown>>('quota', 'show');
    assert.equal(q.volumes, 10);
    assert.equal(q.gigabytes, 1000);
    assert.equal(q.snapshots, 10);
  });
});
