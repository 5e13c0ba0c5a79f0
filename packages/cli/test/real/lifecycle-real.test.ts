/**
 * Create, wait and delete through the `ocx` command, spawned as a user runs it (`packages/cli/bin/ocx.js`, `-f json`
 * parsed), on real OpenStack (test/real's sp1): a network and subnet, an image uploaded from a file and saved back,
 * a volume, one server booted on them with `--wait`, the volume attached and detached with `--wait`, then every
 * delete (`server delete --wait`) and the NOT_FOUND that follows. Runs only with OCX_TEST_TARGET=real (clouds.yaml
 * from OS_CLIENT_CONFIG_FILE, else /tmp/os-harness/clouds.yaml). Names are unique per run; whatever was made is
 * deleted in `after`, also when an assertion failed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Run, spawnOcx } from './spawn-ocx.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const CLOUDS_YAML = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_CLOUD ?? 'sp1';

/** Parse a successful `-f json` answer; a failure shows ocx's own error line. */
function json<T = Record<string, unknown>>(r: Run, what: string): T {
  assert.equal(r.code, 0, `ocx ${what}: exit ${r.code}: ${r.stderr}`);
  // stdout is JSON only: no progress line or prompt mixed in (progress goes to a terminal's stderr alone)
  assert.equal(r.stderr, '', `ocx ${what} wrote to stderr`);
  return JSON.parse(r.stdout) as T;
}

describe('create, wait and delete through ocx on real OpenStack', {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 600_000,
}, () => {
  const tag = `ocx-life-${randomBytes(3).toString('hex')}`;
  let dir: string;
  const made = new Map<string, string>(); // kind -> name, while it exists
  const run = (args: string[]) =>
    spawnOcx([...args, '--os-cloud', CLOUD], { HOME: dir, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML }).done;

  before(() => {
    assert.ok(existsSync(CLOUDS_YAML), `${CLOUDS_YAML} is missing`);
    dir = mkdtempSync(join(tmpdir(), 'ocx-real-life-'));
  });
  after(async () => {
    // Best effort, in dependency order; what fails here is printed (a leak on the shared cloud), not thrown.
    for (const [kind, args] of [
      ['server', ['server', 'delete', tag, '--wait']],
      ['volume', ['volume', 'delete', tag, '--force']],
      ['image', ['image', 'delete', tag]],
      ['subnet', ['subnet', 'delete', tag]],
      ['network', ['network', 'delete', tag]],
    ] as const) {
      if (!made.has(kind)) continue;
      const r = await run([...args]);
      if (r.code !== 0) process.stderr.write(`cleanup ${kind} ${tag}: ${r.stderr}`);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('network and subnet create: the subnet is on the network, network list shows it', async () => {
    const net = json(await run(['network', 'create', tag, '-f', 'json']), 'network create');
    made.set('network', tag);
    assert.equal(net.name, tag);
    assert.equal(net.status, 'ACTIVE');
    const cidr = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}.0/24`;
    const sub = json(
      await run(['subnet', 'create', tag, '--network', tag, '--subnet-range', cidr, '-f', 'json']),
      'subnet create',
    );
    made.set('subnet', tag);
    assert.equal(sub.network_id, net.id);
    assert.equal(sub.cidr, cidr);
    const list = json<Array<{ ID: string; Subnets: string[] }>>(
      await run(['network', 'list', '-f', 'json']),
      'network list',
    );
    assert.deepEqual(list.find((n) => n.ID === net.id)?.Subnets, [sub.id]);
  });

  it('image create --file: active, md5 and sha256 of the file; image save gets the same bytes back', async () => {
    const file = join(dir, 'disk.raw');
    writeFileSync(file, randomBytes(2 * 1024 * 1024));
    const bytes = readFileSync(file);
    const img = json(
      await run(['image', 'create', tag, '--file', file, '--disk-format', 'raw', '-f', 'json']),
      'image create',
    );
    made.set('image', tag);
    assert.equal(img.status, 'active');
    assert.equal(img.checksum, createHash('md5').update(bytes).digest('hex'));
    assert.equal(img.size, bytes.length);
    const props = img.properties as Record<string, string>;
    assert.equal(props['owner_specified.openstack.sha256'], createHash('sha256').update(bytes).digest('hex'));
    // The same name and bytes again: the image is found, not made twice (idempotent by name + hash).
    const again = json(
      await run(['image', 'create', tag, '--file', file, '--disk-format', 'raw', '-f', 'json']),
      'image create again',
    );
    assert.equal(again.id, img.id);
    const copy = join(dir, 'disk.copy');
    const saved = await run(['image', 'save', tag, '--file', copy]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.ok(readFileSync(copy).equals(bytes), 'image save: the bytes uploaded');
  });

  it('volume create, then available (polled with volume show)', async () => {
    const vol = json(await run(['volume', 'create', tag, '--size', '1', '-f', 'json']), 'volume create');
    made.set('volume', tag);
    assert.equal(vol.name, tag);
    let status = String(vol.status);
    for (let i = 0; i < 60 && status === 'creating'; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      status = String(json(await run(['volume', 'show', tag, '-f', 'json', '-c', 'status']), 'volume show').status);
    }
    assert.equal(status, 'available');
  });

  it('server create --wait: ACTIVE on the network with the image; volume attach and detach with --wait', async () => {
    const flavors = json<Array<{ Name: string; RAM: number }>>(await run(['flavor', 'list', '-f', 'json']), 'flavors');
    const flavor = [...flavors].sort((a, b) => a.RAM - b.RAM)[0]!.Name;
    const srv = json(
      await run([
        'server',
        'create',
        tag,
        '--image',
        tag,
        '--flavor',
        flavor,
        '--network',
        tag,
        '--wait',
        '-f',
        'json',
      ]),
      'server create --wait',
    );
    made.set('server', tag);
    assert.equal(srv.status, 'ACTIVE');
    assert.equal(srv['OS-EXT-STS:vm_state'], 'active');
    assert.match(String(srv.image), new RegExp(`^${tag} \\(`));
    const addresses = srv.addresses as Record<string, string[]>;
    assert.deepEqual(Object.keys(addresses), [tag], 'one NIC, on the network this test made');
    const shown = json(await run(['server', 'show', tag, '-f', 'json', '-c', 'id', '-c', 'status']), 'show');
    assert.deepEqual(shown, { id: srv.id, status: 'ACTIVE' });
    const addr = json(await run(['server', 'address', tag, '-f', 'json']), 'server address');
    assert.equal(addr.private_v4, addresses[tag]![0]);

    const att = json(await run(['server', 'add', 'volume', tag, tag, '--wait', '-f', 'json']), 'add volume');
    assert.equal(att['Server ID'], srv.id);
    const inUse = json(await run(['volume', 'show', tag, '-f', 'json', '-c', 'status']), 'volume show');
    assert.equal(inUse.status, 'in-use');
    const det = await run(['server', 'remove', 'volume', tag, tag, '--wait']);
    assert.equal(det.code, 0, det.stderr);
    assert.equal(det.stdout, '');
    const free = json(await run(['volume', 'show', tag, '-f', 'json', '-c', 'status']), 'volume show');
    assert.equal(free.status, 'available');
  });

  it('delete everything: server delete --wait, then volume, image, subnet, network; each is gone', async () => {
    for (const [kind, extra] of [
      ['server', ['--wait']],
      ['volume', []],
      ['image', []],
      ['subnet', []],
      ['network', []],
    ] as const) {
      assert.ok(made.has(kind), `${kind} was not made by the tests above`);
      const del = await run([kind, 'delete', tag, ...extra]);
      assert.equal(del.code, 0, `${kind} delete: ${del.stderr}`);
      assert.equal(del.stdout, '');
      made.delete(kind);
      if (kind === 'volume') {
        // Cinder deletes in the background: the volume goes from deleting to gone.
        let left = true;
        for (let i = 0; i < 60 && left; i++) {
          const rows = json<Array<{ Name: string }>>(await run(['volume', 'list', '-f', 'json']), 'volume list');
          left = rows.some((v) => v.Name === tag);
          if (left) await new Promise((r) => setTimeout(r, 1000));
        }
        assert.ok(!left, 'the volume is still listed after 60 s');
      }
    }
    // server delete --wait returned: Nova no longer has it.
    const gone = await run(['server', 'show', tag]);
    assert.equal(gone.code, 1);
    assert.equal(
      gone.stderr,
      `Error: ${CLOUD} (RegionOne): [NOT_FOUND] No server with a name or ID of '${tag}' exists.\n`,
    );
    const img = await run(['image', 'show', tag]);
    assert.equal(img.code, 1);
    assert.match(img.stderr, /\[NOT_FOUND\]/);
    const nets = json<Array<{ Name: string }>>(await run(['network', 'list', '-f', 'json']), 'network list');
    assert.ok(!nets.some((n) => n.Name === tag), 'the network is still listed');
  });
});
