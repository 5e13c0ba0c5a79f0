/** `limits show --absolute` against devcloud: Nova's and Cinder's limits as Name/Value rows, a Cloud column over several. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { runOcx } from './minicloud.ts';

describe('ocx limits show --absolute on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-limits-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['sp1', 'sp2'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compute and volume limits; usage follows a created volume', async () => {
    const created = await runOcx(['volume', 'create', 'lim-vol', '--size', '2', '--os-cloud', 'sp1'], env);
    assert.equal(created.code, 0, created.stderr);
    const r = await runOcx(['limits', 'show', '--absolute', '--os-cloud', 'sp1', '-f', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { Name: string; Value: number }[];
    const byName = new Map(rows.map((x) => [x.Name, x.Value]));
    for (const name of ['maxTotalCores', 'maxTotalInstances', 'maxTotalRAMSize', 'totalCoresUsed', 'maxTotalVolumes'])
      assert.equal(typeof byName.get(name), 'number', `${name} is shown`);
    assert.equal(byName.get('totalVolumesUsed'), 1);
    assert.equal(byName.get('totalGigabytesUsed'), 2);
    assert.ok(
      rows.findIndex((x) => x.Name === 'maxTotalCores') < rows.findIndex((x) => x.Name === 'maxTotalVolumes'),
      'compute first, as OSC',
    );
  });

  it('over two clouds: a Cloud column; without --absolute: one error line and exit 1', async () => {
    const r = await runOcx(
      ['limits', 'show', '--absolute', '--os-cloud', 'sp1', '--os-cloud', 'sp2', '-f', 'csv'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'Cloud,Name,Value');
    assert.ok(lines.some((l) => l.startsWith('sp1,totalVolumesUsed,')));
    assert.ok(lines.includes('sp2,totalVolumesUsed,0'));

    const bare = await runOcx(['limits', 'show', '--os-cloud', 'sp1'], env);
    assert.equal(bare.code, 1);
    assert.equal(bare.stdout, '');
    assert.equal(bare.stderr, 'Error: [BAD_REQUEST] limits show needs --absolute\n');
  });
});
