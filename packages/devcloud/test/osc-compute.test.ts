/**
 * python-openstackclient, unmodified, against a started devcloud: servers, flavors, keypairs, networks,
 * subnets, ports, floating IPs and quotas. Runs when /usr/bin/openstack is installed (Debian's
 * python3-openstackclient); with OCX_REQUIRE_OSC=1 a missing client is a failure, not a skip.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';
import { SEED_IMAGE_NAME } from '../src/glance/index.ts';

const OSC = '/usr/bin/openstack';
/** Per step: a dozen CLI runs at up to ~10 s each on a loaded 2-core CI machine. */
const STEP = { timeout: 300_000 };
const present = existsSync(OSC);
const required = process.env.OCX_REQUIRE_OSC === '1';

// biome-ignore lint/suspicious/noExplicitAny: JSON printed by the CLI
type Json = any;

describe('python-openstackclient against devcloud (compute + network)', {
  skip: !present && !required ? `${OSC} not installed` : false,
  // Each `openstack` run costs 1.5-5 s of Python start-up; the whole lifecycle is ~30 runs.
  timeout: 600_000,
}, () => {
  let dc: Devcloud;
  let dir: string;

  before(async () => {
    if (!present) assert.fail(`OCX_REQUIRE_OSC=1 but ${OSC} is missing (install python3-openstackclient)`);
    dir = mkdtempSync(join(tmpdir(), 'ocx-osc-'));
    dc = await startDevcloud({
      clouds: ['sp1'],
      cloudsYamlPath: join(dir, 'clouds.yaml'),
      transitionMs: 100,
      logLevel: 'silent',
    });
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Run `openstack --os-cloud <cloud> ...args`; resolve stdout, reject with stderr on a non-zero exit. */
  function osc(args: string[], cloud = 'sp1'): Promise<string> {
    const env: Record<string, string> = {
      PATH: `/usr/bin:${process.env.PATH ?? ''}`,
      HOME: dir,
      OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml'),
      LANG: 'C.UTF-8',
    };
    return new Promise((resolve, reject) => {
      execFile(
        OSC,
        ['--os-cloud', cloud, ...args],
        { env, timeout: 60_000, maxBuffer: 4 << 20 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`openstack ${args.join(' ')} failed: ${stderr || err.message}`));
          else resolve(stdout);
        },
      );
    });
  }
  const json = async (args: string[], cloud = 'sp1'): Promise<Json> =>
    JSON.parse(await osc([...args, '-f', 'json'], cloud));

  it('lists flavors', STEP, async () => {
    const flavors = await json(['flavor', 'list']);
    const tiny = flavors.find((f: Json) => f.Name === 'm1.tiny');
    assert.equal(tiny.ID, '1');
    assert.equal(tiny.RAM, 512);
  });

  it('creates, lists and deletes keypairs (a generated key is a real RSA key)', STEP, async () => {
    const pem = await osc(['keypair', 'create', 'osc-kp']);
    assert.match(pem, /-----BEGIN RSA PRIVATE KEY-----/);
    const list = await json(['keypair', 'list']);
    assert.deepEqual(
      list.map((k: Json) => k.Name),
      ['osc-kp'],
    );
    assert.match(list[0].Fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  });

  it('runs the network, subnet, port and floating IP lifecycle', STEP, async () => {
    const net = await json(['network', 'create', 'osc-net']);
    assert.equal(net.name, 'osc-net');
    const sub = await json(['subnet', 'create', '--network', 'osc-net', '--subnet-range', '10.9.0.0/24', 'osc-sub']);
    assert.equal(sub.gateway_ip, '10.9.0.1');
    const port = await json(['port', 'create', '--network', 'osc-net', 'osc-port']);
    assert.equal(port.name, 'osc-port');
    const ports = await json(['port', 'list', '--network', 'osc-net']);
    assert.ok(ports.some((p: Json) => p.Name === 'osc-port'));
    const nets = await json(['network', 'list']);
    assert.ok(nets.some((n: Json) => n.Name === 'osc-net'));
    assert.ok(nets.some((n: Json) => n.Name === 'public'));
    // As on real Neutron, a floating IP needs a router from the port's subnet to the external network.
    await osc(['router', 'create', 'osc-router']);
    await osc(['router', 'set', '--external-gateway', 'public', 'osc-router']);
    await osc(['router', 'add', 'subnet', 'osc-router', 'osc-sub']);
    const fip = await json(['floating', 'ip', 'create', '--port', 'osc-port', 'public']);
    assert.match(fip.floating_ip_address, /^172\.24\.4\./);
    const fips = await json(['floating', 'ip', 'list']);
    const listed = fips.find((f: Json) => f['Floating IP Address'] === fip.floating_ip_address);
    assert.equal(listed.Port, port.id);
    await osc(['floating', 'ip', 'delete', fip.floating_ip_address]);
    await osc(['port', 'delete', 'osc-port']);
    const subnets = await json(['subnet', 'list', '--network', 'osc-net']);
    assert.deepEqual(
      subnets.map((s: Json) => s.Name),
      ['osc-sub'],
    );
  });

  it('creates a server with --wait, lists, shows and deletes it', STEP, async () => {
    const created = await json([
      'server',
      'create',
      '--image',
      SEED_IMAGE_NAME,
      '--flavor',
      'm1.tiny',
      '--network',
      'osc-net',
      '--key-name',
      'osc-kp',
      '--wait',
      'osc-vm',
    ]);
    assert.equal(created.status, 'ACTIVE');
    assert.match(JSON.stringify(created.addresses), /10\.9\.0\.\d+/);
    const list = await json(['server', 'list']);
    const row = list.find((s: Json) => s.Name === 'osc-vm');
    assert.equal(row.Status, 'ACTIVE');
    assert.equal(row.Flavor, 'm1.tiny');
    const shown = await json(['server', 'show', 'osc-vm']);
    assert.equal(shown.id, created.id);
    assert.equal(shown.key_name, 'osc-kp');
    await osc(['server', 'delete', '--wait', 'osc-vm']);
    const after = await json(['server', 'list']);
    assert.ok(!after.some((s: Json) => s.Name === 'osc-vm'));
  });

  it('shows quotas (compute, volume and network together)', STEP, async () => {
    const q = await json(['quota', 'show']);
    assert.equal(q.instances, 10);
    assert.equal(q.cores, 20);
    assert.equal(q.ram, 51200);
    assert.equal(q.networks, 100);
    assert.equal(q.ports, 500);
    assert.equal(q.volumes, 10);
  });

  it('cleans up: router, subnet, network and keypair delete', STEP, async () => {
    await osc(['router', 'remove', 'subnet', 'osc-router', 'osc-sub']);
    await osc(['router', 'delete', 'osc-router']);
    await osc(['subnet', 'delete', 'osc-sub']);
    await osc(['network', 'delete', 'osc-net']);
    await osc(['keypair', 'delete', 'osc-kp']);
    assert.deepEqual(await json(['keypair', 'list']), []);
    const nets = await json(['network', 'list']);
    assert.deepEqual(nets.map((n: Json) => n.Name).sort(), ['private', 'public']);
  });
});
