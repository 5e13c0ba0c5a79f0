/** `network create | delete` and `subnet create | delete` against devcloud: Neutron's fields, a Cloud column, errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type OcxRun, runOcx } from './minicloud.ts';

describe('ocx network/subnet create and delete on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  const ocx = (args: string[]) => runOcx(args, env);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const BOTH = ['--os-cloud', 'sp1', '--os-cloud', 'sp2'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-net-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('network create and subnet create on two clouds; the subnet shows in network list', async () => {
    const net = await ocx(['network', 'create', 'nt-net', '--description', 'test', ...BOTH, '-f', 'json']);
    ok(net);
    const nets = JSON.parse(net.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      nets.map((n) => [n.Cloud, n.name, n.description]),
      [
        ['sp1', 'nt-net', 'test'],
        ['sp2', 'nt-net', 'test'],
      ],
    );
    const sub = await ocx([
      'subnet',
      'create',
      'nt-sub',
      '--network',
      'nt-net',
      '--subnet-range',
      '192.168.77.0/24',
      '--dns-nameserver',
      '192.0.2.53',
      ...BOTH,
      '-f',
      'json',
    ]);
    ok(sub);
    const subs = JSON.parse(sub.stdout) as Record<string, unknown>[];
    for (const [i, s] of subs.entries()) {
      assert.equal(s.cidr, '192.168.77.0/24');
      assert.equal(s.ip_version, 4);
      assert.equal(s.gateway_ip, '192.168.77.1');
      assert.equal(s.network_id, nets[i]!.id);
    }
    const list = await ocx(['network', 'list', '--os-cloud', 'sp1', '-f', 'json']);
    const row = (JSON.parse(list.stdout) as { Name: string; Subnets: string[] }[]).find((n) => n.Name === 'nt-net');
    assert.deepEqual(row?.Subnets, [subs[0]!.id]);
  });

  it('subnet create on a missing network and an overlapping range fail with one line per cloud', async () => {
    const missing = await ocx([
      'subnet',
      'create',
      'x',
      '--network',
      'no-net',
      '--subnet-range',
      '10.9.0.0/24',
      ...BOTH,
    ]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim().split('\n').length, 2);
    assert.match(missing.stderr, /^Error: sp1 \(RegionOne\): \[NOT_FOUND\] /m);
    const overlap = await ocx([
      'subnet',
      'create',
      'y',
      '--network',
      'nt-net',
      '--subnet-range',
      '192.168.77.128/25',
      '--os-cloud',
      'sp1',
    ]);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /^Error: sp1 \(RegionOne\): \[(BAD_REQUEST|CONFLICT)\] /);
  });

  it('router create --external-gateway, add subnet, set --no-external-gateway; delete of a bare router', async () => {
    const r = await ocx(['router', 'create', 'nt-router', '--external-gateway', 'public', ...BOTH, '-f', 'json']);
    ok(r);
    const routers = JSON.parse(r.stdout) as {
      Cloud: string;
      name: string;
      external_gateway_info: { network_id: string };
    }[];
    assert.deepEqual(
      routers.map((x) => [x.Cloud, x.name, typeof x.external_gateway_info?.network_id]),
      [
        ['sp1', 'nt-router', 'string'],
        ['sp2', 'nt-router', 'string'],
      ],
    );
    const extra = await ocx([
      'subnet',
      'create',
      'nt-sub2',
      '--network',
      'nt-net',
      '--subnet-range',
      '192.168.78.0/24',
      '--os-cloud',
      'sp1',
    ]);
    ok(extra);
    const add = await ocx(['router', 'add', 'subnet', 'nt-router', 'nt-sub2', '--os-cloud', 'sp1']);
    ok(add);
    assert.equal(add.stdout, '');
    const busy = await ocx(['subnet', 'delete', 'nt-sub2', '--os-cloud', 'sp1']);
    assert.equal(busy.code, 1, 'a subnet with a router interface is in use');
    assert.match(busy.stderr, /^Error: sp1 \(RegionOne\): \[CONFLICT\] /);

    // subnet list and router list: OSC's columns, the ids create printed, UP/DOWN to people and a bool in JSON
    const subList = await ocx(['subnet', 'list', '--network', 'nt-net', '--os-cloud', 'sp1', '-f', 'json']);
    ok(subList);
    const subRows = JSON.parse(subList.stdout) as Record<string, unknown>[];
    assert.deepEqual(subRows.map((s) => [s.Name, s.Subnet, Object.keys(s)]).sort(), [
      ['nt-sub', '192.168.77.0/24', ['ID', 'Name', 'Network', 'Subnet']],
      ['nt-sub2', '192.168.78.0/24', ['ID', 'Name', 'Network', 'Subnet']],
    ]);
    assert.equal(new Set(subRows.map((s) => s.Network)).size, 1);
    const subMissing = await ocx(['subnet', 'list', '--network', 'no-net', '--os-cloud', 'sp1']);
    assert.equal(subMissing.code, 1);
    assert.equal(
      subMissing.stderr,
      "Error: sp1 (RegionOne): [NOT_FOUND] No network with a name or ID of 'no-net' exists.\n",
    );
    const rList = await ocx(['router', 'list', ...BOTH, '-f', 'json']);
    ok(rList);
    const rRows = JSON.parse(rList.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      rRows.filter((x) => x.Name === 'nt-router').map((x) => [x.Cloud, x.ID, x.State, Object.keys(x)]),
      routers.map((x) => [
        x.Cloud,
        (x as unknown as { id: string }).id,
        true,
        ['Cloud', 'ID', 'Name', 'Status', 'State', 'Project'],
      ]),
    );
    const rTable = await ocx(['router', 'list', '--os-cloud', 'sp1', '-f', 'value', '-c', 'Name', '-c', 'State']);
    assert.ok(rTable.stdout.split('\n').includes('nt-router UP'), rTable.stdout);

    ok(await ocx(['router', 'set', 'nt-router', '--no-external-gateway', '--os-cloud', 'sp2']));
    const missing = await ocx(['router', 'add', 'subnet', 'no-router', 'nt-sub2', '--os-cloud', 'sp1']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: sp1 (RegionOne): [NOT_FOUND] router "no-router" not found\n');

    ok(await ocx(['router', 'delete', 'nt-router', '--os-cloud', 'sp2']));
    const gone = await ocx(['router', 'delete', 'nt-router', '--os-cloud', 'sp2']);
    assert.equal(
      gone.stderr,
      "Error: sp2 (RegionOne): [NOT_FOUND] No router with a name or ID of 'nt-router' exists.\n",
    );
  });

  it('delete: subnet then network; a second delete is NOT_FOUND', async () => {
    // sp1's router still holds nt-sub2: that cloud keeps nt-net; sp2's network goes.
    ok(await ocx(['subnet', 'delete', 'nt-sub', ...BOTH]));
    ok(await ocx(['network', 'delete', 'nt-net', '--os-cloud', 'sp2']));
    const again = await ocx(['network', 'delete', 'nt-net', '--os-cloud', 'sp2']);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      "Error: sp2 (RegionOne): [NOT_FOUND] No network with a name or ID of 'nt-net' exists.\n",
    );
    const inUse = await ocx(['network', 'delete', 'nt-net', '--os-cloud', 'sp1']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /^Error: sp1 \(RegionOne\): \[CONFLICT\] .*ports still in use/);
    const list = await ocx(['network', 'list', '--os-cloud', 'sp2', '-f', 'value', '-c', 'Name']);
    assert.ok(!list.stdout.split('\n').includes('nt-net'));
  });
});
