/** `ocx network create-private NAME` on two devclouds (issue 15): ranges that do not overlap, idempotent, exit status. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import {
  collect,
  loadCloudsConfig,
  MultiCloud,
  type NeutronPort,
  type NeutronRouter,
  type NeutronSubnet,
} from '@ocx/sdk';
import { overlaps, pickRanges } from '../src/commands/network-private.ts';
import { type OcxRun, runOcx } from './minicloud.ts';

describe('network create-private range choice', () => {
  it('overlaps compares IPv4 ranges and ignores IPv6', () => {
    assert.equal(overlaps('10.0.0.0/24', '10.0.0.128/25'), true);
    assert.equal(overlaps('10.0.0.0/8', '10.3.4.0/24'), true);
    assert.equal(overlaps('10.0.1.0/24', '10.0.0.0/24'), false);
    assert.equal(overlaps('10.0.0.0/24', 'fd00::/64'), false);
  });
  it('keeps existing ranges, avoids each cloud’s subnets and the other clouds’ picks, by cloud name', () => {
    const picked = pickRanges(
      new Map([
        ['b', { used: ['10.0.0.0/24'], mine: undefined }],
        ['a', { used: ['10.0.1.0/24'], mine: undefined }],
        ['c', { used: ['10.0.2.0/24'], mine: '10.0.2.0/24' }],
      ]),
    );
    assert.deepEqual(Object.fromEntries(picked), { a: '10.0.0.0/24', b: '10.0.1.0/24', c: '10.0.2.0/24' });
  });
});

describe('ocx network create-private on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let cloudsYamlPath: string;
  let env: Record<string, string>;
  const ocx = (args: string[]) => runOcx(args, env);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const BOTH = ['--os-cloud', 'sp1', '--os-cloud', 'sp2'];

  /** Subnets, routers and ports each cloud's default project sees. */
  async function state(
    cloud: string,
  ): Promise<{ subnets: NeutronSubnet[]; routers: NeutronRouter[]; ports: NeutronPort[] }> {
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const multi = await MultiCloud.connect({ config, clouds: [cloud] });
    try {
      const n = multi.get(cloud).network;
      return {
        subnets: await collect(n.listSubnets()),
        routers: await collect(n.listRouters()),
        ports: await collect(n.listPorts()),
      };
    } finally {
      await multi.close();
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-netpriv-'));
    cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes network, subnet and router on both clouds; the ranges overlap nothing; a second run changes nothing', async () => {
    // sp1 already uses 10.0.0.0/16 and sp2 10.1.0.0/24: neither may be chosen there.
    ok(await ocx(['network', 'create', 'cp-block', ...BOTH]));
    ok(
      await ocx([
        'subnet',
        'create',
        'cp-block',
        '--network',
        'cp-block',
        '--subnet-range',
        '10.0.0.0/16',
        '--os-cloud',
        'sp1',
      ]),
    );
    ok(
      await ocx([
        'subnet',
        'create',
        'cp-block',
        '--network',
        'cp-block',
        '--subnet-range',
        '10.1.0.0/24',
        '--os-cloud',
        'sp2',
      ]),
    );

    const r = await ocx(['network', 'create-private', 'cp-net', ...BOTH, '-f', 'json']);
    ok(r);
    const rows = JSON.parse(r.stdout) as Record<string, string>[];
    assert.deepEqual(
      rows.map((x) => [x.Cloud, x.Result]),
      [
        ['sp1', 'created network, subnet, router, interface'],
        ['sp2', 'created network, subnet, router, interface'],
      ],
    );
    const [a, b] = rows as [Record<string, string>, Record<string, string>];
    assert.notEqual(a.CIDR, b.CIDR);
    for (const row of rows) {
      assert.match(row.CIDR!, /^10\.\d+\.\d+\.0\/24$/);
      const s = await state(row.Cloud!);
      const others = s.subnets.filter((x) => x.id !== row.Subnet).map((x) => x.cidr);
      assert.ok(!others.some((c) => overlaps(c, row.CIDR!)), `${row.Cloud}: ${row.CIDR} overlaps one of ${others}`);
      assert.ok(!overlaps(a.CIDR!, b.CIDR!));
      const router = s.routers.find((x) => x.id === row.Router);
      assert.equal(router?.name, 'cp-net');
      assert.ok(router?.external_gateway_info?.network_id, 'the router has the external network as gateway');
      assert.ok(
        s.ports.some((p) => p.device_id === row.Router && p.fixed_ips.some((ip) => ip.subnet_id === row.Subnet)),
        'the subnet is attached to the router',
      );
    }

    const again = await ocx(['network', 'create-private', 'cp-net', ...BOTH, '-f', 'json']);
    ok(again);
    const rows2 = JSON.parse(again.stdout) as Record<string, string>[];
    assert.deepEqual(
      rows2,
      rows.map((x) => ({ ...x, Result: 'exists' })),
    );
  });

  it('a cloud that fails gets one stderr line and a non-zero exit; the other cloud is still done', async () => {
    ok(await ocx(['network', 'create', 'cp-dup', '--os-cloud', 'sp2']));
    ok(await ocx(['network', 'create', 'cp-dup', '--os-cloud', 'sp2']));
    const r = await ocx(['network', 'create-private', 'cp-dup', ...BOTH, '-f', 'value', '-c', 'Cloud', '-c', 'Result']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'sp1 created network, subnet, router, interface\n');
    assert.equal(r.stderr, 'Error: sp2 (RegionOne): [CONFLICT] more than one network is named "cp-dup"\n');
  });

  it('refuses, on every cloud, a --concurrency lower than the number of clouds (they wait for each other)', async () => {
    const r = await ocx(['network', 'create-private', 'cp-low', ...BOTH, '--concurrency', '1']);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    for (const l of lines)
      assert.match(l, /^Error: sp[12] \(RegionOne\): \[BAD_REQUEST\] .*--concurrency must be at least 2$/);
    const list = await ocx(['network', 'list', ...BOTH, '-f', 'value', '-c', 'Name']);
    assert.ok(!list.stdout.split('\n').includes('cp-low'), 'nothing was made');
  });
});
