/**
 * test/real/ci.sh, run on stand-ins for the real stack's scripts (a copy of ci.sh next to stub openstack.sh and
 * lib/install.sh that record their calls): a failed `up` (or health check) prints status and tears the
 * half-started stack down; OCX_KEEP_FAILED_STACK=1 keeps it; a good `up` tears nothing down. Also the one state
 * directory: OCX_REAL_STATE_DIR is read as STATE_DIR's old name, and two different values are refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-ci-teardown-'));
  mkdirSync(join(dir, 'real/lib'), { recursive: true });
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'test/real/ci.sh'), join(dir, 'real/ci.sh'));
  copyFileSync(join(ROOT, 'test/real/lib/state-dir.sh'), join(dir, 'real/lib/state-dir.sh'));
  const stub = (path: string, body: string) => {
    writeFileSync(path, `#!/bin/bash\n${body}\n`);
    chmodSync(path, 0o755);
  };
  // every call is recorded; `up` fails when FAIL_AT=up, `wait` when FAIL_AT=wait
  stub(join(dir, 'real/openstack.sh'), 'echo "openstack.sh $1" >> "$CALLS"; [ "$1" != "$FAIL_AT" ]');
  stub(join(dir, 'real/lib/install.sh'), 'echo "install.sh $*" >> "$CALLS"; [ "$FAIL_AT" != install ]');
  // ci.sh insists on root and apt-get: stand-ins, so the test runs the same as any user
  stub(join(dir, 'bin/id'), 'echo 0');
  stub(join(dir, 'bin/apt-get'), 'exit 0');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function ci(env: Record<string, string>): { status: number | null; calls: string[]; stderr: string } {
  const calls = join(dir, `calls-${Math.random().toString(36).slice(2)}`);
  writeFileSync(calls, '');
  const { OCX_REAL_STATE_DIR: _a, STATE_DIR: _b, OCX_KEEP_FAILED_STACK: _c, ...outer } = process.env;
  const r = spawnSync('bash', [join(dir, 'real/ci.sh'), 'up'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...outer,
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      CALLS: calls,
      STATE_DIR: join(dir, 'state'),
      ...env,
    },
  });
  return { status: r.status, calls: readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean), stderr: r.stderr };
}

test('a failed up prints status, then tears the half-started stack down, and fails', () => {
  const r = ci({ FAIL_AT: 'up' });
  assert.equal(r.status, 1);
  assert.deepEqual(r.calls, ['install.sh all', 'openstack.sh up', 'openstack.sh status', 'openstack.sh down']);
  assert.match(r.stderr, /ci\.sh: up FAILED/);
  assert.match(r.stderr, /tearing the half-started stack down/);
  // failing before any state exists (the installer): the report's log scan finds nothing, the teardown still runs
  const early = ci({ FAIL_AT: 'install' });
  assert.equal(early.status, 1);
  assert.deepEqual(early.calls, ['install.sh all', 'openstack.sh status', 'openstack.sh down']);
});

test('a failed health check tears down too; OCX_KEEP_FAILED_STACK=1 leaves the stack for a look', () => {
  const failed = ci({ FAIL_AT: 'wait' });
  assert.equal(failed.status, 1);
  assert.equal(failed.calls.at(-1), 'openstack.sh down');
  const kept = ci({ FAIL_AT: 'up', OCX_KEEP_FAILED_STACK: '1' });
  assert.equal(kept.status, 1);
  assert.ok(!kept.calls.includes('openstack.sh down'), kept.calls.join(', '));
  assert.match(kept.stderr, /leaving the half-started stack running/);
});

test('a good up tears nothing down', () => {
  const r = ci({});
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.calls, ['install.sh all', 'openstack.sh up', 'openstack.sh wait']);
});

test('one state directory: OCX_REAL_STATE_DIR is read as STATE_DIR, two different values are refused', () => {
  const sh = (env: Record<string, string>) => {
    const { OCX_REAL_STATE_DIR: _a, STATE_DIR: _b, ...outer } = process.env;
    return spawnSync('bash', ['-c', `. "${join(ROOT, 'test/real/lib/state-dir.sh')}" && echo "$STATE_DIR"`], {
      encoding: 'utf8',
      env: { ...outer, ...env },
    });
  };
  assert.equal(sh({}).stdout.trim(), '/tmp/ocx-real');
  assert.equal(sh({ OCX_REAL_STATE_DIR: '/x/old' }).stdout.trim(), '/x/old');
  assert.equal(sh({ STATE_DIR: '/x/new' }).stdout.trim(), '/x/new');
  assert.equal(sh({ STATE_DIR: '/x/same', OCX_REAL_STATE_DIR: '/x/same' }).stdout.trim(), '/x/same');
  const both = sh({ STATE_DIR: '/x/a', OCX_REAL_STATE_DIR: '/x/b' });
  assert.equal(both.status, 2);
  assert.match(both.stderr, /differ: set only STATE_DIR/);
});

test('test-all.sh refuses OCX_SKIP_REAL=1 when CI=true, before doing anything', () => {
  const r = spawnSync('bash', [join(ROOT, 'scripts/test-all.sh')], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, CI: 'true', OCX_SKIP_REAL: '1' },
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /OCX_SKIP_REAL=1 is refused when CI=true/);
  assert.equal(r.stdout, '', 'nothing ran');
});
