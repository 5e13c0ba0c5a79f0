/**
 * `ocx keypair` and `ocx volume` create/show/delete on real OpenStack, checked with python-openstackclient on the
 * same cloud: what ocx creates, `openstack` shows with the same id, fingerprint and fields; what ocx deletes,
 * `openstack` no longer finds. Runs only with OCX_TEST_TARGET=real (clouds.yaml from OS_CLIENT_CONFIG_FILE, else
 * /tmp/os-harness/clouds.yaml). Names are unique per run and everything made is deleted, also on failure.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type OcxRun, runOcx } from '../minicloud.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const CLOUDS_YAML = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_CLOUD ?? 'sp1';
const OPENSTACK = process.env.OCX_OPENSTACK_BIN ?? '/usr/bin/openstack';
const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3bHYy0zHJ2Cq6SZn1xTP2fNzM2kBx3Xb9w5cF8e6h ocx@real-test';
const run = promisify(execFile);

/** `openstack ARGS -f json --os-cloud CLOUD` with only the clouds.yaml from the environment. */
async function openstack(args: string[]): Promise<Record<string, unknown>> {
  const env: Record<string, string | undefined> = { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML };
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`; // pyenv's python3 shim lacks the OpenStack libraries
  for (const k of Object.keys(env)) if (k.startsWith('OS_') && k !== 'OS_CLIENT_CONFIG_FILE') delete env[k];
  const { stdout } = await run(OPENSTACK, [...args, '--os-cloud', CLOUD, '-f', 'json'], { env, timeout: 120_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** `openstack ... show` that is expected to fail because the thing is gone: true when it failed. */
async function openstackFails(args: string[]): Promise<boolean> {
  try {
    await openstack(args);
    return false;
  } catch {
    return true;
  }
}

describe('ocx keypair and volume commands on real OpenStack', { skip: !REAL && 'set OCX_TEST_TARGET=real' }, () => {
  const tag = `ocx-rm-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'ocx-real-manage-'));
  const env = { OS_CLIENT_CONFIG_FILE: CLOUDS_YAML, HOME: dir };
  const ocx = (args: string[]) => runOcx([...args, '--os-cloud', CLOUD, '--timeout', '120'], env);
  const made: { keypair?: string; volume?: string } = {};

  after(async () => {
    // Best effort: a failed assertion must not leave resources behind on the shared cloud.
    if (made.volume) await ocx(['volume', 'delete', made.volume]);
    if (made.keypair) await ocx(['keypair', 'delete', made.keypair]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the real clouds.yaml and the openstack client are there', () => {
    assert.ok(existsSync(CLOUDS_YAML), `${CLOUDS_YAML} is missing`);
    assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing`);
  });

  it('keypair create --public-key: openstack shows the same fingerprint; after delete it is gone', async () => {
    const pub = join(dir, 'id.pub');
    writeFileSync(pub, `${PUBLIC_KEY}\n`);
    const name = `${tag}-key`;
    const created = await ocx(['keypair', 'create', name, '--public-key', pub, '-f', 'json']);
    assert.equal(created.code, 0, created.stderr);
    made.keypair = name;
    const ours = JSON.parse(created.stdout) as Record<string, unknown>;
    const theirs = await openstack(['keypair', 'show', name]);
    assert.equal(ours.fingerprint, theirs.fingerprint);
    assert.equal(ours.name, theirs.name);

    const del = await ocx(['keypair', 'delete', name]);
    assert.equal(del.code, 0, del.stderr);
    made.keypair = undefined;
    assert.ok(await openstackFails(['keypair', 'show', name]), 'openstack still shows the deleted keypair');
  });

  it("volume create/show: openstack's fields and values; delete: openstack no longer finds it", async () => {
    const name = `${tag}-vol`;
    const created = await ocx([
      'volume',
      'create',
      name,
      '--size',
      '1',
      '--property',
      'purpose=ocx-test',
      '-f',
      'json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const ours = JSON.parse(created.stdout) as Record<string, unknown>;
    made.volume = String(ours.id);

    // Cinder creates in the background; ocx volume show answers like openstack volume show.
    let shown: OcxRun | undefined;
    for (let i = 0; i < 60; i++) {
      shown = await ocx(['volume', 'show', name, '-f', 'json']);
      assert.equal(shown.code, 0, shown.stderr);
      if ((JSON.parse(shown.stdout) as { status: string }).status !== 'creating') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const mine = JSON.parse(shown!.stdout) as Record<string, unknown>;
    assert.equal(mine.status, 'available');
    const theirs = await openstack(['volume', 'show', String(ours.id)]);
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort(), "openstack volume show's fields");
    for (const k of ['id', 'name', 'size', 'status', 'bootable', 'type', 'availability_zone', 'user_id']) {
      assert.equal(String(mine[k]), String(theirs[k]), k);
    }
    assert.deepEqual(mine.properties, theirs.properties);

    const del = await ocx(['volume', 'delete', name]);
    assert.equal(del.code, 0, del.stderr);
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
      gone = await openstackFails(['volume', 'show', String(ours.id)]);
      if (!gone) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(gone, 'openstack still shows the deleted volume after 60 s');
    made.volume = undefined;
    const missing = await ocx(['volume', 'show', name]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[NOT_FOUND\] No volume with a name or ID of 'ocx-rm-[0-9a-f]+-vol' exists\.\n$/);
  });
});
