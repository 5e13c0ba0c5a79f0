/**
 * A client from another toolchain: Debian's python3-grpcio (installed by test/real/lib/install.sh, group
 * `gateway`) runs nodepool's sequence against the gateway on devcloud with the `buf build` descriptor set (no
 * Python code generation), local channel credentials and access-token call credentials. In CI a missing
 * python3-grpcio fails this test; elsewhere it is skipped with the reason.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Env, startEnv } from './helpers.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const PYTHON = '/usr/bin/python3';

async function grpcioMissing(): Promise<string | undefined> {
  try {
    await run(PYTHON, ['-c', 'import grpc, google.protobuf'], { timeout: 20_000 });
    return undefined;
  } catch (err) {
    return `python3-grpcio / python3-protobuf not importable by ${PYTHON}: ${(err as Error).message.split('\n')[0]}`;
  }
}

describe('gateway: Python grpcio client (another toolchain)', { timeout: 180_000 }, async () => {
  const missing = await grpcioMissing();
  if (missing && process.env.CI === 'true') {
    it('needs python3-grpcio (install it with test/real/lib/install.sh gateway)', () => assert.fail(missing));
    return;
  }
  let env: Env;
  let dir: string;
  before(async () => {
    if (missing) return;
    dir = mkdtempSync(join(tmpdir(), 'ocx-gw-py-'));
    await run(join(ROOT, 'node_modules/.bin/buf'), ['build', '-o', join(dir, 'set.binpb')], {
      cwd: ROOT,
      timeout: 60_000,
    });
    env = await startEnv({}, ['idp', 'sp1']);
  });
  after(async () => {
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the nodepool sequence: limits, image, create, wait (push), address, delete, floating IPs', {
    skip: missing,
  }, async () => {
    const target = new URL(env.gw.grpcUrl).host;
    const { stdout } = await run(
      PYTHON,
      [join(import.meta.dirname, 'python/nodepool_client.py'), join(dir, 'set.binpb'), target, 'sp1'],
      { env: { ...process.env, OCX_TOKEN: env.token }, timeout: 150_000 },
    );
    const seen = JSON.parse(stdout);
    assert.equal(seen.limits.length, 1);
    assert.equal(seen.limits[0][0], 'sp1');
    assert.deepEqual(seen.image, { cloud: 'sp1', status: 'active' });
    assert.ok(['BUILD', 'ACTIVE'].includes(seen.created));
    assert.equal(seen.waited.status, 'ACTIVE');
    assert.equal(seen.waited.cloud, 'sp1');
    assert.match(seen.waited.interface_ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(seen.missing, 'NOT_FOUND');
    assert.equal(seen.deleted, true);
    assert.deepEqual(
      seen.fips.map((f: [string, number]) => f[0]),
      ['sp1'],
    );
    assert.equal(seen.image_deleted, true);
    assert.equal(seen.no_token, 'UNAUTHENTICATED');
  });
});
