import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogEntry } from '../src/auth/index.ts';
import { MemoryTokenCache } from '../src/auth/index.ts';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import {
  canonicalServiceType,
  createSession,
  expandEndpointTemplate,
  SERVICE_TYPE_ALIASES,
  selectEndpoint,
  serviceTypeCandidates,
} from '../src/index.ts';
import { startCloud } from './session-fixtures.ts';

const ep = (iface: string, region: string, url: string) => ({ interface: iface, region, region_id: region, url });
const catalog: CatalogEntry[] = [
  { type: 'volumev2', name: 'cinderv2', endpoints: [ep('public', 'R1', 'http://c/v2/p')] },
  {
    type: 'volumev3',
    name: 'cinderv3',
    endpoints: [
      ep('public', 'R1', 'http://c/v3/p'),
      ep('internal', 'R1', 'http://c-int/v3/p'),
      ep('public', 'R2', 'http://c2/v3/p'),
    ],
  },
  {
    type: 'compute',
    name: 'nova',
    endpoints: [ep('public', 'R2', 'http://n2/v2.1'), ep('public', 'R1', 'http://n1/v2.1')],
  },
  { type: 'compute', name: 'nova-legacy', endpoints: [ep('public', 'R1', 'http://n1/v2')] },
  { type: 'sharev2', name: 'manila', endpoints: [ep('public', 'R1', 'http://m/v2')] },
];

describe('catalog: service types and aliases', () => {
  it('canonicalizes aliases the way service-types-authority does', () => {
    assert.equal(canonicalServiceType('volumev3'), 'block-storage');
    assert.equal(canonicalServiceType('volume'), 'block-storage');
    assert.equal(canonicalServiceType('block_storage'), 'block-storage');
    assert.equal(canonicalServiceType('Compute'), 'compute');
    assert.equal(canonicalServiceType('sharev2'), 'shared-file-system');
    assert.deepEqual(SERVICE_TYPE_ALIASES['block-storage'], ['volumev3', 'volumev2', 'volume', 'block-store']);
    assert.deepEqual(serviceTypeCandidates('volume').slice(0, 3), ['block-storage', 'volumev3', 'volumev2']);
  });

  it('block-storage picks volumev3 over volumev2 regardless of catalog order', () => {
    const s = selectEndpoint(catalog, { serviceType: 'block-storage', region: 'R1' });
    assert.equal(s.url, 'http://c/v3/p');
    assert.equal(s.catalogType, 'volumev3');
    assert.equal(s.serviceType, 'block-storage');
    assert.equal(
      selectEndpoint(catalog, { serviceType: 'volumev2', region: 'R1' }).url,
      'http://c/v3/p',
      'an alias asks for the service, not the exact type',
    );
    assert.equal(selectEndpoint(catalog, { serviceType: 'shared-file-system' }).url, 'http://m/v2');
  });

  it('filters by interface (publicURL spelling accepted) and region (name or id)', () => {
    assert.equal(
      selectEndpoint(catalog, { serviceType: 'volume', interface: 'internal', region: 'R1' }).url,
      'http://c-int/v3/p',
    );
    assert.equal(
      selectEndpoint(catalog, { serviceType: 'volume', interface: 'publicURL', region: 'R2' }).url,
      'http://c2/v3/p',
    );
    assert.equal(selectEndpoint(catalog, { serviceType: 'compute', region: 'R1' }).url, 'http://n1/v2.1');
    assert.equal(selectEndpoint(catalog, { serviceType: 'compute', region: 'R2' }).url, 'http://n2/v2.1');
    assert.equal(
      selectEndpoint(catalog, { serviceType: 'compute', region: 'R1', serviceName: 'nova-legacy' }).url,
      'http://n1/v2',
    );
  });

  it('no match is ENDPOINT_NOT_FOUND and says what the catalog offers', () => {
    assert.throws(
      () => selectEndpoint(catalog, { serviceType: 'compute', interface: 'admin', region: 'R1' }),
      (e: unknown) =>
        e instanceof OcxError &&
        e.code === ErrorCode.ENDPOINT_NOT_FOUND &&
        /interface admin in region R1/.test(e.message) &&
        /compute\/public@R2/.test(e.message),
    );
    assert.throws(
      () => selectEndpoint(catalog, { serviceType: 'dns' }),
      (e: unknown) =>
        e instanceof OcxError && e.code === ErrorCode.ENDPOINT_NOT_FOUND && /no dns service/.test(e.message),
    );
  });

  it('expands %(project_id)s / %(tenant_id)s templates', () => {
    assert.equal(expandEndpointTemplate('http://s/v1/AUTH_%(project_id)s', 'p1'), 'http://s/v1/AUTH_p1');
    assert.equal(expandEndpointTemplate('http://c/v2/%(tenant_id)s', 'p1'), 'http://c/v2/p1');
  });
});

describe('catalog: through a Session', () => {
  it('uses the token catalog with the cloud interface/region, and endpoint overrides from config', async () => {
    const cloud = await startCloud();
    try {
      const s = createSession(cloud.config, { tokenCache: new MemoryTokenCache() });
      assert.equal(await s.endpointFor('volumev3'), `${cloud.svc.url}/volume/v3/p-demo`);
      assert.equal(
        await s.endpointFor('compute', { interface: 'internal' }),
        `${cloud.svc.url.replace('127.0.0.1', 'localhost')}/compute/v2.1`,
      );
      await assert.rejects(
        s.endpointFor('compute', { region: 'Elsewhere' }),
        (e: unknown) => e instanceof OcxError && e.code === 'ENDPOINT_NOT_FOUND' && e.cloud === 'fake',
      );
      await s.close();
      const o = createSession(
        {
          ...cloud.config,
          services: {
            'block-storage': { endpointOverride: 'http://override.example/v3/%(project_id)s' },
            image: { interface: 'internal' },
          },
        },
        { tokenCache: new MemoryTokenCache() },
      );
      assert.equal(await o.endpointFor('volume'), 'http://override.example/v3/p-demo');
      assert.equal(await o.endpointFor('image'), `${cloud.svc.url.replace('127.0.0.1', 'localhost')}/image`);
      assert.equal(
        await o.endpointFor('compute', { endpointOverride: 'http://n.example/v2.1/' }),
        'http://n.example/v2.1',
      );
      await o.close();
    } finally {
      await cloud.close();
    }
  });
});
