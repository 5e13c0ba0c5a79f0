// Object storage and image streaming through the thin clients against devcloud's Swift and Glance over HTTP.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { loadCloudsConfig } from '../src/config/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { isOcxError } from '../src/errors/ocx-error.ts';
import { collect, ImageClient, ObjectStoreClient } from '../src/services/index.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';

function sink(): Writable & { data(): Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c: Buffer, _e, done) {
      chunks.push(c);
      done();
    },
  }) as Writable & { data(): Buffer };
  w.data = () => Buffer.concat(chunks);
  return w;
}

describe('service clients on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let session: Session;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-svc-dc-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    session = createSession(config.getCloud('sp1'));
  });
  after(async () => {
    await session?.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('object store: containers paged by marker, streamed put, Range, metadata, copy, prefix/delimiter, delete', async () => {
    const swift = new ObjectStoreClient(session.client('object-store'));
    for (const c of ['c-a', 'c-b', 'c-c']) await swift.createContainer(c, { metadata: { owner: 'ocx' } });
    assert.deepEqual(
      (await collect(swift.listContainers({ pageSize: 2 }))).map((c) => c.name),
      ['c-a', 'c-b', 'c-c'],
    );
    assert.equal((await swift.getContainer('c-a')).metadata.owner, 'ocx');

    const body = Buffer.from('0123456789abcdefghij');
    const etag = await swift.putObject('c-a', 'dir/one.txt', Readable.from([body.subarray(0, 7), body.subarray(7)]), {
      contentType: 'text/plain',
      metadata: { color: 'blue' },
    });
    assert.equal(etag, createHash('md5').update(body).digest('hex'));
    await swift.putObject('c-a', 'dir/two.txt', Buffer.from('2'));
    await swift.putObject('c-a', 'top.txt', Buffer.from('t'));

    const out = sink();
    const ranged = await swift.downloadObject('c-a', 'dir/one.txt', out, { range: { start: 10, end: 14 } });
    assert.equal(ranged.status, 206);
    assert.equal(out.data().toString(), 'abcde');
    const tail = sink();
    await swift.downloadObject('c-a', 'dir/one.txt', tail, { range: { suffix: 3 } });
    assert.equal(tail.data().toString(), 'hij');

    const stat = await swift.headObject('c-a', 'dir/one.txt');
    assert.equal(stat.contentLength, body.length);
    assert.equal(stat.metadata.color, 'blue');
    await swift.setObjectMetadata('c-a', 'dir/one.txt', { color: 'red' });
    assert.equal((await swift.headObject('c-a', 'dir/one.txt')).metadata.color, 'red');

    await swift.copyObject('c-a', 'dir/one.txt', { container: 'c-b', name: 'copied.txt' });
    const copied = sink();
    await swift.downloadObject('c-b', 'copied.txt', copied);
    assert.ok(copied.data().equals(body));

    const listing = await collect(swift.listObjects('c-a', { query: { delimiter: '/' }, pageSize: 1 }));
    assert.deepEqual(
      listing.map((o) => o.name ?? o.subdir),
      ['dir/', 'top.txt'],
    );
    assert.deepEqual(
      (await collect(swift.listObjects('c-a', { query: { prefix: 'dir/' } }))).map((o) => o.name),
      ['dir/one.txt', 'dir/two.txt'],
    );

    await swift.deleteObject('c-b', 'copied.txt');
    await assert.rejects(swift.headObject('c-b', 'copied.txt'), (e: unknown) => isOcxError(e, ErrorCode.NOT_FOUND));
    await assert.rejects(swift.deleteContainer('c-a'), (e: unknown) => isOcxError(e, ErrorCode.CONFLICT));
  });

  test('image: 3 MiB streamed up from an async iterable and back down, checksums match', async () => {
    const glance = new ImageClient(session.client('image'));
    const img = await glance.createImage({ name: 'streamed', disk_format: 'raw', container_format: 'bare' });
    const chunk = Buffer.alloc(256 * 1024);
    const hash = createHash('md5');
    async function* source() {
      for (let i = 0; i < 12; i++) {
        chunk.fill(i);
        hash.update(chunk);
        yield Buffer.from(chunk);
      }
    }
    await glance.uploadImageData(img.id, source());
    const md5 = hash.digest('hex');
    const after = await glance.getImage(img.id);
    assert.equal(after.status, 'active');
    assert.equal(after.size, 12 * chunk.length);
    assert.equal(after.checksum, md5);
    const out = sink();
    const { bytes } = await glance.downloadImageData(img.id, out);
    assert.equal(bytes, 12 * chunk.length);
    assert.equal(createHash('md5').update(out.data()).digest('hex'), md5);
    await glance.deleteImage(img.id);
    await assert.rejects(glance.getImage(img.id), (e: unknown) => isOcxError(e, ErrorCode.NOT_FOUND));
  });
});
