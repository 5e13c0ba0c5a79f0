// Contract: Glance v2 streaming upload and download (8 MiB, never whole in memory on our side), checksum,
// tags, properties, and the Glance error for a missing image.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, ImageClient, isOcxError } from '@ocx/sdk';
import { pseudoRandomChunks } from './fixtures.ts';
import { eventually, startTarget, type Target } from './target.ts';

const SIZE = 8 * 1024 * 1024;

describe('images up and down', () => {
  let t: Target;
  let images: ImageClient;
  before(async () => {
    t = await startTarget();
    images = new ImageClient(t.session('sp1').client('image'));
  });
  after(() => t.stop());

  it('streams 8 MiB up and down with matching md5, size and Content-MD5', async () => {
    const md5 = createHash('md5');
    for (const c of pseudoRandomChunks(SIZE)) md5.update(c);
    const expected = md5.digest('hex');
    const img = await images.createImage({
      name: `${t.prefix}-stream`,
      disk_format: 'raw',
      container_format: 'bare',
    });
    try {
      assert.equal(img.status, 'queued');
      await images.uploadImageData(img.id, Readable.from(pseudoRandomChunks(SIZE)), { size: SIZE });
      const active = await eventually('image active', t.settleMs, async () => {
        const cur = await images.getImage(img.id);
        return cur.status === 'active' ? cur : undefined;
      });
      assert.equal(active.size, SIZE);
      assert.equal(active.checksum, expected);
      const got = createHash('md5');
      let bytes = 0;
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          got.update(chunk);
          bytes += chunk.length;
          done();
        },
      });
      const res = await images.downloadImageData(img.id, sink);
      assert.equal(bytes, SIZE);
      assert.equal(res.bytes, SIZE);
      assert.equal(got.digest('hex'), expected);
      if (res.contentMd5) assert.equal(res.contentMd5, expected);
    } finally {
      await images.deleteImage(img.id).catch(() => {});
    }
  });

  it('tags and properties round-trip; a filter by tag finds the image', async () => {
    const img = await images.createImage({ name: `${t.prefix}-tags`, disk_format: 'raw', container_format: 'bare' });
    try {
      await images.addTag(img.id, `${t.prefix}-tag`);
      await images.updateImage(img.id, [{ op: 'add', path: '/ocx_purpose', value: 'contract' }]);
      const cur = await images.getImage(img.id);
      assert.ok(cur.tags?.includes(`${t.prefix}-tag`));
      assert.equal((cur as Record<string, unknown>).ocx_purpose, 'contract');
      const found: string[] = [];
      for await (const i of images.listImages({ query: { tag: `${t.prefix}-tag` } })) found.push(i.id);
      assert.deepEqual(found, [img.id]);
      await images.removeTag(img.id, `${t.prefix}-tag`);
      assert.ok(!(await images.getImage(img.id)).tags?.includes(`${t.prefix}-tag`));
    } finally {
      await images.deleteImage(img.id).catch(() => {});
    }
  });

  it('a missing image is NOT_FOUND with status 404 and a request id', async () => {
    const err = await images.getImage('00000000-0000-4000-8000-000000000000').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.NOT_FOUND), `got ${String(err)}`);
    assert.equal(err.status, 404);
    assert.equal(err.cloud, 'sp1');
    assert.ok(err.requestId, 'request id captured');
  });
});
