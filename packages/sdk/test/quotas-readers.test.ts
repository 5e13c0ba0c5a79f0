/**
 * The per-service quota readers on answers devcloud does not give: Nova refusing the detail by policy (the reader
 * falls back to /limits), Glance with its usage API enabled (MiB → bytes) and disabled (404 → no rows), and Swift
 * account quota headers. The answers are the shapes of the services' API references (nova limits v2.36 sample,
 * glance discovery.inc, swift account_quotas); the service clients are stand-ins that return them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../src/errors/codes.ts';
import { OcxError } from '../src/errors/ocx-error.ts';
import type { Connection, ItemLocation } from '../src/multicloud/types.ts';
import { readCompute, readImage, readObject } from '../src/quotas/openstack.ts';

const MiB = 2 ** 20;
const here: ItemLocation = {
  cloud: 'c',
  region: 'R',
  zone: null,
  project: { id: 'p', name: 'p', domain_id: 'default', domain_name: 'Default' },
};

/** A connection whose clients answer GETs from a table (path → body or error); records the paths asked. */
function fakeConn(answers: Record<string, unknown>, headers?: Headers): { conn: Connection; asked: string[] } {
  const asked: string[] = [];
  const client = {
    async getJson(path: string) {
      asked.push(path);
      const a = answers[path];
      if (a instanceof Error) throw a;
      if (a === undefined) throw new OcxError(ErrorCode.NOT_FOUND, `no ${path}`, { status: 404 });
      return a;
    },
  };
  const conn = {
    cloud: 'c',
    region: 'R',
    client: () => client,
    objectStore: {
      async getAccount() {
        return { bytesUsed: 300, objectCount: 3, containerCount: 2, metadata: {}, headers: headers ?? new Headers() };
      },
    },
  } as unknown as Connection;
  return { conn, asked };
}

describe('quota readers', () => {
  it('Nova: when policy refuses os-quota-sets detail, /limits gives instances, cores, ram (bytes), server groups', async () => {
    const { conn, asked } = fakeConn({
      '/os-quota-sets/p/detail': new OcxError(
        ErrorCode.FORBIDDEN,
        "Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed.",
        { status: 403 },
      ),
      '/limits': {
        limits: {
          rate: [],
          absolute: {
            maxTotalInstances: 10,
            totalInstancesUsed: 2,
            maxTotalCores: 20,
            totalCoresUsed: 3,
            maxTotalRAMSize: -1,
            totalRAMUsed: 2048,
            maxServerGroups: 10,
            totalServerGroupsUsed: 0,
            maxServerMeta: 128,
          },
        },
      },
    });
    const rows = await readCompute(conn, 'p', here, {});
    assert.deepEqual(asked, ['/os-quota-sets/p/detail', '/limits']);
    assert.deepEqual(
      rows.map((r) => [r.resource, r.usage, r.limit, r.unit]),
      [
        ['compute.instances', 2, 10, 'count'],
        ['compute.cores', 3, 20, 'count'],
        ['compute.ram', 2048 * MiB, null, 'bytes'],
        ['compute.server_groups', 0, 10, 'count'],
      ],
    );
  });

  it('Nova: any other failure of the detail is not hidden by the fallback', async () => {
    const { conn } = fakeConn({
      '/os-quota-sets/p/detail': new OcxError(ErrorCode.SERVICE_ERROR, 'boom', { status: 500 }),
    });
    await assert.rejects(readCompute(conn, 'p', here, {}), { code: 'SERVICE_ERROR' });
  });

  it('Glance: /v2/info/usage in MiB becomes bytes; a Glance without it (404) gives no rows', async () => {
    const { conn } = fakeConn({
      '/info/usage': {
        usage: {
          image_size_total: { limit: 1024, usage: 256 },
          image_stage_total: { limit: 512, usage: 0 },
          image_count_total: { limit: 100, usage: 7 },
          image_count_uploading: { limit: -1, usage: 1 },
        },
      },
    });
    assert.deepEqual(
      (await readImage(conn, 'p', here, {})).map((r) => [r.resource, r.usage, r.limit, r.unit]),
      [
        ['image.count_total', 7, 100, 'count'],
        ['image.size_total', 256 * MiB, 1024 * MiB, 'bytes'],
        ['image.stage_total', 0, 512 * MiB, 'bytes'],
        ['image.count_uploading', 1, null, 'count'],
      ],
    );
    assert.deepEqual(await readImage(fakeConn({}).conn, 'p', here, {}), []);
  });

  it('Swift: bytes and objects with the account quota headers as limits', async () => {
    const { conn } = fakeConn({}, new Headers({ 'x-account-quota-bytes': '1000', 'x-account-quota-count': '10' }));
    assert.deepEqual(
      (await readObject(conn, 'p', here, {})).map((r) => [r.resource, r.usage, r.limit, r.unit]),
      [
        ['object.bytes', 300, 1000, 'bytes'],
        ['object.objects', 3, 10, 'count'],
        ['object.containers', 2, null, 'count'],
      ],
    );
  });
});
