/**
 * Streaming image transfers through the gateway on devcloud: client-streaming upload in chunks with the sha256
 * checked, server-streaming download in chunks of at most 1 MiB with the sha256 of what was sent, and the
 * refusals (wrong hash → image deleted; oversized chunk; no metadata first).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createSession, ObjectStoreClient } from '@ocx/sdk';
import { type PutObjectRequest, TransferService } from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
import { MAX_CHUNK } from '../src/services/transfers.ts';
import { type Env, startEnv, type UploadInit, uploadParts } from './helpers.ts';

describe('gateway: streaming image transfers', { timeout: 120_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv({}, ['idp', 'sp1']);
  });
  after(async () => {
    await env?.stop();
  });

  it('uploads in chunks and downloads the same bytes in chunks of at most 1 MiB', async () => {
    const client = createClient(TransferService, env.grpc);
    const data = randomBytes(3 * MAX_CHUNK + 12345);
    const up = await client.uploadImage(uploadParts('gw-stream-img', data, 256 * 1024), env.auth);
    assert.equal(up.bytes, BigInt(data.byteLength));
    assert.equal(up.image?.status, 'active');
    assert.equal(up.image?.location?.cloud, 'sp1');
    assert.equal(Number(up.image?.size), data.byteLength);

    const got: Buffer[] = [];
    let first: string | undefined;
    let sha: string | undefined;
    for await (const msg of client.downloadImage({ filter: { nameOrId: 'gw-stream-img' } }, env.auth)) {
      if (msg.part.case === 'image') first = msg.part.value.id;
      else if (msg.part.case === 'chunk') {
        assert.ok(msg.part.value.byteLength <= MAX_CHUNK);
        got.push(Buffer.from(msg.part.value));
      } else if (msg.part.case === 'sha256') sha = msg.part.value;
    }
    assert.equal(first, up.image?.id);
    assert.ok(Buffer.concat(got).equals(data), 'the downloaded bytes are the uploaded ones');
    assert.equal(sha, createHash('sha256').update(data).digest('hex'));
    const again = await client.uploadImage(uploadParts('gw-stream-img', data, 256 * 1024), env.auth);
    assert.equal(again.image?.id, up.image?.id, 'same name and hash: the existing image');
  });

  it('refuses a wrong sha256 (and deletes the image), an oversized chunk, and a stream without metadata', async () => {
    const client = createClient(TransferService, env.grpc);
    const data = randomBytes(100_000);
    const wrong = 'a'.repeat(64);
    await assert.rejects(client.uploadImage(uploadParts('gw-bad-img', data, 10_000, wrong), env.auth), (e) => {
      const c = ConnectError.from(e);
      return c.code === Code.InvalidArgument && /do not match/.test(c.message);
    });
    const { CloudService } = await import('@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb');
    const left = await createClient(CloudService, env.grpc).listImages(
      { filter: { nameOrId: 'gw-bad-img' } },
      env.auth,
    );
    assert.deepEqual(left.images, []);
    const big = randomBytes(MAX_CHUNK + 1);
    await assert.rejects(
      client.uploadImage(uploadParts('gw-big-chunk', big, big.byteLength), env.auth),
      (e) => ConnectError.from(e).code === Code.InvalidArgument,
    );
    async function* noMeta(): AsyncGenerator<UploadInit> {
      yield { part: { case: 'chunk', value: new Uint8Array(10) } };
    }
    await assert.rejects(
      client.uploadImage(noMeta(), env.auth),
      (e) => ConnectError.from(e).code === Code.InvalidArgument,
    );
    await assert.rejects(
      client.uploadImage(uploadParts('gw-noauth', data, 10_000)),
      (e) => ConnectError.from(e).code === Code.Unauthenticated,
    );
  });

  it('CreateTransferUrl: a Swift TempURL (HMAC-SHA256) that GETs and PUTs without a token', async () => {
    const client = createClient(TransferService, env.grpc);
    const direct = createSession(env.config.getCloud('sp1')); // the demo user's own sp1 login: the same project
    const swift = new ObjectStoreClient(direct.client('object-store'));
    const container = `gw-tu-${process.pid}`;
    await swift.createContainer(container);
    await swift.putObject(container, 'hello.txt', Buffer.from('hello through a temp url'));
    try {
      await assert.rejects(
        client.createTransferUrl({ location: { cloud: 'sp1' }, container, object: 'hello.txt' }, env.auth),
        (e) =>
          ConnectError.from(e).code === Code.FailedPrecondition && /Temp-URL key/.test(ConnectError.from(e).message),
      );
      const get = await client.createTransferUrl(
        { location: { cloud: 'sp1' }, container, object: 'hello.txt', setKeyIfMissing: true, expiresInSeconds: 600 },
        env.auth,
      );
      assert.equal(get.digest, 'sha256');
      assert.match(get.url, /temp_url_sig=[0-9a-f]{64}&temp_url_expires=\d+$/);
      assert.ok(Number(get.expiresAt) > Date.now() / 1000 + 500);
      const res = await fetch(get.url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello through a temp url');
      const tampered = await fetch(get.url.replace('hello.txt', 'other.txt'));
      assert.equal(tampered.status, 401);

      const put = await client.createTransferUrl(
        { location: { cloud: 'sp1' }, container, object: 'up.bin', method: 'PUT' },
        env.auth,
      );
      const body = randomBytes(4096);
      assert.equal((await fetch(put.url, { method: 'PUT', body })).status, 201);
      const back = await direct.client('object-store').get(`/${container}/up.bin`);
      assert.ok(Buffer.from(await back.bytes()).equals(body));
    } finally {
      for (const o of ['hello.txt', 'up.bin']) await swift.deleteObject(container, o).catch(() => undefined);
      await swift.deleteContainer(container).catch(() => undefined);
      await direct.close();
    }
  });

  it('PutObject / GetObject stream an object through to Swift and back, sha256 checked', async () => {
    const client = createClient(TransferService, env.grpc);
    const direct = createSession(env.config.getCloud('sp1'));
    const swift = new ObjectStoreClient(direct.client('object-store'));
    const container = `gw-obj-${process.pid}`;
    await swift.createContainer(container);
    const data = randomBytes(2 * MAX_CHUNK + 777);
    async function* put(
      object: string,
      sha256: string,
    ): AsyncGenerator<Omit<PutObjectRequest, '$typeName' | '$unknown'>> {
      yield {
        part: {
          case: 'metadata',
          value: {
            $typeName: 'ocx.cloud.v1.PutObjectMetadata',
            location: { $typeName: 'ocx.cloud.v1.Location', cloud: 'sp1', region: '', zone: '' },
            container,
            object,
            sha256,
            size: BigInt(data.byteLength),
            contentType: 'application/x-test',
            metadata: { origin: 'gateway' },
          },
        },
      };
      for (let off = 0; off < data.byteLength; off += 512 * 1024) {
        yield { part: { case: 'chunk', value: data.subarray(off, off + 512 * 1024) } };
      }
    }
    try {
      const sha = createHash('sha256').update(data).digest('hex');
      const up = await client.putObject(put('dir/blob.bin', sha), env.auth);
      assert.equal(up.bytes, BigInt(data.byteLength));
      assert.equal(up.etag, createHash('md5').update(data).digest('hex'));
      const got: Buffer[] = [];
      let info: { size: bigint; contentType: string } | undefined;
      let digest = '';
      for await (const m of client.getObject(
        { location: { cloud: 'sp1' }, container, object: 'dir/blob.bin' },
        env.auth,
      )) {
        if (m.part.case === 'info') info = m.part.value;
        else if (m.part.case === 'chunk') {
          assert.ok(m.part.value.byteLength <= MAX_CHUNK);
          got.push(Buffer.from(m.part.value));
        } else if (m.part.case === 'sha256') digest = m.part.value;
      }
      assert.equal(info?.size, BigInt(data.byteLength));
      assert.equal(info?.contentType, 'application/x-test');
      assert.ok(Buffer.concat(got).equals(data));
      assert.equal(digest, sha);
      await assert.rejects(client.putObject(put('bad.bin', 'b'.repeat(64)), env.auth), (e) => {
        return ConnectError.from(e).code === Code.InvalidArgument;
      });
      await assert.rejects(
        (async () => {
          for await (const _ of client.getObject(
            { location: { cloud: 'sp1' }, container, object: 'bad.bin' },
            env.auth,
          ));
        })(),
        (e) => ConnectError.from(e).code === Code.NotFound,
      );
    } finally {
      for (const o of ['dir/blob.bin', 'bad.bin']) await swift.deleteObject(container, o).catch(() => undefined);
      await swift.deleteContainer(container).catch(() => undefined);
      await direct.close();
    }
  });
});
