/**
 * `image create --file` and `image save --file` against devcloud: the data arrives intact (sha256 and md5 stored as
 * the cloud layer stores them), a second create of the same name and file is the same image (idempotent), a Cloud
 * column over several clouds, one error line per failed cloud.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type OcxRun, runOcx } from './minicloud.ts';

describe('ocx image create --file / image save --file on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  let file: string;
  let data: Buffer;
  const ocx = (args: string[]) => runOcx(args, env);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-image-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    data = randomBytes(3 * 1024 * 1024 + 17);
    file = join(dir, 'disk.raw');
    writeFileSync(file, data);
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('create on two clouds: one row per cloud, hashes stored; again: the same images (idempotent)', async () => {
    const args = ['image', 'create', 'up-img', '--file', 'disk.raw', '--disk-format', 'raw', '--property', 'role=test'];
    const r = await ocx([...args, '--os-cloud', 'sp1', '--os-cloud', 'sp2', '-f', 'json']);
    ok(r);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((x) => x.Cloud),
      ['sp1', 'sp2'],
    );
    const sha256 = createHash('sha256').update(data).digest('hex');
    const md5 = createHash('md5').update(data).digest('hex');
    for (const row of rows) {
      assert.equal(row.name, 'up-img');
      assert.equal(row.size, data.length);
      assert.equal(row.checksum, md5, 'Glance saw the same bytes');
      assert.equal(row.disk_format, 'raw');
      const props = row.properties as Record<string, string>;
      assert.equal(props['owner_specified.openstack.sha256'], sha256);
      assert.equal(props.role, 'test');
    }
    const again = await ocx([...args, '--os-cloud', 'sp1', '--os-cloud', 'sp2', '-f', 'json']);
    ok(again);
    assert.deepEqual(
      (JSON.parse(again.stdout) as { id: string }[]).map((x) => x.id),
      rows.map((x) => x.id),
    );
    const list = await ocx(['image', 'list', '--os-cloud', 'sp1', '-f', 'value', '-c', 'Name']);
    assert.equal(list.stdout.split('\n').filter((n) => n === 'up-img').length, 1, 'no duplicate image');
  });

  it('save --file writes the same bytes; several clouds or a missing image fail with one line', async () => {
    const out = join(dir, 'saved.raw');
    ok(await ocx(['image', 'save', 'up-img', '--file', 'saved.raw', '--os-cloud', 'sp2']));
    assert.ok(readFileSync(out).equals(data));
    assert.equal(existsSync(`${out}.part`), false);

    const two = await ocx(['image', 'save', 'up-img', '--file', 'x.raw', '--os-cloud', 'sp1', '--os-cloud', 'sp2']);
    assert.equal(two.code, 1);
    assert.equal(two.stderr, 'Error: [BAD_REQUEST] image save writes one file: choose one cloud\n');

    const missing = await ocx(['image', 'save', 'nope', '--file', 'y.raw', '--os-cloud', 'sp1']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: sp1 (RegionOne): [NOT_FOUND] No Image found for nope\n');
    assert.equal(existsSync(join(dir, 'y.raw')), false);
  });

  it('create from a missing file fails before any cloud is asked and leaves no image behind', async () => {
    const r = await ocx([
      'image',
      'create',
      'no-file',
      '--file',
      'missing.raw',
      '--os-cloud',
      'sp1',
      '--os-cloud',
      'sp2',
    ]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Error: \[BAD_REQUEST\] cannot read --file 'missing.raw': ENOENT/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const list = await ocx(['image', 'list', '--os-cloud', 'sp1', '-f', 'value', '-c', 'Name']);
    assert.ok(!list.stdout.split('\n').includes('no-file'));
  });
});
