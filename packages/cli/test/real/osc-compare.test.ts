/**
 * `ocx X list -f json` returns the same IDs as python-openstackclient's `openstack X list` on the same real cloud,
 * directly and through Keystone-to-Keystone. Runs only with OCX_TEST_TARGET=real (real Keystone/Nova/Glance/Neutron
 * from test/real or the shared harness; clouds.yaml from OS_CLIENT_CONFIG_FILE, else /tmp/os-harness/clouds.yaml).
 *
 * Other suites may create and delete resources on the same cloud meanwhile, so `openstack` is asked before and
 * after `ocx`: what both `openstack` runs saw must be in ocx's answer, and ocx may show nothing that neither saw.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runOcx } from '../minicloud.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const CLOUDS_YAML = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_CLOUD ?? 'sp1';
const HOME_CLOUD = process.env.OCX_REAL_HOME_CLOUD ?? 'idp';
const OPENSTACK = process.env.OCX_OPENSTACK_BIN ?? '/usr/bin/openstack';
const run = promisify(execFile);

async function openstackIds(args: string[]): Promise<Set<string>> {
  const env: Record<string, string | undefined> = { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML };
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`; // pyenv's python3 shim lacks the OpenStack libraries
  for (const k of Object.keys(env)) if (k.startsWith('OS_') && k !== 'OS_CLIENT_CONFIG_FILE') delete env[k];
  const { stdout } = await run(OPENSTACK, [...args, '-f', 'json', '-c', 'ID'], { env, timeout: 120_000 });
  return new Set((JSON.parse(stdout) as Array<{ ID: string }>).map((r) => r.ID));
}

async function ocxIds(args: string[]): Promise<Set<string>> {
  const r = await runOcx([...args, '-f', 'json', '-c', 'ID', '--timeout', '120'], {
    OS_CLIENT_CONFIG_FILE: CLOUDS_YAML,
  });
  assert.equal(r.code, 0, `ocx ${args.join(' ')} failed: ${r.stderr}`);
  assert.equal(r.stderr, '', `ocx ${args.join(' ')} reported failures: ${r.stderr}`);
  return new Set((JSON.parse(r.stdout) as Array<{ ID: string }>).map((x) => x.ID));
}

/** Compare the two clients' lists; `mustList` are IDs this test created, which both must show. */
async function compare(osArgs: string[], ocxArgs: string[], mustList: string[] = []): Promise<number> {
  const before = await openstackIds(osArgs);
  const ours = await ocxIds(ocxArgs);
  const after = await openstackIds(osArgs);
  const stable = [...before].filter((id) => after.has(id));
  const seen = new Set([...before, ...after]);
  for (const id of stable) assert.ok(ours.has(id), `openstack ${osArgs.join(' ')} lists ${id} (twice), ocx does not`);
  for (const id of ours) assert.ok(seen.has(id), `ocx lists ${id}, which openstack ${osArgs.join(' ')} never listed`);
  // two empty lists are equal: the resources made for this test must be in both, or the comparison proves nothing
  for (const id of mustList) {
    assert.ok(stable.includes(id), `openstack ${osArgs.join(' ')} does not list ${id}, made for this test`);
    assert.ok(ours.has(id), `ocx ${ocxArgs.join(' ')} does not list ${id}, made for this test`);
  }
  return ours.size;
}

/** `openstack ARGS -f value -c id` on CLOUD: the id of what was created. */
async function openstackCreate(args: string[]): Promise<string> {
  const env: Record<string, string | undefined> = { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML };
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`;
  for (const k of Object.keys(env)) if (k.startsWith('OS_') && k !== 'OS_CLIENT_CONFIG_FILE') delete env[k];
  const { stdout } = await run(OPENSTACK, [...args, '--os-cloud', CLOUD, '-f', 'value', '-c', 'id'], {
    env,
    timeout: 180_000,
  });
  return stdout.trim();
}

describe('ocx against python-openstackclient on real OpenStack', { skip: !REAL && 'set OCX_TEST_TARGET=real' }, () => {
  // One image, network and server of this test's own, so no list compared below can be empty on both sides.
  const tag = `ocx-osc-cmp-${process.pid}-${Date.now().toString(36)}`;
  const made: { image?: string; network?: string; server?: string } = {};
  let dir: string | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-osc-cmp-'));
    const file = join(dir, 'image.raw');
    writeFileSync(file, Buffer.alloc(1024 * 1024));
    made.image = await openstackCreate([
      'image',
      'create',
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      '--file',
      file,
      tag,
    ]);
    made.network = await openstackCreate(['network', 'create', tag]);
    const flavors = JSON.parse(
      (
        await run(OPENSTACK, ['flavor', 'list', '--os-cloud', CLOUD, '-f', 'json', '-c', 'ID', '-c', 'RAM'], {
          env: { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML, PATH: `/usr/bin:${process.env.PATH ?? ''}` },
          timeout: 120_000,
        })
      ).stdout,
    ) as { ID: string; RAM: number }[];
    const flavor = [...flavors].sort((a, b) => a.RAM - b.RAM)[0]!.ID;
    made.server = await openstackCreate([
      'server',
      'create',
      '--os-compute-api-version',
      '2.37',
      '--nic',
      'none',
      '--flavor',
      flavor,
      '--image',
      made.image,
      tag,
    ]);
  });
  after(async () => {
    const del = async (noun: string, id: string | undefined) => {
      if (id)
        await run(OPENSTACK, [noun, 'delete', id, '--os-cloud', CLOUD], {
          env: { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML, PATH: `/usr/bin:${process.env.PATH ?? ''}` },
          timeout: 180_000,
        }).catch(() => undefined);
    };
    await del('server', made.server);
    await del('network', made.network);
    await del('image', made.image);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the real clouds.yaml and the openstack client are there', () => {
    assert.ok(existsSync(CLOUDS_YAML), `${CLOUDS_YAML} is missing`);
    assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing`);
  });

  for (const noun of ['server', 'image', 'network', 'flavor'] as const) {
    it(`${noun} list --os-cloud ${CLOUD}: same IDs`, async (t) => {
      const mine = noun === 'flavor' ? [] : [made[noun]!];
      const n = await compare([noun, 'list', '--os-cloud', CLOUD], [noun, 'list', '--os-cloud', CLOUD], mine);
      t.diagnostic(`${n} ${noun}s compared`);
      // a real cloud always has flavors: an empty answer here would make the comparison vacuous
      if (noun === 'flavor') assert.ok(n > 0, 'no flavors listed');
    });
  }

  it(`image and server list through K2K (${HOME_CLOUD} → ${CLOUD}): same IDs as openstack --os-service-provider`, async () => {
    const k2k = [
      '--os-cloud',
      HOME_CLOUD,
      '--os-service-provider',
      CLOUD,
      '--os-remote-project-name',
      'demo',
      '--os-remote-project-domain-name',
      'Default',
    ];
    // the K2K user lands in the same demo project of the SP, so it sees what this test made there
    await compare([...k2k, 'image', 'list'], [...k2k, 'image', 'list'], [made.image!]);
    await compare([...k2k, 'server', 'list'], [...k2k, 'server', 'list'], [made.server!]);
  });
});
