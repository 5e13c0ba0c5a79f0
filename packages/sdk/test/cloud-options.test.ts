// What the cloud layer's callers can ask for beyond shade's surface: Nova's is_public filter on flavors (cached per
// filter), a caller's signal on list calls, and a progress callback while waiting for a server.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Cloud } from '../src/cloud/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { OcxError } from '../src/errors/ocx-error.ts';
import { type FakeCloud, novaServer, startFakeCloud } from './cloud-fake.ts';

const fakes: FakeCloud[] = [];
afterEach(async () => {
  while (fakes.length) await fakes.pop()!.close();
});

async function setup(opts: ConstructorParameters<typeof Cloud>[1] = {}): Promise<{ fake: FakeCloud; cloud: Cloud }> {
  const fake = await startFakeCloud();
  fakes.push(fake);
  return { fake, cloud: new Cloud(fake.session(), { pollIntervalMs: 5, ...opts }) };
}

const FLAVOR = (id: string, isPublic: boolean) => ({
  id,
  name: `f-${id}`,
  ram: 512,
  vcpus: 1,
  disk: 1,
  'os-flavor-access:is_public': isPublic,
});

describe('Cloud: options beyond the nodepool surface', () => {
  test('listFlavors({ isPublic }) asks Nova with is_public True / False / None and caches each answer apart', async () => {
    const { fake, cloud } = await setup({ listAgeMs: 60_000 });
    fake.route('GET', '/compute/v2.1/flavors/detail', (req) => {
      const q = req.query.get('is_public');
      const all = [FLAVOR('1', true), FLAVOR('2', false)];
      const flavors = q === 'True' ? all.slice(0, 1) : q === 'False' ? all.slice(1) : all;
      return { json: { flavors } };
    });
    assert.deepEqual(
      (await cloud.listFlavors({ isPublic: true })).map((f) => f.id),
      ['1'],
    );
    assert.deepEqual(
      (await cloud.listFlavors({ isPublic: false })).map((f) => f.id),
      ['2'],
    );
    assert.deepEqual(
      (await cloud.listFlavors()).map((f) => f.id),
      ['1', '2'],
    );
    // Within listAgeMs, each filter is served from its own cache entry.
    assert.deepEqual(
      (await cloud.listFlavors({ isPublic: true })).map((f) => f.id),
      ['1'],
    );
    const asked = fake.requests
      .filter((r) => r.path === '/compute/v2.1/flavors/detail')
      .map((r) => r.query.get('is_public'));
    assert.deepEqual(asked, ['True', 'False', 'None']);
  });

  test("a list call with the caller's aborted signal fails as CANCELLED", async () => {
    const { fake, cloud } = await setup();
    fake.route('GET', '/compute/v2.1/servers/detail', () => ({ json: { servers: [] }, delayMs: 2000 }));
    const controller = new AbortController();
    const pending = cloud.listServers({ bare: true, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (e: unknown) => e instanceof OcxError && e.code === ErrorCode.CANCELLED);
  });

  test('waitForServer calls onProgress with the server at each poll until ACTIVE', async () => {
    const { fake, cloud } = await setup({ useDirectGet: true });
    const id = '6f0c5b1e-2a3d-4c5e-8f90-0a1b2c3d4e5f';
    const states = ['BUILD', 'BUILD', 'ACTIVE'];
    fake.route('GET', `/compute/v2.1/servers/${id}`, () => {
      const status = states.length > 1 ? states.shift()! : states[0]!;
      return {
        json: {
          server: novaServer(id, 'vm', { status, addresses: { private: [{ addr: '10.0.0.5', version: 4 }] } }),
        },
      };
    });
    const seen: string[] = [];
    const s = await cloud.waitForServer(id, {
      autoIp: false,
      timeoutMs: 5000,
      onProgress: (cur) => seen.push(cur.status),
    });
    assert.equal(s.status, 'ACTIVE');
    assert.deepEqual(seen, ['BUILD', 'BUILD', 'ACTIVE']);
  });
});
