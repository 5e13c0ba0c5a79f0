/**
 * Object-store commands and transfers against devcloud's Swift: containers and objects with OSC's columns, a
 * 100 MiB static large object upload interrupted and resumed (only the missing segments are sent again), parallel
 * ranged downloads checked by sha256 against the source, and the progress bar's TTY/format rules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import {
  collect,
  createSession,
  downloadFile,
  ErrorCode,
  isOcxError,
  loadCloudsConfig,
  ObjectStoreClient,
  type Session,
  uploadFile,
} from '@ocx/sdk';
import type { CliContext } from '../src/context.ts';
import { main } from '../src/main.ts';
import { runOcx } from './minicloud.ts';

const SCRIPT = '/usr/bin/script';
const run = promisify(execFile);

const MiB = 1024 * 1024;

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A file of `mib` MiB whose every MiB differs (so segments have distinct ETags), written 1 MiB at a time. */
async function makeFile(path: string, mib: number, seed: string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      const block = Buffer.alloc(MiB);
      const stamp = createHash('sha256').update(`${seed}-${i}`).digest();
      for (let off = 0; off < MiB; off += stamp.length) stamp.copy(block, off);
      await fh.write(block, 0, MiB, i * MiB);
    }
  } finally {
    await fh.close();
  }
}

describe('ocx object store on devcloud', { timeout: 240_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let env: Record<string, string>;
  let session: Session;
  let store: ObjectStoreClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cli-objects-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, logLevel: 'silent' });
    env = { OS_CLIENT_CONFIG_FILE: cloudsYamlPath, HOME: dir };
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    session = createSession(config.getCloud('sp1'));
    store = new ObjectStoreClient(session.client('object-store'));
  });
  after(async () => {
    await session?.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ocx = (args: string[]) => runOcx([...args, '--os-cloud', 'sp1'], env);

  it('container create/list/show/delete print OSC columns', async () => {
    const created = await ocx(['container', 'create', 'photos', 'docs', '-f', 'json']);
    assert.equal(created.code, 0, created.stderr);
    const rows = JSON.parse(created.stdout) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((r) => Object.keys(r)),
      [
        ['account', 'container', 'x-trans-id'],
        ['account', 'container', 'x-trans-id'],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.container),
      ['photos', 'docs'],
    );
    assert.match(rows[0]?.account ?? '', /^AUTH_/);

    const list = await ocx(['container', 'list', '--long', '-f', 'json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [
      { Name: 'docs', Bytes: 0, Count: 0 },
      { Name: 'photos', Bytes: 0, Count: 0 },
    ]);

    const show = await ocx(['container', 'show', 'photos', '-f', 'json']);
    assert.equal(show.code, 0, show.stderr);
    const shown = JSON.parse(show.stdout) as Record<string, string>;
    assert.equal(shown.container, 'photos');
    assert.equal(shown.object_count, '0');
    assert.equal(shown.bytes_used, '0');

    const del = await ocx(['container', 'delete', 'docs']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, '');
    const missing = await ocx(['container', 'show', 'docs']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[NOT_FOUND\]/);
  });

  it('a small file goes up as one PUT and comes back identical; list/show/delete', async () => {
    const src = join(dir, 'hello.txt');
    writeFileSync(src, 'hello object store\n');
    const md5 = createHash('md5').update(readFileSync(src)).digest('hex');
    const up = await ocx(['object', 'create', 'photos', src, '--name', 'greeting.txt', '-f', 'json']);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(JSON.parse(up.stdout), [{ object: 'greeting.txt', container: 'photos', etag: md5 }]);

    const list = await ocx(['object', 'list', 'photos', '--long', '-f', 'json']);
    const listed = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.Name, 'greeting.txt');
    assert.equal(listed[0]?.Bytes, 19);
    assert.equal(listed[0]?.Hash, md5);

    const show = await ocx(['object', 'show', 'photos', 'greeting.txt', '-f', 'json']);
    const shown = JSON.parse(show.stdout) as Record<string, string>;
    assert.equal(shown['content-length'], '19');
    assert.equal(shown.etag, md5);
    assert.equal(shown.object, 'greeting.txt');

    const dest = join(dir, 'greeting-copy.txt');
    const save = await ocx(['object', 'save', 'photos', 'greeting.txt', '--file', dest]);
    assert.equal(save.code, 0, save.stderr);
    assert.equal(readFileSync(dest, 'utf8'), 'hello object store\n');

    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const upEmpty = await ocx(['object', 'create', 'photos', empty, '--name', 'empty', '-f', 'value', '-c', 'etag']);
    assert.equal(upEmpty.code, 0, upEmpty.stderr);
    assert.equal(upEmpty.stdout, 'd41d8cd98f00b204e9800998ecf8427e\n');
    const saveEmpty = await ocx(['object', 'save', 'photos', 'empty', '--file', join(dir, 'empty.copy')]);
    assert.equal(saveEmpty.code, 0, saveEmpty.stderr);
    assert.equal(readFileSync(join(dir, 'empty.copy'), 'utf8'), '');
    assert.equal((await ocx(['object', 'delete', 'photos', 'empty'])).code, 0);

    // Without --file, the object name is the path (relative to the working directory), folders made as needed.
    const nested = await ocx(['object', 'create', 'photos', src, '--name', 'notes/2026/hello.txt']);
    assert.equal(nested.code, 0, nested.stderr);
    const saved = await ocx(['object', 'save', 'photos', 'notes/2026/hello.txt']); // runOcx's cwd: dir
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(readFileSync(join(dir, 'notes/2026/hello.txt'), 'utf8'), 'hello object store\n');
    assert.equal((await ocx(['object', 'delete', 'photos', 'notes/2026/hello.txt'])).code, 0);

    const del = await ocx(['object', 'delete', 'photos', 'greeting.txt']);
    assert.equal(del.code, 0, del.stderr);
    const gone = await ocx(['object', 'save', 'photos', 'greeting.txt', '--file', join(dir, 'nothing')]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /\[NOT_FOUND\]/);
  });

  it('a 100 MiB upload interrupted after 3 segments resumes sending only the rest; the download matches by sha256', async () => {
    const src = join(dir, 'big.bin');
    await makeFile(src, 100, 'big');
    const segmentSize = 8 * MiB; // 13 segments
    const stop = new AbortController();
    const first = await uploadFile(store, 'photos', 'big.bin', src, {
      segmentSize,
      threads: 1,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.partsDone >= 3) stop.abort();
      },
    }).catch((err: unknown) => err);
    assert.ok(isOcxError(first) && first.code === ErrorCode.CANCELLED, `interrupted: ${String(first)}`);
    const storedBefore = await collect(store.listObjects('photos_segments', { query: { prefix: 'big.bin/slo/' } }));
    assert.ok(storedBefore.length >= 3 && storedBefore.length < 13, `${storedBefore.length} segments stored`);
    await assert.rejects(store.headObject('photos', 'big.bin'), /NOT_FOUND|Not Found/i);

    const second = await uploadFile(store, 'photos', 'big.bin', src, { segmentSize, threads: 4 });
    assert.equal(second.slo, true);
    assert.equal(second.segments, 13);
    assert.ok(second.bytesSkipped >= 3 * segmentSize, `skipped ${second.bytesSkipped}`);
    assert.equal(second.bytesSent + second.bytesSkipped, 100 * MiB);
    assert.ok(second.bytesSent < 100 * MiB - 3 * segmentSize + 1, `sent ${second.bytesSent}`);

    // The CLI re-uploading the unchanged file sends no segment again: the stored ones keep their timestamps.
    const segmentsAfter = await collect(store.listObjects('photos_segments', { query: { prefix: 'big.bin/slo/' } }));
    const again = await ocx([
      'object',
      'create',
      'photos',
      src,
      '--name',
      'big.bin',
      '--segment-size',
      String(segmentSize),
      '-f',
      'json',
    ]);
    assert.equal(again.code, 0, again.stderr);
    const [row] = JSON.parse(again.stdout) as Array<{ etag: string }>;
    assert.equal(row?.etag, second.etag);
    const segmentsLater = await collect(store.listObjects('photos_segments', { query: { prefix: 'big.bin/slo/' } }));
    assert.deepEqual(
      segmentsLater.map((s) => [s.name, s.last_modified]),
      segmentsAfter.map((s) => [s.name, s.last_modified]),
    );

    const show = await ocx(['object', 'show', 'photos', 'big.bin', '-f', 'json']);
    const shown = JSON.parse(show.stdout) as Record<string, string>;
    assert.equal(shown['content-length'], String(100 * MiB));
    assert.equal(shown.etag, `"${second.etag}"`, 'an SLO ETag is shown as Swift sends it, quoted (as OSC does)');

    const dest = join(dir, 'big.copy');
    const save = await ocx(['object', 'save', 'photos', 'big.bin', '--file', dest, '--threads', '4']);
    assert.equal(save.code, 0, save.stderr);
    assert.equal(await sha256(dest), await sha256(src));
    rmSync(dest);

    const del = await ocx(['object', 'delete', 'photos', 'big.bin']);
    assert.equal(del.code, 0, del.stderr);
    const left = await collect(store.listObjects('photos_segments', { query: { prefix: 'big.bin/' } }));
    assert.deepEqual(left, [], 'deleting the SLO removes its segments');
    rmSync(src);
  });

  it('a plain object downloads in parallel ranges at the right offsets, checked against its ETag', async () => {
    const src = join(dir, 'plain.bin');
    await makeFile(src, 10, 'plain');
    const up = await uploadFile(store, 'photos', 'plain.bin', src, { segmentSize: 64 * MiB });
    assert.equal(up.slo, false);
    const dest = join(dir, 'plain.copy');
    const seen: number[] = [];
    const down = await downloadFile(store, 'photos', 'plain.bin', dest, {
      partSize: MiB + 7,
      threads: 3,
      onProgress: (p) => seen.push(p.bytesDone),
    });
    assert.equal(down.parts, 10);
    assert.equal(down.verified, true);
    assert.equal(down.bytesReceived, 10 * MiB);
    assert.equal(seen.at(-1), 10 * MiB);
    assert.equal(await sha256(dest), await sha256(src));

    const again = await uploadFile(store, 'photos', 'plain.bin', src, { segmentSize: 64 * MiB });
    assert.equal(again.bytesSent, 0, 'an unchanged small file is not sent again');
    await store.deleteObject('photos', 'plain.bin');
  });

  it('replacing a large object deletes the segments of its previous version, and only those', async () => {
    const src = join(dir, 'versions.bin');
    const segs = async () =>
      (await collect(store.listObjects('photos_segments', { query: { prefix: 'versions.bin/' } }))).map((o) => o.name);
    await makeFile(src, 3, 'v1');
    const v1 = await uploadFile(store, 'photos', 'versions.bin', src, { segmentSize: MiB });
    assert.equal(v1.staleSegmentsDeleted, 0);
    const v1Segments = await segs();
    assert.equal(v1Segments.length, 3);

    await makeFile(src, 3, 'v2');
    utimesSync(src, new Date(), new Date(Date.now() + 5000)); // a new version has a new mtime, so new segment names
    const v2 = await uploadFile(store, 'photos', 'versions.bin', src, { segmentSize: MiB });
    assert.equal(v2.staleSegmentsDeleted, 3);
    const v2Segments = await segs();
    assert.equal(v2Segments.length, 3);
    assert.ok(v2Segments.every((n) => !v1Segments.includes(n)));

    writeFileSync(src, 'now small');
    const v3 = await uploadFile(store, 'photos', 'versions.bin', src, { segmentSize: MiB });
    assert.equal(v3.slo, false);
    assert.equal(v3.staleSegmentsDeleted, 3);
    assert.deepEqual(await segs(), []);
    const dest = join(dir, 'versions.copy');
    await downloadFile(store, 'photos', 'versions.bin', dest);
    assert.equal(readFileSync(dest, 'utf8'), 'now small');
    await store.deleteObject('photos', 'versions.bin');
    rmSync(src);
  });

  it('reaches the service provider’s Swift through K2K (the demo project’s account, as direct)', async () => {
    const k2k = [
      '--os-cloud',
      'idp',
      '--os-service-provider',
      'sp1',
      '--os-remote-project-name',
      'demo',
      '--os-remote-project-domain-name',
      'Default',
    ];
    const made = await runOcx([...k2k, 'container', 'create', 'via-k2k', '-f', 'json'], env);
    assert.equal(made.code, 0, made.stderr);
    const direct = await ocx(['container', 'show', 'via-k2k', '-f', 'json']);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(
      (JSON.parse(direct.stdout) as { account: string }).account,
      (JSON.parse(made.stdout) as Array<{ account: string }>)[0]?.account,
    );
    assert.equal((await ocx(['container', 'delete', 'via-k2k'])).code, 0);
  });

  it('draws a progress bar on stderr only for a terminal and a human format', async () => {
    const src = join(dir, 'bar.bin');
    await makeFile(src, 3, 'bar');
    const run = async (args: string[], tty: boolean) => {
      let stdout = '';
      let stderr = '';
      const clean: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) clean[k] = v;
      const ctx: CliContext = {
        env: { ...clean, ...env },
        cwd: dir,
        errIsTTY: tty,
        out: (t) => {
          stdout += t;
        },
        err: (t) => {
          stderr += t;
        },
        exitCode: 0,
      };
      const code = await main([...args, '--os-cloud', 'sp1'], ctx);
      return { code, stdout, stderr };
    };
    const create = ['object', 'create', 'photos', src, '--name', 'bar.bin', '--segment-size', String(MiB)];
    const table = await run(create, true);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stderr, /^\rupload \[/);
    assert.match(table.stderr, /100% 3\.0 MiB\/3\.0 MiB .*\n$/);
    assert.match(table.stdout, /\| object +\| container +\| etag +\|/);
    for (const [args, tty] of [
      [[...create, '-f', 'json'], true],
      [[...create, '-f', 'value'], true],
      [[...create, '-f', 'yaml'], true],
      [[...create, '-f', 'csv'], true],
      [[...create, '--no-progress'], true],
      [create, false],
    ] as const) {
      const r = await run([...args], tty);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', `no bar for ${args.join(' ')} (tty ${tty})`);
    }
    rmSync(src);
  });

  it('on a real terminal (a pty from script(1)) the spawned ocx draws the bar; with -f json it does not', async () => {
    // The in-process test above sets errIsTTY itself; this one checks that ocx reads it from the terminal it runs in.
    assert.ok(existsSync(SCRIPT), `${SCRIPT} (util-linux) is missing`);
    const src = join(dir, 'pty.bin');
    await makeFile(src, 3, 'pty');
    const ocx = new URL('../bin/ocx.js', import.meta.url).pathname;
    const inPty = async (extra: string[]) => {
      const argv = [process.execPath, ocx, 'object', 'create', 'photos', src, '--name', 'pty.bin']
        .concat(['--segment-size', String(MiB), '--os-cloud', 'sp1', ...extra])
        .map((a) => `'${a}'`)
        .join(' ');
      // script -q -e -c CMD /dev/null: CMD gets a pty as stdin/stdout/stderr; what it writes comes back on stdout
      const r = await run(SCRIPT, ['-q', '-e', '-c', argv, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '/usr/bin', HOME: dir, ...env },
        timeout: 60_000,
      });
      return r.stdout.replace(/\r\n/g, '\n');
    };
    const table = await inPty([]);
    assert.match(table, /\rupload \[#+\] 100% 3\.0 MiB\/3\.0 MiB/);
    assert.match(table, /\| pty\.bin +\| photos +\|/);
    const json = await inPty(['-f', 'json']);
    assert.doesNotMatch(json, /upload \[/);
    assert.equal((JSON.parse(json) as Array<{ object: string }>)[0]?.object, 'pty.bin');
    rmSync(src);
  });
});
