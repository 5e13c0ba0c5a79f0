// The cloud layer's object-store module against devcloud's Swift (in-process, loopback): containers and objects
// normalized with location, get → null and delete → false when missing, idempotent container create.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { Cloud } from '../src/cloud/index.ts';
import { loadCloudsConfig } from '../src/config/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { isOcxError } from '../src/errors/ocx-error.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';

describe('cloud layer: object store on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let session: Session;
  let cloud: Cloud;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cloud-obj-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    const config = loadCloudsConfig({
      files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    session = createSession(config.getCloud('sp1'));
    cloud = new Cloud(session);
  });
  after(async () => {
    await session?.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('containers: create is idempotent, get by name, listed with counts, delete → true then false', async () => {
    assert.equal(await cloud.getContainer('co-box'), null);
    const made = await cloud.createContainer('co-box', { metadata: { owner: 'ocx' } });
    assert.equal(made.name, 'co-box');
    assert.equal(made.count, 0);
    assert.equal(made.location.cloud, 'sp1');
    assert.equal(made.metadata.owner, 'ocx');
    const again = await cloud.createContainer('co-box', { metadata: { owner: 'someone-else' } });
    assert.equal(again.metadata.owner, 'ocx', 'an existing container is returned unchanged');

    const body = Buffer.from('hello from the cloud layer\n');
    await cloud.objectStore.putObject('co-box', 'dir/a.txt', body, { contentType: 'text/plain' });
    await cloud.objectStore.putObject('co-box', 'b.bin', Buffer.from([1, 2, 3]));

    const listed = (await cloud.listContainers()).find((c) => c.name === 'co-box');
    assert.ok(listed, 'co-box is listed');
    assert.equal(listed.count, 2);
    assert.equal(listed.bytes, body.length + 3);
    assert.deepEqual(
      (await cloud.listContainers({ prefix: 'co-' })).map((c) => c.name),
      ['co-box'],
    );

    const objects = await cloud.listObjects('co-box');
    assert.deepEqual(
      objects.map((o) => [o.name, o.container, o.bytes]),
      [
        ['b.bin', 'co-box', 3],
        ['dir/a.txt', 'co-box', body.length],
      ],
    );
    assert.equal(objects[1]?.hash, createHash('md5').update(body).digest('hex'));
    assert.deepEqual(
      (await cloud.listObjects('co-box', { prefix: 'dir/' })).map((o) => o.name),
      ['dir/a.txt'],
    );

    const meta = await cloud.getObjectMetadata('co-box', 'dir/a.txt');
    assert.equal(meta?.bytes, body.length);
    assert.equal(meta?.content_type, 'text/plain');
    assert.equal(meta?.hash, createHash('md5').update(body).digest('hex'));
    assert.equal(await cloud.getObjectMetadata('co-box', 'missing'), null);
    assert.equal(await cloud.getObjectMetadata('no-such-box', 'x'), null);

    // Swift refuses to delete a container that still holds objects: that is an error, not "false".
    await assert.rejects(
      cloud.deleteContainer('co-box'),
      (e: unknown) => isOcxError(e) && e.code === ErrorCode.CONFLICT,
    );
    assert.equal(await cloud.deleteObject('co-box', 'dir/a.txt'), true);
    assert.equal(await cloud.deleteObject('co-box', 'dir/a.txt'), false);
    assert.equal(await cloud.deleteObject('co-box', 'b.bin'), true);
    assert.equal(await cloud.deleteContainer('co-box'), true);
    assert.equal(await cloud.deleteContainer('co-box'), false);
    assert.equal(await cloud.getContainer('co-box'), null);
  });

  test('listing the objects of a missing container is NOT_FOUND', async () => {
    await assert.rejects(
      cloud.listObjects('co-nowhere'),
      (e: unknown) => isOcxError(e) && e.code === ErrorCode.NOT_FOUND,
    );
  });

  test("one page at a time: limit, marker (the caller's own, not restarted), prefix; next marker while more", async () => {
    await cloud.createContainer('co-pages');
    for (const n of ['p1', 'p2', 'p3', 'q1']) await cloud.objectStore.putObject('co-pages', n, Buffer.from(n));
    const names = (r: { items: { name: string }[]; nextMarker: string | null }) => [
      r.items.map((x) => x.name),
      r.nextMarker,
    ];
    assert.deepEqual(names(await cloud.listObjectsPage('co-pages', { limit: 2 })), [['p1', 'p2'], 'p2']);
    assert.deepEqual(names(await cloud.listObjectsPage('co-pages', { limit: 2, marker: 'p2' })), [['p3', 'q1'], null]);
    assert.deepEqual(names(await cloud.listObjectsPage('co-pages', { prefix: 'p', marker: 'p1' })), [
      ['p2', 'p3'],
      null,
    ]);
    await cloud.createContainer('co-pages-2');
    assert.deepEqual(names(await cloud.listContainersPage({ prefix: 'co-pages', limit: 1 })), [
      ['co-pages'],
      'co-pages',
    ]);
    assert.deepEqual(names(await cloud.listContainersPage({ prefix: 'co-pages', marker: 'co-pages' })), [
      ['co-pages-2'],
      null,
    ]);
    for (const n of ['p1', 'p2', 'p3', 'q1']) await cloud.deleteObject('co-pages', n);
    await cloud.deleteContainer('co-pages');
    await cloud.deleteContainer('co-pages-2');
  });
});
