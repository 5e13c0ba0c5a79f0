/**
 * The cloud layer's object-store tests, written once against `CloudLayer` and run on each backend: REST to
 * devcloud's Swift (cloud-objects.test.ts) and gRPC through an OCX gateway to the same devcloud (packages/gateway/
 * test/sdk-backend-writes.test.ts): containers and objects normalized with location, get → null and delete →
 * false when missing, idempotent container create, pages. Objects are put by REST (`setupObjects`): the cloud
 * layer has no object upload of its own.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { CloudLayer } from '../src/cloud/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { isOcxError } from '../src/errors/ocx-error.ts';
import type { ObjectStoreClient } from '../src/services/object-store.ts';

export interface ObjectsBackend {
  /** The cloud layer under test: devcloud's sp1 as its demo user, through this backend. */
  cloud(): CloudLayer;
  /** The name resources of that cloud carry in `location.cloud`. */
  cloudName: string;
  /** REST access to the same project's Swift, to put objects. */
  setupObjects: ObjectStoreClient;
  stop(): Promise<void>;
}

export function objectCases(label: string, start: () => Promise<ObjectsBackend>): void {
  describe(`cloud layer: object store, ${label}`, { timeout: 60_000 }, () => {
    let b: ObjectsBackend;
    let cloud: CloudLayer | undefined;
    const c = (): CloudLayer => {
      cloud ??= b.cloud();
      return cloud;
    };
    before(async () => {
      b = await start();
    });
    after(async () => {
      await cloud?.close();
      await b?.stop();
    });

    test('containers: create is idempotent, get by name, listed with counts, delete → true then false', async () => {
      assert.equal(await c().getContainer('co-box'), null);
      const made = await c().createContainer('co-box', { metadata: { owner: 'ocx' } });
      assert.equal(made.name, 'co-box');
      assert.equal(made.count, 0);
      assert.equal(made.location.cloud, b.cloudName);
      assert.equal(made.metadata.owner, 'ocx');
      const again = await c().createContainer('co-box', { metadata: { owner: 'someone-else' } });
      assert.equal(again.metadata.owner, 'ocx', 'an existing container is returned unchanged');

      const body = Buffer.from('hello from the cloud layer\n');
      await b.setupObjects.putObject('co-box', 'dir/a.txt', body, {
        contentType: 'text/plain',
        metadata: { kind: 'greeting' },
      });
      assert.equal((await c().getContainer('co-box'))?.metadata.owner, 'ocx');
      await c().setContainerMetadata('co-box', { color: 'blue' });
      const recoloured = await c().getContainer('co-box');
      assert.deepEqual([recoloured?.metadata.color, recoloured?.metadata.owner], ['blue', 'ocx']);
      await assert.rejects(
        c().setContainerMetadata('co-no-such-box', { color: 'red' }),
        (e: unknown) => isOcxError(e) && e.code === ErrorCode.NOT_FOUND,
      );
      assert.equal(await c().getContainer('co-no-such-box'), null);
      await b.setupObjects.putObject('co-box', 'b.bin', Buffer.from([1, 2, 3]));

      const listed = (await c().listContainers()).find((x) => x.name === 'co-box');
      assert.ok(listed, 'co-box is listed');
      assert.equal(listed.count, 2);
      assert.equal(listed.bytes, body.length + 3);
      assert.deepEqual(
        (await c().listContainers({ prefix: 'co-' })).map((c) => c.name),
        ['co-box'],
      );

      const objects = await c().listObjects('co-box');
      assert.deepEqual(
        objects.map((o) => [o.name, o.container, o.bytes]),
        [
          ['b.bin', 'co-box', 3],
          ['dir/a.txt', 'co-box', body.length],
        ],
      );
      assert.equal(objects[1]?.hash, createHash('md5').update(body).digest('hex'));
      assert.deepEqual(
        (await c().listObjects('co-box', { prefix: 'dir/' })).map((o) => o.name),
        ['dir/a.txt'],
      );

      const meta = await c().getObjectMetadata('co-box', 'dir/a.txt');
      assert.equal(meta?.bytes, body.length);
      assert.equal(meta?.content_type, 'text/plain');
      assert.deepEqual(meta?.metadata, { kind: 'greeting' });
      assert.equal(meta?.hash, createHash('md5').update(body).digest('hex'));
      assert.equal(await c().getObjectMetadata('co-box', 'missing'), null);
      assert.equal(await c().getObjectMetadata('no-such-box', 'x'), null);

      // Swift refuses to delete a container that still holds objects: that is an error, not "false".
      await assert.rejects(
        c().deleteContainer('co-box'),
        (e: unknown) => isOcxError(e) && e.code === ErrorCode.CONFLICT,
      );
      assert.equal(await c().deleteObject('co-box', 'dir/a.txt'), true);
      assert.equal(await c().deleteObject('co-box', 'dir/a.txt'), false);
      assert.equal(await c().deleteObject('co-box', 'b.bin'), true);
      assert.equal(await c().deleteContainer('co-box'), true);
      assert.equal(await c().deleteContainer('co-box'), false);
      assert.equal(await c().getContainer('co-box'), null);
    });

    test('with a delimiter, names roll up into pseudo-folders, each where Swift lists it', async () => {
      await c().createContainer('co-tree');
      const all = ['a.txt', 'a/x', 'a/y/z', 'b', 'c/d'];
      for (const n of all) await b.setupObjects.putObject('co-tree', n, Buffer.from(n));
      const names = async (o: { prefix?: string; delimiter?: string }) =>
        (await c().listObjectEntries('co-tree', o)).map((e) => ('subdir' in e ? `${e.subdir} (folder)` : e.name));
      assert.deepEqual(await names({ delimiter: '/' }), ['a.txt', 'a/ (folder)', 'b', 'c/ (folder)']);
      assert.deepEqual(await names({ prefix: 'a/', delimiter: '/' }), ['a/x', 'a/y/ (folder)']);
      assert.deepEqual(await names({}), all);
      for (const n of all) await c().deleteObject('co-tree', n);
      await c().deleteContainer('co-tree');
    });

    test('listing the objects of a missing container is NOT_FOUND', async () => {
      await assert.rejects(
        c().listObjects('co-nowhere'),
        (e: unknown) => isOcxError(e) && e.code === ErrorCode.NOT_FOUND,
      );
    });

    test("one page at a time: limit, marker (the caller's own, not restarted), prefix; next marker while more", async () => {
      await c().createContainer('co-pages');
      for (const n of ['p1', 'p2', 'p3', 'q1']) await b.setupObjects.putObject('co-pages', n, Buffer.from(n));
      const names = (r: { items: { name: string }[]; nextMarker: string | null }) => [
        r.items.map((x) => x.name),
        r.nextMarker,
      ];
      assert.deepEqual(names(await c().listObjectsPage('co-pages', { limit: 2 })), [['p1', 'p2'], 'p2']);
      assert.deepEqual(names(await c().listObjectsPage('co-pages', { limit: 2, marker: 'p2' })), [['p3', 'q1'], null]);
      assert.deepEqual(names(await c().listObjectsPage('co-pages', { prefix: 'p', marker: 'p1' })), [
        ['p2', 'p3'],
        null,
      ]);
      await c().createContainer('co-pages-2');
      assert.deepEqual(names(await c().listContainersPage({ prefix: 'co-pages', limit: 1 })), [
        ['co-pages'],
        'co-pages',
      ]);
      assert.deepEqual(names(await c().listContainersPage({ prefix: 'co-pages', marker: 'co-pages' })), [
        ['co-pages-2'],
        null,
      ]);
      for (const n of ['p1', 'p2', 'p3', 'q1']) await c().deleteObject('co-pages', n);
      await c().deleteContainer('co-pages');
      await c().deleteContainer('co-pages-2');
    });
  });
}
