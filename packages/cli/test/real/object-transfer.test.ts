/**
 * Object transfers against real Swift (test/real's sp1): a 100 MiB static large object upload through the spawned
 * `ocx object create`, interrupted with SIGINT (Ctrl-C) once a few segments are stored and run again (the stored
 * segments are not sent again), the `ocx object save` download of it and a plain object's parallel ranged download,
 * both compared by sha256 with the source. Runs only with OCX_TEST_TARGET=real.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  collect,
  createSession,
  downloadFile,
  loadCloudsConfig,
  ObjectStoreClient,
  type Session,
  uploadFile,
} from '@ocx/sdk';
import { runOcx } from '../minicloud.ts';
import { spawnOcx } from './spawn-ocx.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const CLOUDS_YAML = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_CLOUD ?? 'sp1';
const OPENSTACK = process.env.OCX_OPENSTACK_BIN ?? '/usr/bin/openstack';
const MiB = 1024 * 1024;
const run = promisify(execFile);

/** python-openstackclient's `-f json` answer for the same cloud (Debian's client, only the clouds.yaml given). */
async function openstack(args: string[]): Promise<unknown> {
  const env: Record<string, string | undefined> = { ...process.env, OS_CLIENT_CONFIG_FILE: CLOUDS_YAML };
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`;
  for (const k of Object.keys(env)) if (k.startsWith('OS_') && k !== 'OS_CLIENT_CONFIG_FILE') delete env[k];
  const { stdout } = await run(OPENSTACK, [...args, '--os-cloud', CLOUD, '-f', 'json'], { env, timeout: 120_000 });
  return JSON.parse(stdout);
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function makeFile(path: string, mib: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) await fh.write(randomBytes(MiB), 0, MiB, i * MiB);
  } finally {
    await fh.close();
  }
}

describe('object transfers on real Swift', { skip: !REAL && 'set OCX_TEST_TARGET=real', timeout: 600_000 }, () => {
  const container = `ocx-transfer-${randomBytes(4).toString('hex')}`;
  let dir: string;
  let session: Session;
  let store: ObjectStoreClient;
  const env = { OS_CLIENT_CONFIG_FILE: CLOUDS_YAML };

  before(() => {
    assert.ok(existsSync(CLOUDS_YAML), `${CLOUDS_YAML} is missing`);
    assert.ok(existsSync(OPENSTACK), `${OPENSTACK} is missing`);
    dir = mkdtempSync(join(tmpdir(), 'ocx-real-transfer-'));
    const config = loadCloudsConfig({ files: { clouds: [CLOUDS_YAML], secure: [], publicClouds: [] }, loadEnv: false });
    session = createSession(config.getCloud(CLOUD));
    store = new ObjectStoreClient(session.client('object-store'));
  });
  after(async () => {
    for (const c of [container, `${container}_segments`]) {
      const objects = await collect(store.listObjects(c)).catch(() => []);
      for (const o of objects) if (o.name) await store.deleteObject(c, o.name).catch(() => {});
      await store.deleteContainer(c).catch(() => {});
    }
    await session?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a 100 MiB upload interrupted by Ctrl-C resumes with only the rest; object save gets it back', async (t) => {
    const created = await runOcx(['container', 'create', container, '--os-cloud', CLOUD, '-f', 'json'], env);
    assert.equal(created.code, 0, created.stderr);
    const src = join(dir, 'big.bin');
    await makeFile(src, 100);
    const segmentSize = 4 * MiB; // 25 segments: one at a time, so Ctrl-C lands with most of them still to send
    const upload = (threads: number) => [
      ...['object', 'create', container, src, '--name', 'big.bin', '--os-cloud', CLOUD, '-f', 'json'],
      ...['--segment-size', String(segmentSize), '--threads', String(threads)],
    ];
    const listSegments = async () =>
      (await collect(store.listObjects(`${container}_segments`, { query: { prefix: 'big.bin/' } })).catch(() => []))
        .map((o) => [o.name, o.hash, o.last_modified] as const)
        .sort();

    const first = spawnOcx(upload(1), { ...env, HOME: dir });
    let exited = false;
    void first.done.then(() => {
      exited = true;
    });
    let stored = await listSegments();
    while (!exited && stored.length < 3) {
      await new Promise((r) => setTimeout(r, 50));
      stored = await listSegments();
    }
    first.child.kill('SIGINT');
    const interrupted = await first.done;
    assert.equal(
      interrupted.signal,
      'SIGINT',
      `ocx ended before Ctrl-C (exit ${interrupted.code}, ${stored.length} segments)`,
    );
    assert.equal(interrupted.stdout, '', 'an interrupted upload reports no object');
    stored = await listSegments(); // the one in flight when Ctrl-C came may have landed too
    assert.ok(stored.length >= 3 && stored.length < 25, `${stored.length} of 25 segments stored before Ctrl-C`);
    const noObject = await runOcx(['object', 'show', container, 'big.bin', '--os-cloud', CLOUD], env);
    assert.equal(noObject.code, 1, 'no manifest yet: the object does not exist');
    assert.match(noObject.stderr, /\[NOT_FOUND\]/);

    const second = await spawnOcx(upload(4), { ...env, HOME: dir }).done;
    assert.equal(second.code, 0, second.stderr);
    const [row] = JSON.parse(second.stdout) as Array<{ object: string; etag: string }>;
    assert.equal(row?.object, 'big.bin');
    const all = await listSegments();
    assert.equal(all.length, 25);
    // The segments stored before Ctrl-C were not sent again: same name, hash and time stamp.
    for (const seg of stored)
      assert.ok(
        all.some((x) => x.join() === seg.join()),
        `segment ${seg[0]} was sent again`,
      );
    t.diagnostic(`${stored.length} of 25 segments stored before Ctrl-C`);
    const sentAgain = all.filter((x) => !stored.some((seg) => seg.join() === x.join())).length;
    assert.equal(sentAgain, 25 - stored.length);
    const resumed = { etag: row!.etag };

    const show = await runOcx(['object', 'show', container, 'big.bin', '--os-cloud', CLOUD, '-f', 'json'], env);
    assert.equal(show.code, 0, show.stderr);
    const shown = JSON.parse(show.stdout) as Record<string, string>;
    assert.equal(shown['content-length'], String(100 * MiB));
    assert.equal(shown.etag, `"${resumed.etag}"`, 'real Swift reports the SLO ETag the upload computed (quoted)');

    // The same object as python-openstackclient shows and lists it (IDs, sizes, hashes: equal field by field).
    assert.deepEqual(shown, await openstack(['object', 'show', container, 'big.bin']));
    const ocxList = await runOcx(['object', 'list', container, '--long', '--os-cloud', CLOUD, '-f', 'json'], env);
    assert.deepEqual(JSON.parse(ocxList.stdout), await openstack(['object', 'list', container, '--long']));
    const ocxShowC = await runOcx(['container', 'show', container, '--os-cloud', CLOUD, '-f', 'json'], env);
    // Counts may move if the container server deferred an update (async pending): compare the rest exactly.
    const withoutCounts = (o: unknown) => {
      const { bytes_used: _b, object_count: _c, ...rest } = o as Record<string, unknown>;
      return rest;
    };
    const ocxContainer = JSON.parse(ocxShowC.stdout) as Record<string, string>;
    assert.deepEqual(withoutCounts(ocxContainer), withoutCounts(await openstack(['container', 'show', container])));
    assert.match(ocxContainer.object_count ?? '', /^[0-9]+$/);

    // Uploading the unchanged file again through the CLI keeps the stored segments (none is sent again).
    const segments = await collect(store.listObjects(`${container}_segments`, { query: { prefix: 'big.bin/' } }));
    const again = await runOcx(
      [
        'object',
        'create',
        container,
        src,
        '--name',
        'big.bin',
        '--segment-size',
        String(segmentSize),
        '--os-cloud',
        CLOUD,
        '-f',
        'json',
      ],
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Array<{ etag: string }>)[0]?.etag, resumed.etag);
    const segmentsLater = await collect(store.listObjects(`${container}_segments`, { query: { prefix: 'big.bin/' } }));
    assert.deepEqual(
      segmentsLater.map((o) => [o.name, o.last_modified]),
      segments.map((o) => [o.name, o.last_modified]),
    );

    const dest = join(dir, 'big.copy');
    const save = await runOcx(
      ['object', 'save', container, 'big.bin', '--file', dest, '--threads', '4', '--os-cloud', CLOUD],
      env,
    );
    assert.equal(save.code, 0, save.stderr);
    assert.equal(await sha256(dest), await sha256(src));

    const del = await runOcx(['object', 'delete', container, 'big.bin', '--os-cloud', CLOUD], env);
    assert.equal(del.code, 0, del.stderr);
    const left = await collect(store.listObjects(`${container}_segments`, { query: { prefix: 'big.bin/' } }));
    assert.deepEqual(left, [], 'deleting the SLO removes its segments');
  });

  it('a plain object downloads in parallel ranges, checked against its ETag', async () => {
    const src = join(dir, 'plain.bin');
    await makeFile(src, 6);
    const up = await uploadFile(store, container, 'plain.bin', src);
    assert.equal(up.slo, false);
    const dest = join(dir, 'plain.copy');
    const down = await downloadFile(store, container, 'plain.bin', dest, { partSize: MiB, threads: 3 });
    assert.equal(down.parts, 6);
    assert.equal(down.verified, true);
    assert.equal(await sha256(dest), await sha256(src));
  });

  it('replacing a large object deletes the segments of its previous version', async () => {
    const src = join(dir, 'versions.bin');
    const segs = async () =>
      (await collect(store.listObjects(`${container}_segments`, { query: { prefix: 'versions.bin/' } }))).map(
        (o) => o.name,
      );
    await makeFile(src, 3);
    await uploadFile(store, container, 'versions.bin', src, { segmentSize: MiB });
    const v1 = await segs();
    assert.equal(v1.length, 3);
    await makeFile(src, 3);
    utimesSync(src, new Date(), new Date(Date.now() + 5000));
    const v2 = await uploadFile(store, container, 'versions.bin', src, { segmentSize: MiB });
    assert.equal(v2.staleSegmentsDeleted, 3);
    const after2 = await segs();
    assert.equal(after2.length, 3);
    assert.ok(after2.every((n) => !v1.includes(n)));
    const dest = join(dir, 'versions.copy');
    const down = await downloadFile(store, container, 'versions.bin', dest);
    assert.equal(down.verified, true);
    assert.equal(await sha256(dest), await sha256(src));
  });
});
