/**
 * `server add volume` / `server remove volume` against devcloud: OSC's names and columns, --wait ending with the
 * volume in-use / available, one error line per failed cloud with the OCX code and a failing exit status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type OcxRun, runOcx } from './minicloud.ts';

describe('ocx server add/remove volume on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  const ocx = (args: string[], opts: { errIsTTY?: boolean } = {}) => runOcx(args, env, opts);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const volume = async (name: string, cloud: string) => {
    const r = await ocx(['volume', 'show', name, '--os-cloud', cloud, '-f', 'json']);
    ok(r);
    return JSON.parse(r.stdout) as { id: string; status: string; attachments: { server_id: string }[] };
  };
  const serverIds = new Map<string, string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-vol-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    for (const cloud of ['sp1', 'sp2']) {
      const s = await ocx([
        'server',
        'create',
        'va-vm',
        '--os-cloud',
        cloud,
        '--image',
        'cirros-0.6.2-x86_64-disk',
        '--flavor',
        'm1.tiny',
        '--network',
        'private',
        '--wait',
        '-f',
        'json',
      ]);
      ok(s);
      serverIds.set(cloud, (JSON.parse(s.stdout) as { id: string }).id);
      ok(await ocx(['volume', 'create', 'va-data', '--size', '1', '--os-cloud', cloud, '-f', 'json']));
    }
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('add volume --wait on two clouds: OSC columns with a Cloud column, the volumes in-use on the server', async () => {
    // The volumes were created without --wait: let them become available first.
    for (const cloud of ['sp1', 'sp2'])
      for (let i = 0; (await volume('va-data', cloud)).status !== 'available'; i++) {
        assert.ok(i < 100, `volume on ${cloud} never became available`);
        await new Promise((r) => setTimeout(r, 50));
      }
    const r = await ocx([
      'server',
      'add',
      'volume',
      'va-vm',
      'va-data',
      '--os-cloud',
      'sp1',
      '--os-cloud',
      'sp2',
      '--wait',
      '-f',
      'json',
    ]);
    ok(r);
    assert.equal(r.stderr, '');
    const rows = JSON.parse(r.stdout) as Record<string, string>[];
    assert.deepEqual(
      rows.map((row) => Object.keys(row)),
      [
        ['Cloud', 'ID', 'Server ID', 'Volume ID', 'Device'],
        ['Cloud', 'ID', 'Server ID', 'Volume ID', 'Device'],
      ],
    );
    for (const row of rows) {
      const cloud = row.Cloud!;
      const v = await volume('va-data', cloud);
      assert.equal(row['Server ID'], serverIds.get(cloud));
      assert.equal(row['Volume ID'], v.id);
      assert.match(row.Device ?? '', /^\/dev\/\w+$/);
      assert.equal(v.status, 'in-use');
      assert.deepEqual(
        v.attachments.map((a) => a.server_id),
        [serverIds.get(cloud)],
      );
    }
  });

  it('attaching it again fails on each cloud with one line and its code; exit 1', async () => {
    const r = await ocx(['server', 'add', 'volume', 'va-vm', 'va-data', '--os-cloud', 'sp1', '--os-cloud', 'sp2']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    for (const line of lines) assert.match(line, /^Error: sp[12] \(RegionOne\): \[(CONFLICT|BAD_REQUEST)\] /);
  });

  it('remove volume --wait: available again with no attachments; a missing volume is NOT_FOUND', async () => {
    const r = await ocx(['server', 'remove', 'volume', 'va-vm', 'va-data', '--os-cloud', 'sp1', '--wait'], {
      errIsTTY: true,
    });
    ok(r);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^\rsp1: detaching.*\n$/s, 'the progress line on a terminal');
    const v = await volume('va-data', 'sp1');
    assert.equal(v.status, 'available');
    assert.deepEqual(v.attachments, []);

    const missing = await ocx(['server', 'remove', 'volume', 'va-vm', 'no-such-vol', '--os-cloud', 'sp2']);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "Error: sp2 (RegionOne): [NOT_FOUND] No volume with a name or ID of 'no-such-vol' exists.\n",
    );
    assert.equal((await volume('va-data', 'sp2')).status, 'in-use', 'sp2 was not touched');
  });
});
