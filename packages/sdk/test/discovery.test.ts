import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTokenCache } from '../src/auth/index.ts';
import { createSession, discoverEndpoint, splitVersionedUrl } from '../src/session/index.ts';
import { startCloud } from './session-fixtures.ts';

function fetcher(docs: Record<string, unknown>, seen: string[] = []) {
  return async (url: string) => {
    seen.push(url);
    return docs[url];
  };
}

describe('discovery: splitting versioned URLs', () => {
  it('finds the version segment and what follows it', () => {
    assert.deepEqual(splitVersionedUrl('http://h/volume/v3/abc'), {
      root: 'http://h/volume',
      version: 'v3',
      rest: '/abc',
    });
    assert.deepEqual(splitVersionedUrl('http://h:8774/v2.1'), { root: 'http://h:8774', version: 'v2.1', rest: '' });
    assert.deepEqual(splitVersionedUrl('http://h/image'), { root: 'http://h/image', rest: '' });
  });
});

describe('discovery: per endpoint', () => {
  it('compute at /compute/v2.1: microversion range from the version document', async () => {
    const seen: string[] = [];
    const v = await discoverEndpoint(
      'http://h/compute/v2.1',
      'compute',
      undefined,
      fetcher(
        {
          'http://h/compute/v2.1/': { version: { id: 'v2.1', status: 'CURRENT', version: '2.95', min_version: '2.1' } },
        },
        seen,
      ),
    );
    assert.deepEqual(v, {
      url: 'http://h/compute/v2.1',
      version: '2.1',
      minMicroversion: '2.1',
      maxMicroversion: '2.95',
    });
    assert.deepEqual(seen, ['http://h/compute/v2.1/']);
  });

  it('block-storage at /volume/v3/<project>: the document comes from /volume/v3/, the URL keeps the project', async () => {
    const v = await discoverEndpoint(
      'http://h/volume/v3/p1',
      'block-storage',
      undefined,
      fetcher({
        'http://h/volume/v3/': { versions: [{ id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0' }] },
      }),
    );
    assert.deepEqual(v, {
      url: 'http://h/volume/v3/p1',
      version: '3',
      minMicroversion: '3.0',
      maxMicroversion: '3.70',
    });
  });

  it('block-storage whose versioned root has no document falls back to the unversioned root list', async () => {
    const v = await discoverEndpoint(
      'http://h:8776/v3/p1',
      'block-storage',
      undefined,
      fetcher({
        'http://h:8776/': {
          versions: [
            { id: 'v2.0', status: 'DEPRECATED' },
            { id: 'v3.0', status: 'CURRENT', version: '3.60', min_version: '3.0' },
          ],
        },
      }),
    );
    assert.equal(v.maxMicroversion, '3.60');
  });

  it('image at /image (devstack): the current version’s segment is appended to the catalog URL, not the href host', async () => {
    const v = await discoverEndpoint(
      'http://h/image',
      'image',
      undefined,
      fetcher({
        'http://h/image/': {
          versions: [
            { id: 'v2.15', status: 'SUPPORTED', links: [{ rel: 'self', href: 'http://internal:9292/v2/' }] },
            { id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: 'http://internal:9292/v2/' }] },
            { id: 'v1.1', status: 'DEPRECATED', links: [{ rel: 'self', href: 'http://internal:9292/v1/' }] },
          ],
        },
      }),
    );
    assert.deepEqual(v, {
      url: 'http://h/image/v2',
      version: '2.16',
      minMicroversion: undefined,
      maxMicroversion: undefined,
    });
  });

  it('an explicit api version picks that major', async () => {
    const docs = {
      'http://h:9292/': {
        versions: [
          { id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: 'http://h:9292/v2/' }] },
          { id: 'v1.1', status: 'DEPRECATED', links: [{ rel: 'self', href: 'http://h:9292/v1/' }] },
        ],
      },
    };
    assert.equal((await discoverEndpoint('http://h:9292', 'image', '1', fetcher(docs))).url, 'http://h:9292/v1');
  });

  it('network without a version document gets /v2.0; placement keeps its root with a microversion range', async () => {
    assert.equal(
      (await discoverEndpoint('http://h/networking', 'network', undefined, fetcher({}))).url,
      'http://h/networking/v2.0',
    );
    const p = await discoverEndpoint(
      'http://h/placement',
      'placement',
      undefined,
      fetcher({
        'http://h/placement/': {
          versions: [
            {
              id: 'v1.0',
              status: 'CURRENT',
              min_version: '1.0',
              max_version: '1.39',
              links: [{ rel: 'self', href: '' }],
            },
          ],
        },
      }),
    );
    assert.deepEqual(p, { url: 'http://h/placement', version: '1.0', minMicroversion: '1.0', maxMicroversion: '1.39' });
  });

  it('a versioned URL of a service without microversions needs no request', async () => {
    const seen: string[] = [];
    const v = await discoverEndpoint('http://h:9696/v2.0/', 'network', undefined, fetcher({}, seen));
    assert.equal(v.url, 'http://h:9696/v2.0');
    assert.deepEqual(seen, []);
  });
});

describe('discovery: cached per endpoint in a Session', () => {
  it('asks each version document once', async () => {
    const cloud = await startCloud();
    try {
      const s = createSession(cloud.config, { tokenCache: new MemoryTokenCache() });
      const img = s.client('image');
      assert.equal(await img.endpoint(), `${cloud.svc.url}/image/v2`);
      await img.get('/images');
      await img.get('/images');
      const nova = s.client('compute');
      assert.deepEqual(await nova.version(), {
        url: `${cloud.svc.url}/compute/v2.1`,
        version: '2.1',
        minMicroversion: '2.1',
        maxMicroversion: '2.90',
      });
      await nova.get('/echo');
      const docs = cloud.svc.requests.filter((r) => r.url === '/image/' || r.url === '/compute/v2.1/');
      assert.deepEqual(
        docs.map((r) => r.url),
        ['/image/', '/compute/v2.1/'],
      );
      await s.close();
    } finally {
      await cloud.close();
    }
  });
});
