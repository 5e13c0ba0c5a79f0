/**
 * `server reboot | stop | start`, `server console log` and `server address` against devcloud: OSC's options, --wait
 * ending in the target status, one error line per failed cloud with the OCX code and a failing exit status, the
 * progress line only on a terminal and never with --no-progress.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type OcxRun, runOcx } from './minicloud.ts';

const IMAGE = 'cirros-0.6.2-x86_64-disk';

describe('ocx server reboot/stop/start, console log, address on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  const ocx = (args: string[], opts: { errIsTTY?: boolean } = {}) => runOcx(args, env, opts);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const status = async (name: string, cloud: string) => {
    const r = await ocx(['server', 'show', name, '--os-cloud', cloud, '-f', 'json']);
    ok(r);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    return { status: s.status, power: s['OS-EXT-STS:power_state'], task: s['OS-EXT-STS:task_state'] };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-power-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    for (const cloud of ['sp1', 'sp2']) {
      const r = await ocx([
        'server',
        'create',
        'pw-vm',
        '--os-cloud',
        cloud,
        '--image',
        IMAGE,
        '--flavor',
        'm1.tiny',
        '--network',
        'private',
        '--wait',
        '-f',
        'json',
      ]);
      ok(r);
    }
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stop --wait on two clouds ends SHUTOFF and prints nothing; a second stop fails per cloud with CONFLICT', async () => {
    const stop = await ocx(['server', 'stop', 'pw-vm', '--os-cloud', 'sp1', '--os-cloud', 'sp2', '--wait']);
    ok(stop);
    assert.equal(stop.stdout, '');
    assert.equal(stop.stderr, '', 'no progress line when stderr is not a terminal');
    for (const cloud of ['sp1', 'sp2'])
      assert.deepEqual(await status('pw-vm', cloud), { status: 'SHUTOFF', power: 4, task: null });

    const again = await ocx(['server', 'stop', 'pw-vm', '--os-cloud', 'sp1', '--os-cloud', 'sp2']);
    assert.equal(again.code, 1);
    const lines = again.stderr.trim().split('\n');
    assert.equal(lines.length, 2, again.stderr);
    for (const cloud of ['sp1', 'sp2'])
      assert.ok(
        lines.some((l) => l.startsWith(`Error: ${cloud}`) && l.includes('[CONFLICT]')),
        again.stderr,
      );
  });

  it('start --wait: ACTIVE again; the progress line shows on a terminal and not with --no-progress', async () => {
    const start = await ocx(['server', 'start', 'pw-vm', '--os-cloud', 'sp1', '--wait'], { errIsTTY: true });
    ok(start);
    assert.match(start.stderr, /^\rsp1: pw-vm (SHUTOFF|ACTIVE)/);
    assert.ok(start.stderr.endsWith('\n'));
    assert.deepEqual(await status('pw-vm', 'sp1'), { status: 'ACTIVE', power: 1, task: null });

    const quiet = await ocx(['server', 'start', 'pw-vm', '--os-cloud', 'sp2', '--wait', '--no-progress'], {
      errIsTTY: true,
    });
    ok(quiet);
    assert.equal(quiet.stderr, '');
    assert.deepEqual(await status('pw-vm', 'sp2'), { status: 'ACTIVE', power: 1, task: null });
  });

  it('reboot --hard --wait and a soft reboot without --wait (which returns while the server reboots)', async () => {
    ok(await ocx(['server', 'reboot', 'pw-vm', '--hard', '--wait', '--os-cloud', 'sp1']));
    assert.deepEqual(await status('pw-vm', 'sp1'), { status: 'ACTIVE', power: 1, task: null });

    const soft = await ocx(['server', 'reboot', 'pw-vm', '--os-cloud', 'sp2']);
    ok(soft);
    assert.equal(soft.stdout, '');
    assert.equal((await status('pw-vm', 'sp2')).status, 'REBOOT');
  });

  it('several servers: each one is tried; the failures are named in one error line with the code', async () => {
    // sp2's pw-vm may still be rebooting from the previous test: let it settle first.
    for (let i = 0; (await status('pw-vm', 'sp2')).task !== null; i++) {
      assert.ok(i < 100, 'the soft reboot never settled');
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await ocx(['server', 'stop', 'pw-vm', 'no-such-vm', '--wait', '--os-cloud', 'sp2']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "Error: sp2 (RegionOne): [NOT_FOUND] 1 of 2 servers failed to stop: 'no-such-vm': No server with a name or ID of 'no-such-vm' exists.\n",
    );
    assert.equal((await status('pw-vm', 'sp2')).status, 'SHUTOFF', 'the server that exists was stopped');
    ok(await ocx(['server', 'start', 'pw-vm', '--wait', '--os-cloud', 'sp2']));
  });

  it('console log: the text as is on one cloud, --lines keeps the last lines, headers over several clouds', async () => {
    const one = await ocx(['server', 'console', 'log', 'pw-vm', '--os-cloud', 'sp1']);
    ok(one);
    assert.equal(one.stdout, 'devcloud console of pw-vm\nlogin: \n');

    const last = await ocx(['server', 'console', 'log', 'pw-vm', '--lines', '1', '--os-cloud', 'sp1']);
    ok(last);
    assert.equal(last.stdout, 'login: \n');

    const both = await ocx(['server', 'console', 'log', 'pw-vm', '--os-cloud', 'sp1', '--os-cloud', 'sp2']);
    ok(both);
    assert.equal(
      both.stdout,
      '==> sp1 <==\ndevcloud console of pw-vm\nlogin: \n\n==> sp2 <==\ndevcloud console of pw-vm\nlogin: \n',
    );

    const bad = await ocx(['server', 'console', 'log', 'pw-vm', '--lines', 'x', '--os-cloud', 'sp1']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "Error: [BAD_REQUEST] --lines expects a whole number, got 'x'\n");

    const missing = await ocx(['server', 'console', 'log', 'nope', '--os-cloud', 'sp1', '--os-cloud', 'sp2']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr.trim().split('\n').length, 2);
    assert.match(
      missing.stderr,
      /^Error: sp1 \(RegionOne\): \[NOT_FOUND\] No server with a name or ID of 'nope' exists\.$/m,
    );
  });

  it('address: interface_ip and the resolved addresses, a Cloud column over several clouds', async () => {
    const one = await ocx(['server', 'address', 'pw-vm', '--os-cloud', 'sp1', '-f', 'json']);
    ok(one);
    const a = JSON.parse(one.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(a), ['id', 'name', 'interface_ip', 'public_v4', 'private_v4', 'public_v6']);
    assert.equal(a.name, 'pw-vm');
    assert.match(a.private_v4!, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(a.interface_ip, 'a server on a private network still has an address to reach it on');
    assert.ok([a.public_v4, a.private_v4].includes(a.interface_ip!));

    const both = await ocx(['server', 'address', 'pw-vm', '--os-cloud', 'sp1', '--os-cloud', 'sp2', '-f', 'csv']);
    ok(both);
    const lines = both.stdout.trim().split('\n');
    assert.equal(lines[0], 'Cloud,id,name,interface_ip,public_v4,private_v4,public_v6');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      ['sp1', 'sp2'],
    );
  });
});
