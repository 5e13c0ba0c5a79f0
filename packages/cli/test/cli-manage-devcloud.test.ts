/**
 * The commands that change a cloud (server create/show/delete, keypair, volume, image show/delete) against devcloud:
 * python-openstackclient's fields and options, one error line per failed cloud with the OCX code, a failing exit
 * status when any requested change failed, and the --wait progress line only on a terminal.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { connectCloud, loadCloudsConfig } from '@ocx/sdk';
import { type OcxRun, runOcx } from './minicloud.ts';

const IMAGE = 'cirros-0.6.2-x86_64-disk';

/** `server create NAME --os-cloud CLOUD` from the seed image on m1.tiny, plus `extra`. */
const serverCreate = (name: string, cloud: string, ...extra: string[]) => [
  'server',
  'create',
  name,
  '--os-cloud',
  cloud,
  '--image',
  IMAGE,
  '--flavor',
  'm1.tiny',
  ...extra,
];

describe('ocx commands that change a cloud, on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  const ocx = (args: string[]) => runOcx(args, env);
  const json = (r: OcxRun) => JSON.parse(r.stdout) as Record<string, unknown>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-manage-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('server create --wait by names, show by name and id, delete --wait, then show is NOT_FOUND', async () => {
    const userData = join(dir, 'user-data.sh');
    writeFileSync(userData, '#!/bin/sh\necho hello\n');
    const kp = await ocx([
      'keypair',
      'create',
      'mk-key',
      '--os-cloud',
      'sp1',
      '--private-key',
      join(dir, 'mk-key.pem'),
    ]);
    assert.equal(kp.code, 0, kp.stderr);

    const created = await ocx(
      serverCreate(
        'mk-web',
        'sp1',
        '--network',
        'private',
        '--key-name',
        'mk-key',
        '--user-data',
        userData,
        '--property',
        'role=web',
        '--property',
        'tier=front=1',
        '--wait',
        '-f',
        'json',
      ),
    );
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stderr, '', 'no progress line when stderr is not a terminal');
    const s = json(created);
    assert.equal(s.name, 'mk-web');
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s.key_name, 'mk-key');
    assert.deepEqual(s.properties, { role: 'web', tier: 'front=1' });
    assert.match(String(s.image), new RegExp(`^${IMAGE} \\([0-9a-f-]{36}\\)$`));
    assert.match(String(s.flavor), /^m1\.tiny( \(1\))?$/);
    assert.deepEqual(Object.keys(s.addresses as object), ['private']);
    assert.equal(s['OS-EXT-STS:power_state'], 1, "JSON has Nova's number, as OSC's does");
    assert.deepEqual(s.security_groups, [{ name: 'default' }]);
    assert.deepEqual(s.volumes_attached, []);
    const keys = Object.keys(s);
    assert.deepEqual(keys, [...keys].sort(), 'fields sorted as OSC prints them');

    const byName = await ocx(['server', 'show', 'mk-web', '--os-cloud', 'sp1', '-f', 'json']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(json(byName).id, s.id);
    const table = await ocx(['server', 'show', String(s.id), '--os-cloud', 'sp1', '-c', 'name', '-c', 'status']);
    assert.equal(
      table.stdout,
      [
        '+--------+--------+',
        '| Field  | Value  |',
        '+--------+--------+',
        '| name   | mk-web |',
        '| status | ACTIVE |',
        '+--------+--------+',
        '',
      ].join('\n'),
    );

    const del = await ocx(['server', 'delete', 'mk-web', '--os-cloud', 'sp1', '--wait']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, '');
    const gone = await ocx(['server', 'show', 'mk-web', '--os-cloud', 'sp1']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stdout, '');
    assert.equal(gone.stderr, "Error: sp1 (RegionOne): [NOT_FOUND] No server with a name or ID of 'mk-web' exists.\n");
  });

  it('server create --wait on a build that fails: the fault on one error line, exit 1', async () => {
    const r = await ocx(
      serverCreate('mk-bad', 'sp1', '--property', 'devcloud:fault=No valid host was found', '--wait'),
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^Error: sp1 \(RegionOne\): \[RESOURCE_FAILED\] error in creating server [0-9a-f-]+: compute service reports fault: No valid host was found \[compute\]\n$/,
    );
    const del = await ocx(['server', 'delete', 'mk-bad', '--os-cloud', 'sp1', '--wait']);
    assert.equal(del.code, 0, del.stderr);
  });

  it('--wait draws a progress line on a terminal, never with -f json', async () => {
    const args = serverCreate('mk-tty', 'sp2', '--wait');
    const tty = await runOcx(args, env, { errIsTTY: true });
    assert.equal(tty.code, 0, tty.stderr);
    // One line redrawn in place (\r) with each status seen, ending on ACTIVE, then a newline.
    assert.match(tty.stderr, /^(\rsp2: [A-Z]+ \d+% *)+\n$/);
    assert.match(tty.stderr, /\rsp2: ACTIVE \d+% *\n$/);
    assert.match(tty.stdout, /\| status +\| ACTIVE +\|/);
    assert.match(tty.stdout, /\| OS-EXT-STS:power_state +\| Running +\|/, 'a table names the power state');
    const quiet = await runOcx(serverCreate('mk-tty2', 'sp2', '--wait', '-f', 'json'), env, { errIsTTY: true });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    const del = await ocx(['server', 'delete', 'mk-tty', 'mk-tty2', '--os-cloud', 'sp2', '--wait']);
    assert.equal(del.code, 0, del.stderr);
  });

  it('keypair create/list/delete on two clouds: a Cloud column, one error line per failed cloud', async () => {
    const generated = await ocx(['keypair', 'create', 'mk-gen', '--os-cloud', 'sp1']);
    assert.equal(generated.code, 0, generated.stderr);
    assert.match(generated.stdout, /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n/);
    const saved = statSync(join(dir, 'mk-key.pem'));
    assert.equal(saved.mode & 0o777, 0o600, 'the private key file is private');
    assert.match(readFileSync(join(dir, 'mk-key.pem'), 'utf8'), /PRIVATE KEY/);

    const two = ['--os-cloud', 'sp1', '--os-cloud', 'sp2'];
    const refused = await ocx(['keypair', 'create', 'mk-two', ...two]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error: \[BAD_REQUEST\] generating a key on several clouds .* give --public-key\n$/);

    const pub = join(dir, 'id.pub');
    writeFileSync(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3bHYy0zHJ2Cq6SZn1xTP2fNzM2kBx3Xb9w5cF8e6h mk@test\n');
    const shared = await ocx(['keypair', 'create', 'mk-two', '--public-key', pub, ...two, '-f', 'json']);
    assert.equal(shared.code, 0, shared.stderr);
    const rows = JSON.parse(shared.stdout) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((r) => [r.Cloud, r.name, r.type]),
      [
        ['sp1', 'mk-two', 'ssh'],
        ['sp2', 'mk-two', 'ssh'],
      ],
    );
    assert.equal(rows[0]?.fingerprint, rows[1]?.fingerprint, 'the same public key on both');
    assert.deepEqual(
      Object.keys(rows[0] ?? {}),
      ['Cloud', 'created_at', 'fingerprint', 'id', 'is_deleted', 'name', 'type', 'user_id'],
      "openstack keypair create's fields",
    );

    const list = await ocx(['keypair', 'list', ...two, '-f', 'value', '-c', 'Cloud', '-c', 'Name']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').sort(), ['sp1 mk-gen', 'sp1 mk-key', 'sp1 mk-two', 'sp2 mk-two']);

    // mk-gen exists only on sp1: sp2 fails (exit 1), sp1 still deletes both.
    const del = await ocx(['keypair', 'delete', 'mk-two', 'mk-gen', ...two]);
    assert.equal(del.code, 1);
    assert.equal(
      del.stderr,
      "Error: sp2 (RegionOne): [NOT_FOUND] 1 of 2 keypairs failed to delete: 'mk-gen': No keypair with a name or ID of 'mk-gen' exists.\n",
    );
    const after = await ocx(['keypair', 'list', ...two, '-f', 'value', '-c', 'Name']);
    assert.equal(after.stdout, 'mk-key\n');
  });

  it('volume create/show/delete, and image show/delete, by name', async () => {
    const created = await ocx([
      'volume',
      'create',
      'mk-vol',
      '--size',
      '2',
      '--description',
      'for the test',
      '--property',
      'purpose=ci',
      '--os-cloud',
      'sp1',
      '-f',
      'json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const v = json(created);
    assert.equal(v.name, 'mk-vol');
    assert.equal(v.size, 2);
    assert.equal(v.description, 'for the test');
    assert.deepEqual(v.properties, { purpose: 'ci' });
    assert.equal(v.bootable, 'false');
    assert.deepEqual(
      Object.keys(v),
      [
        'attachments',
        'availability_zone',
        'bootable',
        'consistencygroup_id',
        'created_at',
        'description',
        'encrypted',
        'id',
        'multiattach',
        'name',
        'properties',
        'replication_status',
        'size',
        'snapshot_id',
        'source_volid',
        'status',
        'type',
        'updated_at',
        'user_id',
      ],
      "python-openstackclient's volume fields",
    );

    const shown = await ocx(['volume', 'show', 'mk-vol', '--os-cloud', 'sp1', '-f', 'value', '-c', 'id', '-c', 'size']);
    assert.equal(shown.stdout, `${String(v.id)}\n2\n`);
    const badSize = await ocx(['volume', 'create', 'mk-x', '--size', 'big', '--os-cloud', 'sp1']);
    assert.equal(badSize.code, 1);
    assert.equal(badSize.stderr, "Error: --size expects a number of GiB, got 'big'\n");

    // Available once devcloud's transition has passed; delete by name.
    let del: OcxRun;
    for (let i = 0; ; i++) {
      del = await ocx(['volume', 'delete', 'mk-vol', '--os-cloud', 'sp1']);
      if (del.code === 0 || i === 20) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(del.code, 0, del.stderr);
    // Cinder deletes in the background: show finds it 'deleting' until it is gone, then NOT_FOUND.
    let shownAfter: OcxRun;
    for (let i = 0; ; i++) {
      shownAfter = await ocx(['volume', 'show', 'mk-vol', '--os-cloud', 'sp1', '-f', 'value', '-c', 'status']);
      if (shownAfter.code !== 0 || i === 50) break;
      assert.equal(shownAfter.stdout, 'deleting\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(shownAfter.code, 1);
    const missing = await ocx(['volume', 'delete', 'mk-vol', '--os-cloud', 'sp1']);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "Error: sp1 (RegionOne): [NOT_FOUND] No volume with a name or ID of 'mk-vol' exists.\n",
    );

    const seed = await ocx(['image', 'show', IMAGE, '--os-cloud', 'sp2', '-f', 'json']);
    assert.equal(seed.code, 0, seed.stderr);
    assert.equal(json(seed).name, IMAGE);
    assert.equal(json(seed).visibility, 'public');
    // The seed image belongs to the admin project: the demo user may not delete it.
    const refused = await ocx(['image', 'delete', IMAGE, '--os-cloud', 'sp2']);
    assert.equal(refused.code, 1);
    // Glance's fault text carries HTML line breaks: still one line.
    assert.match(
      refused.stderr,
      /^Error: sp2 \(RegionOne\): \[FORBIDDEN\] You are not authorized to complete delete_image action\. \[image DELETE http:\/\/127\.0\.0\.1:\d+\/image\/v2\/images\/[0-9a-f-]+\] \(request id req-[0-9a-f-]+\)\n$/,
    );

    const cloud = connectCloud({
      cloud: 'sp2',
      config: loadCloudsConfig({
        files: { clouds: [env.OS_CLIENT_CONFIG_FILE!], secure: [], publicClouds: [] },
        loadEnv: false,
      }),
    });
    const data = Buffer.from('mk image bytes\n'.repeat(100));
    const made = await cloud.createImage('mk-img', { data, diskFormat: 'raw', wait: true, timeoutMs: 20_000 });
    await cloud.close();
    const img = await ocx(['image', 'show', 'mk-img', '--os-cloud', 'sp2', '-f', 'json']);
    assert.equal(img.code, 0, img.stderr);
    const i = json(img);
    assert.equal(i.id, made.id);
    assert.equal(i.status, 'active');
    assert.equal(i.disk_format, 'raw');
    assert.equal(i.size, data.length);
    assert.equal(i.checksum, createHash('md5').update(data).digest('hex'));
    const imgDel = await ocx(['image', 'delete', 'mk-img', '--os-cloud', 'sp2']);
    assert.equal(imgDel.code, 0, imgDel.stderr);
    const list = await ocx(['image', 'list', '--os-cloud', 'sp2', '-f', 'value', '-c', 'Name']);
    assert.equal(list.stdout, `${IMAGE}\n`);
    const gone = await ocx(['image', 'show', 'mk-img', '--os-cloud', 'sp2']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error: sp2 (RegionOne): [NOT_FOUND] No Image found for mk-img\n');
  });
});
