/**
 * Nova's createImage server action (a snapshot): Glance gets an active private image whose bytes are the server's
 * source image's (empty for boot from volume); 202 with a Location header, or {"image_id"} from 2.45.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { cinderModule } from '../src/cinder/index.ts';
import { glanceModule, SEED_IMAGE_NAME } from '../src/glance/index.ts';
import { neutronService } from '../src/neutron/index.ts';
import { FAULT_METADATA_KEY, novaService } from '../src/nova/index.ts';
import { type Cloud, call, getToken, projectId, startTestCloud } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
type Json = Record<string, any>;

const C = '/compute/v2.1';
const V = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

describe('nova createImage', () => {
  let cloud: Cloud;
  let demo: string;
  let imageId: string;

  before(async () => {
    cloud = await startTestCloud({ services: [novaService, neutronService, glanceModule, cinderModule] });
    demo = await getToken(cloud, 'demo');
    const images = (await (await call(cloud, 'GET', `/image/v2/images?name=${SEED_IMAGE_NAME}`, demo)).json()) as Json;
    imageId = images.images[0].id;
  });
  after(() => cloud.close());

  async function ok(res: Response, status = 200): Promise<string> {
    const text = await res.text();
    assert.equal(res.status, status, text);
    return text;
  }
  async function waitIdle(id: string): Promise<Json> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const s = JSON.parse(await ok(await call(cloud, 'GET', `${C}/servers/${id}`, demo))).server;
      if (s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null) return s;
      if (Date.now() > deadline) assert.fail(`server ${id}: ${s.status}/${s['OS-EXT-STS:task_state']}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  async function boot(server: Json): Promise<string> {
    const res = await call(cloud, 'POST', `${C}/servers`, demo, { server: { flavorRef: '1', ...server } }, V('2.37'));
    const id = JSON.parse(await ok(res, 202)).server.id as string;
    await waitIdle(id);
    return id;
  }
  const sha = async (res: Response) =>
    createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex');

  it('snapshots an image-backed server: Location header, active private image with its bytes', async () => {
    const id = await boot({ name: 'snap-src', imageRef: imageId, networks: 'none' });
    const res = await call(cloud, 'POST', `${C}/servers/${id}/action`, demo, {
      createImage: { name: 'my-snap', metadata: { purpose: 'backup' } },
    });
    assert.equal(await ok(res, 202), '');
    const location = res.headers.get('location') ?? '';
    const m = /^(.*)\/image\/images\/([0-9a-f-]{36})$/.exec(location);
    assert.ok(m, location);
    assert.equal(m[1], cloud.baseUrl);
    const snapId = m[2]!;

    // Nova shows task_state image_snapshot for a transition, then the server is idle again.
    await waitIdle(id);

    const img = JSON.parse(await ok(await call(cloud, 'GET', `/image/v2/images/${snapId}`, demo)));
    assert.equal(img.name, 'my-snap');
    assert.equal(img.status, 'active');
    assert.equal(img.visibility, 'private');
    assert.equal(img.owner, projectId(cloud, 'demo'));
    assert.equal(img.image_type, 'snapshot');
    assert.equal(img.instance_uuid, id);
    assert.equal(img.base_image_ref, imageId);
    assert.equal(img.purpose, 'backup');
    const source = JSON.parse(await ok(await call(cloud, 'GET', `/image/v2/images/${imageId}`, demo)));
    assert.equal(img.size, source.size);
    assert.equal(img.checksum, source.checksum);
    assert.equal(img.disk_format, source.disk_format);
    assert.equal(
      await sha(await call(cloud, 'GET', `/image/v2/images/${snapId}/file`, demo)),
      await sha(await call(cloud, 'GET', `/image/v2/images/${imageId}/file`, demo)),
    );

    // The snapshot boots like any image, and the action is in the server's instance-action log.
    await boot({ name: 'from-snap', imageRef: snapId, networks: 'none' });
    const log = JSON.parse(await ok(await call(cloud, 'GET', `${C}/servers/${id}/os-instance-actions`, demo)));
    assert.ok(log.instanceActions.some((a: Json) => a.action === 'createImage'));
  });

  it('answers {"image_id"} without a Location header from 2.45', async () => {
    const id = await boot({ name: 'snap-245', imageRef: imageId, networks: 'none' });
    const res = await call(
      cloud,
      'POST',
      `${C}/servers/${id}/action`,
      demo,
      { createImage: { name: 'snap-245' } },
      V('2.45'),
    );
    const body = JSON.parse(await ok(res, 202));
    assert.deepEqual(Object.keys(body), ['image_id']);
    assert.equal(res.headers.get('location'), null);
    const img = JSON.parse(await ok(await call(cloud, 'GET', `/image/v2/images/${body.image_id}`, demo)));
    assert.equal(img.status, 'active');
  });

  it('snapshots a volume-backed server as an empty image', async () => {
    const id = await boot({
      name: 'bfv-snap',
      imageRef: '',
      networks: 'none',
      block_device_mapping_v2: [
        {
          boot_index: 0,
          uuid: imageId,
          source_type: 'image',
          destination_type: 'volume',
          volume_size: 1,
          delete_on_termination: true,
        },
      ],
    });
    const res = await call(
      cloud,
      'POST',
      `${C}/servers/${id}/action`,
      demo,
      { createImage: { name: 'bfv-snap' } },
      V('2.45'),
    );
    const { image_id } = JSON.parse(await ok(res, 202));
    const img = JSON.parse(await ok(await call(cloud, 'GET', `/image/v2/images/${image_id}`, demo)));
    assert.equal(img.status, 'active');
    assert.equal(img.size, 0);
    assert.equal(img.bdm_v2, 'True');
    assert.equal(img.base_image_ref, '');
  });

  it('rejects a createImage without a name, and on a server in the wrong state', async () => {
    const id = await boot({ name: 'snap-bad', imageRef: imageId, networks: 'none' });
    const noName = await call(cloud, 'POST', `${C}/servers/${id}/action`, demo, { createImage: {} });
    assert.equal(noName.status, 400);
    assert.equal(
      ((await noName.json()) as Json).badRequest.message,
      "Invalid input for field/attribute createImage. Value: {}. 'name' is a required property",
    );
    const badMeta = await call(cloud, 'POST', `${C}/servers/${id}/action`, demo, {
      createImage: { name: 'm', metadata: { n: 1 } },
    });
    assert.equal(badMeta.status, 400);
    const res = await call(
      cloud,
      'POST',
      `${C}/servers`,
      demo,
      {
        server: {
          name: 'broken',
          flavorRef: '1',
          imageRef: imageId,
          networks: 'none',
          metadata: { [FAULT_METADATA_KEY]: 'No valid host was found.' },
        },
      },
      V('2.37'),
    );
    const broken = JSON.parse(await ok(res, 202)).server.id as string;
    const deadline = Date.now() + 5000;
    while (JSON.parse(await ok(await call(cloud, 'GET', `${C}/servers/${broken}`, demo))).server.status !== 'ERROR') {
      if (Date.now() > deadline) assert.fail('server did not reach ERROR');
      await new Promise((r) => setTimeout(r, 10));
    }
    const refused = await call(cloud, 'POST', `${C}/servers/${broken}/action`, demo, { createImage: { name: 'no' } });
    assert.equal(refused.status, 409);
    assert.equal(
      ((await refused.json()) as Json).conflictingRequest.message,
      `Cannot 'createImage' instance ${broken} while it is in vm_state error`,
    );
  });
});
