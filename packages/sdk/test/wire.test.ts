/** The OpenStack wire module: service types per service-types-authority, fault bodies both ways, header names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalServiceType,
  decodeFault,
  encodeFault,
  isKnownServiceType,
  microversionHeaders,
  requestIdFrom,
  serviceTypeAliases,
} from '../src/wire/index.ts';

describe('wire: service types', () => {
  it("follows the authority: `message` is Zaqar's type and `messaging` its alias", () => {
    assert.equal(canonicalServiceType('messaging'), 'message');
    assert.equal(canonicalServiceType('message'), 'message');
    assert.deepEqual(serviceTypeAliases('messaging'), ['message', 'messaging']);
  });
  it('maps historical aliases and clouds.yaml spellings to the official type', () => {
    for (const alias of ['volume', 'volumev2', 'volumev3', 'block-store', 'block_storage', 'BLOCK-STORAGE'])
      assert.equal(canonicalServiceType(alias), 'block-storage', alias);
    assert.equal(canonicalServiceType('container-infra'), 'container-infrastructure-management');
    assert.equal(canonicalServiceType('resource-cluster'), 'clustering');
    assert.equal(canonicalServiceType('sharev2'), 'shared-file-system');
    assert.equal(canonicalServiceType('object_store'), 'object-store');
    assert.equal(canonicalServiceType('rax_database'), 'rax-database');
    assert.equal(isKnownServiceType('rax-database'), false);
    assert.equal(isKnownServiceType('federation-proxy'), true);
  });
});

describe('wire: fault bodies', () => {
  const services = ['compute', 'block-storage', 'network', 'image', 'object-store', 'identity', undefined];
  for (const service of services) {
    it(`${service ?? 'the default (Keystone)'}: what encodeFault writes, decodeFault reads back`, () => {
      const f = encodeFault(service, 404, 'Server abc could not be found.');
      assert.equal(f.status, 404);
      assert.equal(decodeFault(f.body).message?.includes('Server abc could not be found.'), true);
    });
  }
  it('each service speaks its own shape', () => {
    assert.deepEqual(JSON.parse(encodeFault('compute', 404, 'm').body), { itemNotFound: { code: 404, message: 'm' } });
    assert.deepEqual(JSON.parse(encodeFault('block-storage', 409, 'm').body), {
      conflictingRequest: { code: 409, message: 'm' },
    });
    assert.deepEqual(JSON.parse(encodeFault('compute', 415, 'm').body), { badMediaType: { code: 415, message: 'm' } });
    assert.deepEqual(JSON.parse(encodeFault('network', 404, 'm').body), {
      NeutronError: { type: 'HTTPNotFound', message: 'm', detail: '' },
    });
    assert.deepEqual(JSON.parse(encodeFault(undefined, 401, 'm').body), {
      error: { code: 401, title: 'Unauthorized', message: 'm' },
    });
    const glance = encodeFault('image', 413, 'too big');
    assert.equal(glance.contentType, 'text/plain; charset=UTF-8');
    assert.equal(glance.body, '413 Request Entity Too Large\n\ntoo big\n\n   ');
  });
  it('decodes the kind where the shape names one, and HTML pages as text', () => {
    assert.deepEqual(decodeFault('{"itemNotFound": {"code": 404, "message": "gone"}}'), {
      message: 'gone',
      kind: 'itemNotFound',
    });
    assert.equal(decodeFault('{"NeutronError": {"type": "NetworkNotFound", "message": "n"}}').kind, 'NetworkNotFound');
    assert.equal(decodeFault('{"error": {"code": 401, "title": "Unauthorized", "message": "k"}}').kind, 'Unauthorized');
    assert.equal(
      decodeFault('<html><body><h1>503 Service Unavailable</h1>No server is available</body></html>').message,
      '503 Service Unavailable No server is available',
    );
    assert.equal(decodeFault('{"unrelated": 1}').message, undefined);
    assert.equal(decodeFault('').message, undefined);
  });
});

describe('wire: headers', () => {
  it('request ids, most specific first', () => {
    assert.equal(
      requestIdFrom(new Headers({ 'x-compute-request-id': 'req-2', 'x-openstack-request-id': 'req-1' })),
      'req-1',
    );
    assert.equal(requestIdFrom(new Headers({ 'x-trans-id': 'tx1' })), 'tx1');
    assert.equal(requestIdFrom(new Headers()), undefined);
  });
  it('microversions: the generic header and the legacy one where a service has it', () => {
    assert.deepEqual(microversionHeaders('compute', '2.79'), {
      'openstack-api-version': 'compute 2.79',
      'x-openstack-nova-api-version': '2.79',
    });
    assert.deepEqual(microversionHeaders('block-storage', '3.70'), { 'openstack-api-version': 'volume 3.70' });
  });
});
