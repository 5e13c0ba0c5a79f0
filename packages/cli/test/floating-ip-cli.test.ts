/**
 * `floating ip list | delete [--unattached]` and `server add | remove floating ip` against devcloud: OSC's columns
 * and names, a Cloud column over several clouds, one error line per failed cloud with the OCX code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type OcxRun, runOcx } from './minicloud.ts';

describe('ocx floating ip and server add/remove floating ip on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  const ocx = (args: string[]) => runOcx(args, env);
  const ok = (r: OcxRun) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const list = async (cloud: string) => {
    const r = await ocx(['floating', 'ip', 'list', '--os-cloud', cloud, '-f', 'json']);
    ok(r);
    return JSON.parse(r.stdout) as Record<string, string | null>[];
  };
  const create = async (cloud: string) => {
    const r = await ocx(['floating', 'ip', 'create', '--os-cloud', cloud, '-f', 'json']);
    ok(r);
    return JSON.parse(r.stdout) as { id: string; floating_ip_address: string };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-fip-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    ok(
      await ocx([
        'server',
        'create',
        'fip-vm',
        '--os-cloud',
        'sp1',
        '--image',
        'cirros-0.6.2-x86_64-disk',
        '--flavor',
        'm1.tiny',
        '--network',
        'private',
        '--wait',
      ]),
    );
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('add floating ip: attached to the server’s port, shown in list and server address; remove detaches it', async () => {
    const ip = await create('sp1');
    ok(await ocx(['server', 'add', 'floating', 'ip', 'fip-vm', ip.floating_ip_address, '--os-cloud', 'sp1']));
    const row = (await list('sp1')).find((f) => f.ID === ip.id);
    assert.ok(row, 'the new floating IP is listed');
    assert.deepEqual(Object.keys(row), [
      'ID',
      'Floating IP Address',
      'Fixed IP Address',
      'Port',
      'Floating Network',
      'Project',
    ]);
    assert.ok(row.Port, 'attached to a port');
    assert.match(row['Fixed IP Address'] ?? '', /^\d+\.\d+\.\d+\.\d+$/);

    const addr = await ocx(['server', 'address', 'fip-vm', '--os-cloud', 'sp1', '-f', 'json']);
    ok(addr);
    assert.equal((JSON.parse(addr.stdout) as { public_v4: string }).public_v4, ip.floating_ip_address);

    ok(await ocx(['server', 'remove', 'floating', 'ip', 'fip-vm', ip.floating_ip_address, '--os-cloud', 'sp1']));
    const after = (await list('sp1')).find((f) => f.ID === ip.id);
    assert.equal(after?.Port, null);

    const again = await ocx([
      'server',
      'remove',
      'floating',
      'ip',
      'fip-vm',
      ip.floating_ip_address,
      '--os-cloud',
      'sp1',
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: sp1 \(RegionOne\): \[CONFLICT\] floating IP .* is not attached to server /);
    ok(await ocx(['floating', 'ip', 'delete', ip.floating_ip_address, '--os-cloud', 'sp1']));
    assert.equal(
      (await list('sp1')).find((f) => f.ID === ip.id),
      undefined,
    );
  });

  it('an unknown address fails with NOT_FOUND; delete of a missing one fails per cloud', async () => {
    const r = await ocx(['server', 'add', 'floating', 'ip', 'fip-vm', '203.0.113.250', '--os-cloud', 'sp1']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "Error: sp1 (RegionOne): [NOT_FOUND] No floating IP with an address of '203.0.113.250' exists.\n",
    );
    const d = await ocx(['floating', 'ip', 'delete', 'nope', '--os-cloud', 'sp1', '--os-cloud', 'sp2']);
    assert.equal(d.code, 1);
    assert.equal(d.stderr.trim().split('\n').length, 2);
    assert.match(
      d.stderr,
      /^Error: sp2 \(RegionOne\): \[NOT_FOUND\] No floating IP with a name or ID of 'nope' exists\.$/m,
    );
  });

  it('delete --unattached removes only the unattached ones, reporting a count per cloud', async () => {
    const kept = await create('sp1');
    ok(await ocx(['server', 'add', 'floating', 'ip', 'fip-vm', kept.floating_ip_address, '--os-cloud', 'sp1']));
    await create('sp1');
    await create('sp2');
    await create('sp2');
    const r = await ocx([
      'floating',
      'ip',
      'delete',
      '--unattached',
      '--os-cloud',
      'sp1',
      '--os-cloud',
      'sp2',
      '-f',
      'json',
    ]);
    ok(r);
    assert.deepEqual(JSON.parse(r.stdout), [
      { Cloud: 'sp1', Deleted: 1 },
      { Cloud: 'sp2', Deleted: 2 },
    ]);
    assert.deepEqual(
      (await list('sp1')).map((f) => f.ID),
      [kept.id],
    );
    assert.deepEqual(await list('sp2'), []);

    const both = await ocx(['floating', 'ip', 'delete', 'x', '--unattached', '--os-cloud', 'sp1']);
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'Error: [BAD_REQUEST] give either floating IPs or --unattached\n');
  });
});
