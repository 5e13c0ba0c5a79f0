import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { cloudsYaml, type MiniCloud, runOcx, spawnOcx, startMiniCloud, writeClouds } from './minicloud.ts';

const SERVER = {
  id: 'aaaa-1111',
  name: 'web-1',
  status: 'ACTIVE',
  addresses: {
    private: [
      { addr: '10.0.0.5', version: 4 },
      { addr: 'fd00::5', version: 6 },
    ],
    public: [{ addr: '203.0.113.9', version: 4 }],
  },
  image: { id: 'img-1' },
  flavor: { id: 'f-1' },
};
const BFV_SERVER = {
  id: 'bbbb-2222',
  name: 'db-1',
  status: 'SHUTOFF',
  addresses: {},
  image: '',
  flavor: { id: 'f-9', original_name: 'm1.huge' },
};

let east: MiniCloud;
let west: MiniCloud;
let deadUrl: string;
let files: ReturnType<typeof writeClouds>;

before(async () => {
  east = await startMiniCloud('east', {
    servers: [SERVER, BFV_SERVER],
    flavors: [
      {
        id: 'f-1',
        name: 'm1.small',
        ram: 2048,
        disk: 20,
        vcpus: 1,
        'OS-FLV-EXT-DATA:ephemeral': 0,
        'os-flavor-access:is_public': true,
      },
      {
        id: 'f-2',
        name: 'm1.big',
        ram: 8192,
        disk: 80,
        vcpus: 4,
        'OS-FLV-EXT-DATA:ephemeral': 10,
        'os-flavor-access:is_public': false,
      },
    ],
    images: [
      { id: 'img-1', name: 'debian-12', status: 'active' },
      { id: 'img-2', name: 'cirros', status: 'queued' },
    ],
    networks: [{ id: 'net-1', name: 'private', subnets: ['sub-b', 'sub-a'] }],
    volumes: [
      {
        id: 'vol-1',
        name: 'data',
        status: 'in-use',
        size: 10,
        attachments: [{ server_id: 'aaaa-1111', device: '/dev/vdb' }],
      },
      { id: 'vol-2', name: null, status: 'available', size: 1, attachments: [] },
    ],
  });
  west = await startMiniCloud('west', {
    servers: [],
    images: [{ id: 'img-w', name: 'fedora', status: 'active' }],
    networks: [],
    volumes: [],
    flavors: [],
  });
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  deadUrl = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  await new Promise<void>((r) => srv.close(() => r()));
  files = writeClouds(
    cloudsYaml([
      { name: 'east', url: east.url },
      { name: 'west', url: west.url },
      { name: 'gone', url: deadUrl },
      { name: 'badpw', url: west.url, password: 'wrong' },
    ]) + '  broken:\n    auth:\n      auth_url: nowhere\n      username: u\n      password: p\n',
  );
});

after(async () => {
  await east?.close();
  await west?.close();
  files?.cleanup();
});

describe('ocx list commands on one cloud (python-openstackclient output)', () => {
  it('server list -f json: OSC columns, image and flavor names looked up once per cloud', async () => {
    east.requests.length = 0;
    const r = await runOcx(['server', 'list', '--os-cloud', 'east', '-f', 'json'], files.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout), [
      {
        ID: 'aaaa-1111',
        Name: 'web-1',
        Status: 'ACTIVE',
        Networks: { private: ['10.0.0.5', 'fd00::5'], public: ['203.0.113.9'] },
        Image: 'debian-12',
        Flavor: 'm1.small',
      },
      {
        ID: 'bbbb-2222',
        Name: 'db-1',
        Status: 'SHUTOFF',
        Networks: {},
        Image: 'N/A (booted from volume)',
        Flavor: 'm1.huge',
      },
    ]);
    assert.equal(east.requests.filter((q) => q.startsWith('GET /image/v2/images')).length, 1);
    assert.equal(east.requests.filter((q) => q.startsWith('GET /compute/v2.1/flavors/detail')).length, 1);
  });

  it('server list as a table looks like OSC (no Cloud column for one cloud)', async () => {
    const r = await runOcx(['--os-cloud', 'east', 'server', 'list'], files.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        '+-----------+-------+---------+-----------------------------------------------+--------------------------+----------+',
        '| ID        | Name  | Status  | Networks                                      | Image                    | Flavor   |',
        '+-----------+-------+---------+-----------------------------------------------+--------------------------+----------+',
        '| aaaa-1111 | web-1 | ACTIVE  | private=10.0.0.5, fd00::5; public=203.0.113.9 | debian-12                | m1.small |',
        '| bbbb-2222 | db-1  | SHUTOFF |                                               | N/A (booted from volume) | m1.huge  |',
        '+-----------+-------+---------+-----------------------------------------------+--------------------------+----------+',
        '',
      ].join('\n'),
    );
  });

  it('image, flavor, network and volume lists', async () => {
    const images = await runOcx(['image', 'list', '--os-cloud', 'east', '-f', 'json'], files.env);
    assert.deepEqual(JSON.parse(images.stdout), [
      { ID: 'img-1', Name: 'debian-12', Status: 'active' },
      { ID: 'img-2', Name: 'cirros', Status: 'queued' },
    ]);
    east.requests.length = 0;
    const flavors = await runOcx(['flavor', 'list', '--os-cloud', 'east', '-f', 'json'], files.env);
    assert.deepEqual(JSON.parse(flavors.stdout)[1], {
      ID: 'f-2',
      Name: 'm1.big',
      RAM: 8192,
      Disk: 80,
      Ephemeral: 10,
      VCPUs: 4,
      'Is Public': false,
    });
    assert.ok(east.requests.includes('GET /compute/v2.1/flavors/detail?is_public=True'), east.requests.join('\n'));
    const nets = await runOcx(['network', 'list', '--os-cloud', 'east', '-f', 'value'], files.env);
    assert.equal(nets.stdout, 'net-1 private sub-a, sub-b\n');
    const vols = await runOcx(['volume', 'list', '--os-cloud', 'east', '-f', 'json'], files.env);
    assert.equal(vols.code, 0, vols.stderr);
    assert.deepEqual(JSON.parse(vols.stdout), [
      { ID: 'vol-1', Name: 'data', Status: 'in-use', Size: 10, 'Attached to': 'Attached to web-1 on /dev/vdb ' },
      { ID: 'vol-2', Name: '', Status: 'available', Size: 1, 'Attached to': '' },
    ]);
  });

  it('-c picks columns in the given order; yaml parses back to the same data as json', async () => {
    const r = await runOcx(['image', 'list', '--os-cloud', 'east', '-c', 'Name', '-c', 'ID', '-f', 'value'], files.env);
    assert.equal(r.stdout, 'debian-12 img-1\ncirros img-2\n');
    const y = await runOcx(['image', 'list', '--os-cloud', 'east', '-f', 'yaml'], files.env);
    const j = await runOcx(['image', 'list', '--os-cloud', 'east', '-f', 'json'], files.env);
    assert.deepEqual(parseYaml(y.stdout), JSON.parse(j.stdout));
    const bad = await runOcx(['image', 'list', '--os-cloud', 'east', '-c', 'Nope'], files.env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /No recognized column names in \["Nope"\]/);
  });

  it('token issue shows the token Keystone issued, its expiry and scope', async () => {
    const r = await runOcx(['token', 'issue', '--os-cloud', 'east', '-f', 'json'], files.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      expires: '2099-01-02T03:04:05+0000',
      id: east.token,
      project_id: 'project-east',
      user_id: 'user-east',
    });
  });

  it('OS_* variables and --os-* flags fill in and win over the chosen cloud, as with openstack', async () => {
    const nopw = writeClouds(
      `clouds:\n  east:\n    auth:\n      auth_url: ${east.url}/identity/v3\n      username: demo\n      project_name: demo\n    region_name: RegionOne\n`,
    );
    try {
      const missing = await runOcx(['image', 'list', '--os-cloud', 'east', '-f', 'value', '-c', 'ID'], nopw.env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /key 'auth\.password': expected a password/);
      const fromEnv = await runOcx(['image', 'list', '--os-cloud', 'east', '-f', 'value', '-c', 'ID'], {
        ...nopw.env,
        OS_PASSWORD: 'secret',
      });
      assert.equal(fromEnv.stdout, 'img-1\nimg-2\n', fromEnv.stderr);
      const fromFlag = await runOcx(
        ['image', 'list', '--os-cloud', 'east', '--os-password', 'secret', '-f', 'value', '-c', 'ID'],
        { ...nopw.env, OS_PASSWORD: 'wrong' },
      );
      assert.equal(fromFlag.stdout, 'img-1\nimg-2\n', 'the flag wins over the variable');
    } finally {
      nopw.cleanup();
    }
    // Over several clouds a stray OS_AUTH_URL in the environment does not redirect them all.
    const several = await runOcx(
      ['image', 'list', '--os-cloud', 'east', '--os-cloud', 'west', '-f', 'value', '-c', 'ID'],
      {
        ...files.env,
        OS_AUTH_URL: 'http://127.0.0.1:9/identity/v3',
      },
    );
    assert.equal(several.stdout, 'img-1\nimg-2\nimg-w\n', several.stderr);
  });

  it('OS_CLOUD chooses the cloud when no --os-cloud is given', async () => {
    const r = await runOcx(['image', 'list', '-f', 'value', '-c', 'ID'], { ...files.env, OS_CLOUD: 'west' });
    assert.equal(r.stdout, 'img-w\n');
  });
});

describe('ocx across several clouds', () => {
  it('a Cloud column, rows from each cloud, one stderr line per failed cloud, exit 0 when some succeeded', async () => {
    const r = await runOcx(
      [
        'image',
        'list',
        '--os-cloud',
        'east',
        '--os-cloud',
        'west',
        '--os-cloud',
        'gone',
        '--os-cloud',
        'badpw',
        '-f',
        'json',
      ],
      files.env,
    );
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), [
      { Cloud: 'east', ID: 'img-1', Name: 'debian-12', Status: 'active' },
      { Cloud: 'east', ID: 'img-2', Name: 'cirros', Status: 'queued' },
      { Cloud: 'west', ID: 'img-w', Name: 'fedora', Status: 'active' },
    ]);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', /^Error: gone \(RegionOne\): \[UNREACHABLE\] /);
    assert.match(lines[1] ?? '', /^Error: badpw \(RegionOne\): \[AUTH_FAILED\] /);
  });

  it('a service error names the cloud, the code, the server message and the request id', async () => {
    west.failWith = 503;
    try {
      const r = await runOcx(
        ['server', 'list', '--os-cloud', 'east', '--os-cloud', 'west', '-f', 'value', '-c', 'Cloud', '-c', 'ID'],
        files.env,
      );
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'east aaaa-1111\neast bbbb-2222\n');
      assert.match(
        r.stderr,
        /^Error: west \(RegionOne\): \[SERVICE_ERROR\] west is broken \[compute GET http:\/\/127\.0\.0\.1:\d+\/compute\/v2\.1\/servers\/detail\] \(request id req-west-1\)\n$/,
      );
    } finally {
      west.failWith = undefined;
    }
  });

  it('exits non-zero only when every cloud failed (as a process)', async () => {
    const r = await spawnOcx(
      ['network', 'list', '--os-cloud', 'gone', '--os-cloud', 'badpw', '--os-cloud', 'broken'],
      files.env,
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[2] ?? '', /^Error: broken.*\[CONFIG_INVALID\].*key 'auth\.auth_url'/);
  });

  it('usage errors exit 2 (as a process), before any cloud is asked; help exits 0', async () => {
    const asked = east.requests.length;
    for (const args of [
      ['server', 'lst'],
      ['server', 'list', '--bogus'],
      ['server', 'list', '-f', 'xml', '--os-cloud', 'east'],
      ['server', 'show', '--os-cloud', 'east'],
    ]) {
      const r = await spawnOcx(args, files.env);
      assert.equal(r.code, 2, `ocx ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: /);
    }
    assert.equal(east.requests.length, asked, 'a usage error reached a cloud');
    const help = await spawnOcx(['server', '--help'], files.env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: ocx server /);
  });

  it('--all-clouds covers every cloud in clouds.yaml', async () => {
    const r = await runOcx(
      ['image', 'list', '--all-clouds', '-f', 'value', '-c', 'Cloud', '-c', 'Name', '--timeout', '10'],
      files.env,
    );
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'east debian-12\neast cirros\nwest fedora\n');
    assert.deepEqual(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1]?.trim()),
      ['gone (RegionOne)', 'badpw (RegionOne)', 'broken'],
    );
  });

  it('cloud list shows each configured cloud without contacting any', async () => {
    const r = await runOcx(['cloud', 'list', '-f', 'json', '-c', 'Name', '-c', 'Auth URL'], files.env);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), [
      { Name: 'east', 'Auth URL': `${east.url}/identity/v3` },
      { Name: 'west', 'Auth URL': `${west.url}/identity/v3` },
      { Name: 'gone', 'Auth URL': `${deadUrl}/identity/v3` },
      { Name: 'badpw', 'Auth URL': `${west.url}/identity/v3` },
    ]);
    assert.match(r.stderr, /^Error: broken: .*key 'auth\.auth_url': expected an http\(s\) URL/);
  });
});

describe('the ocx launcher', () => {
  it('bin/ocx.js runs the CLI', async () => {
    const bin = new URL('../bin/ocx.js', import.meta.url).pathname;
    const r = await spawnOcx(['image', 'list', '--os-cloud', 'west', '-f', 'value'], files.env, bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'img-w fedora active\n');
  });

  it('--help lists the commands', async () => {
    const r = await runOcx(['--help'], files.env);
    assert.equal(r.code, 0);
    for (const c of ['cloud', 'token', 'server', 'image', 'flavor', 'network', 'volume', 'devcloud', 'proxy'])
      assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`));
  });
});
