/**
 * The skip guard (scripts/node-test.sh + test/ci/skip-guard/): run on small test files made here, it keeps the
 * runner's TAP closing lines, lists every skipped/todo test with its reason, fails a strict run (CI=true) for a
 * skip not on the allow-list, and lets one through that is on it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { judge, parseAllowList } from './skip-guard/check.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-skip-guard-'));
  writeFileSync(
    join(dir, 'mixed.test.mjs'),
    [
      "import { describe, test } from 'node:test';",
      "test('runs', () => {});",
      "test('needs nginx', { skip: 'nginx is not installed' }, () => {});",
      "test('decides at run time', (t) => { t.skip('no PostgreSQL'); });",
      "test('later', { todo: 'not written yet' }, () => {});",
      // a skipped suite counts as 0 skipped in TAP's own summary: exactly the quiet skip the guard exists for
      "describe('whole suite', { skip: 'no openstack CLI' }, () => { test('inner', () => {}); });",
    ].join('\n'),
  );
  writeFileSync(join(dir, 'clean.test.mjs'), "import { test } from 'node:test';\ntest('runs', () => {});\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

function guard(files: string[], env: Record<string, string>) {
  // NODE_TEST_CONTEXT would make the inner runner talk to this one instead of printing TAP
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  const r = spawnSync('bash', [join(ROOT, 'scripts/node-test.sh'), ...files], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...outer,
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      CI: '',
      OCX_STRICT_SKIPS: '',
      OCX_SKIP_ALLOW_LIST: '',
      ...env,
    },
  });
  return { status: r.status, out: r.stdout };
}

test('a strict run (CI=true) with skips fails and names each skipped test with its reason', () => {
  const r = guard(['mixed.test.mjs'], { CI: 'true' });
  assert.equal(r.status, 1, r.out);
  // the runner's own closing lines are still there for CI to read
  assert.match(r.out, /^# tests \d+$/m);
  assert.match(r.out, /^# pass \d+$/m);
  assert.match(r.out, /^# fail 0$/m);
  assert.match(r.out, /skip mixed\.test\.mjs › needs nginx \(nginx is not installed\)/);
  assert.match(r.out, /skip mixed\.test\.mjs › decides at run time \(no PostgreSQL\)/);
  assert.match(r.out, /todo mixed\.test\.mjs › later \(not written yet\)/);
  assert.match(r.out, /skip mixed\.test\.mjs › whole suite \(no openstack CLI\)/);
  assert.match(r.out, /skip guard: 4 skipped\/todo, 0 on .*, 4 not allowed: FAIL/);
});

test('a run that is not strict lists the skips as a warning and passes', () => {
  const r = guard(['mixed.test.mjs'], {});
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /4 not allowed \(not strict: a warning only\)/);
});

test('skips on the allow-list pass a strict run; one left off still fails it', () => {
  const all = join(dir, 'allow-all.txt');
  writeFileSync(
    all,
    [
      '# reasons are required',
      'mixed.test.mjs | needs nginx | the lane is tested in the nginx job',
      'mixed.test.mjs | decides at run time | no database on this runner',
      'mixed.test.mjs | later | tracked in an issue',
      'mixed.test.mjs | whole suite | tested elsewhere',
    ].join('\n'),
  );
  const ok = guard(['mixed.test.mjs'], { OCX_STRICT_SKIPS: '1', OCX_SKIP_ALLOW_LIST: all });
  assert.equal(ok.status, 0, ok.out);
  assert.match(ok.out, /4 on .*allow-all\.txt, 0 not allowed/);

  const some = join(dir, 'allow-some.txt');
  writeFileSync(some, 'mixed.test.mjs | needs nginx | the lane is tested in the nginx job\n');
  const bad = guard(['mixed.test.mjs'], { OCX_STRICT_SKIPS: '1', OCX_SKIP_ALLOW_LIST: some });
  assert.equal(bad.status, 1, bad.out);
  assert.match(bad.out, /1 on .*allow-some\.txt, 3 not allowed: FAIL/);
});

test('a strict run without skips passes, and a failing test still fails it', () => {
  assert.equal(guard(['clean.test.mjs'], { CI: 'true' }).status, 0);
  writeFileSync(
    join(dir, 'red.test.mjs'),
    "import { test } from 'node:test';\ntest('red', () => { throw new Error('x'); });\n",
  );
  const r = guard(['red.test.mjs'], { CI: 'true' });
  assert.equal(r.status, 1);
  assert.match(r.out, /^# fail 1$/m);
});

test('an allow-list entry without a reason is rejected; matching is by file and exact test name', () => {
  assert.throws(() => parseAllowList('a.test.ts | some test |\n', 'list.txt'), /list\.txt:1: .*reason is required/);
  const allowed = parseAllowList('a.test.ts | some test | why\n', 'list.txt');
  const v = judge(
    [
      { file: 'a.test.ts', name: 'some test', kind: 'skip', reason: '' },
      { file: 'b.test.ts', name: 'some test', kind: 'skip', reason: '' },
      { file: 'a.test.ts', name: 'some test 2', kind: 'skip', reason: '' },
    ],
    allowed,
  );
  assert.equal(v.allowed.length, 1);
  assert.deepEqual(
    v.refused.map((s) => `${s.file}:${s.name}`),
    ['b.test.ts:some test', 'a.test.ts:some test 2'],
  );
});
