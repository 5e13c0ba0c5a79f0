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
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
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

async function compare(osArgs: string[], ocxArgs: string[]): Promise<number> {
  const before = await openstackIds(osArgs);
  const ours = await ocxIds(ocxArgs);
  const after = await openstackIds(osArgs);
  const stable = [...before].filter((id) => after.has(id));
  const seen = new Set([...before, ...after]);
  for (const id of stable) assert.ok(ours.has(id), `openstack ${osArgs.join(' ')} lists ${id} (twice), ocx does not`);
  for (const id of ours) assert.ok(seen.has(id), `ocx lists ${id}, which openstack ${osArgs.join(' ')} never listed`);
  return ours.size;
}

describe('ocx against python-openstackclient on real OpenStack', { skip: !REAL && 'set OCX_TEST_TARGET=real' }, () => {
  it('the real clouds.yaml and the openstack client are there', () => {
    assert.ok(existsSync(CLOUDS_YAML), `${CLOUDS_YAML} is missing`);
    assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing`);
  });

  for (const noun of ['server', 'image', 'network', 'flavor']) {
    it(`${noun} list --os-cloud ${CLOUD}: same IDs`, async (t) => {
      const n = await compare([noun, 'list', '--os-cloud', CLOUD], [noun, 'list', '--os-cloud', CLOUD]);
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
    await compare([...k2k, 'image', 'list'], [...k2k, 'image', 'list']);
    await compare([...k2k, 'server', 'list'], [...k2k, 'server', 'list']);
  });
});
