import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceModule } from '../src/context.ts';
import { type Devcloud, startDevcloud } from '../src/devcloud.ts';
import { injectedErrorBody } from '../src/faults.ts';

/** A tiny service so faults can target one service while Keystone keeps answering. */
const echo: ServiceModule = {
  mount: { type: 'compute', name: 'nova', prefix: '/compute/v2.1', catalogPath: '/compute/v2.1' },
  plugin: (app) => {
    app.get('/ping', async () => ({ pong: 'x'.repeat(300) }));
  },
};

let dc: Devcloud;
before(async () => {
  dc = await startDevcloud({ clouds: ['idp', 'sp1'], services: [echo], logLevel: 'silent' });
});
after(() => dc.stop());

const get = (cloud: string, path: string, timeoutMs = 5000) =>
  fetch(`${dc.cloud(cloud).baseUrl}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
const admin = (cloud: string, method: string, body?: unknown, query = '') =>
  fetch(`${dc.cloud(cloud).baseUrl}/_devcloud/faults${query}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });

describe('fault injection', () => {
  test('errorRate 1 on one service answers with that service error shape; others are untouched', async () => {
    await dc.setFaults('sp1', 'compute', { errorRate: 1, errorStatus: 503 });
    const res = await get('sp1', '/compute/v2.1/ping');
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { serviceUnavailable: { code: 503, message: 'devcloud injected fault.' } });
    assert.equal((await get('sp1', '/identity/v3')).status, 200);
    assert.equal((await get('idp', '/compute/v2.1/ping')).status, 200);
    await dc.setFaults('sp1', 'compute', null);
    assert.equal((await get('sp1', '/compute/v2.1/ping')).status, 200);
  });

  test('the service name works as a key too, and Keystone errors use the Keystone body', async () => {
    await dc.setFaults('sp1', 'keystone', { errorRate: 1 });
    const res = await get('sp1', '/identity/v3');
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), {
      error: { code: 500, message: 'devcloud injected fault.', title: 'Internal Server Error' },
    });
    await dc.clearFaults('sp1');
  });

  test('down: connection refused, then back on the same port', async () => {
    const port = dc.cloud('sp1').port;
    await dc.setFaults('sp1', '*', { down: true });
    // A kept-alive connection from before may see the close first; a new connection is refused.
    await assert.rejects(get('sp1', '/identity/v3'));
    await assert.rejects(get('sp1', '/identity/v3'), (err: Error & { cause?: { code?: string } }) => {
      assert.equal(err.cause?.code, 'ECONNREFUSED');
      return true;
    });
    // Bring it back through the other cloud's admin API.
    const res = await admin('idp', 'DELETE', undefined, '?cloud=sp1');
    assert.equal(res.status, 200);
    assert.equal(dc.cloud('sp1').port, port);
    assert.equal((await get('sp1', '/identity/v3')).status, 200);
  });

  test('down on one service resets its connections; the rest of the cloud answers', async () => {
    await dc.setFaults('sp1', 'nova', { down: true });
    await assert.rejects(get('sp1', '/compute/v2.1/ping'));
    assert.equal((await get('sp1', '/identity/v3')).status, 200);
    await dc.setFaults('sp1', 'nova', null);
    assert.equal((await get('sp1', '/compute/v2.1/ping')).status, 200);
  });

  test('hang: the request is accepted and never answered', async () => {
    await dc.setFaults('sp1', 'compute', { hang: true });
    await assert.rejects(get('sp1', '/compute/v2.1/ping', 300), (err: Error) => err.name === 'TimeoutError');
    assert.equal((await get('sp1', '/identity/v3')).status, 200);
    await dc.setFaults('sp1', 'compute', null);
  });

  test('slow body and latency still deliver the whole, correct body', async () => {
    await dc.setFaults('sp1', 'compute', { slowBodyBytesPerSec: 2000, latencyMs: 10, jitterMs: 10 });
    const res = await get('sp1', '/compute/v2.1/ping');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { pong: 'x'.repeat(300) });
    await dc.setFaults('sp1', 'compute', null);
  });

  test('admin API: PUT sets, GET lists, bad specs are 400, unknown clouds 404', async () => {
    const put = await admin('idp', 'PUT', { cloud: 'sp1', service: 'compute', latencyMs: 5 });
    assert.equal(put.status, 200);
    const listed = (await (await admin('sp1', 'GET')).json()) as { faults: Record<string, unknown> };
    assert.deepEqual(listed.faults, { compute: { latencyMs: 5 } });
    assert.equal((await admin('idp', 'PUT', { service: 'compute', errorRate: 2 })).status, 400);
    assert.equal((await admin('idp', 'PUT', { service: 'compute', bogus: true })).status, 400);
    assert.equal((await admin('idp', 'PUT', { cloud: 'nope', latencyMs: 1 })).status, 404);
    assert.equal((await admin('sp1', 'DELETE', undefined, '?service=compute')).status, 200);
    const after = (await (await admin('sp1', 'GET')).json()) as { faults: Record<string, unknown> };
    assert.deepEqual(after.faults, {});
  });

  test('injected error bodies follow each service', () => {
    assert.match(injectedErrorBody('network', 500).body, /"NeutronError"/);
    assert.match(injectedErrorBody('object-store', 503).body, /<h1>Service Unavailable<\/h1>/);
    assert.match(injectedErrorBody('volumev3', 413).body, /"overLimit"/);
  });
});

describe('faults on a service with two catalog entries', () => {
  test('volumev3 / cinderv3 keys hit Cinder as block-storage / cinder do (both entries are /volume)', async () => {
    const { cinderModule, cinderV3CatalogModule } = await import('../src/cinder/index.ts');
    const { startTestCloud } = await import('./helpers.ts');
    const cloud = await startTestCloud({ services: [cinderModule, cinderV3CatalogModule] });
    try {
      const versions = () => fetch(`${cloud.baseUrl}/volume/`, { signal: AbortSignal.timeout(5000) });
      assert.equal((await versions()).status, 300);
      for (const key of ['volumev3', 'cinderv3', 'block-storage', 'cinder']) {
        await cloud.setFaults(key, { errorRate: 1, errorStatus: 503 });
        const res = await versions();
        assert.equal(res.status, 503, key);
        assert.deepEqual(await res.json(), { serviceUnavailable: { code: 503, message: 'devcloud injected fault.' } });
        assert.equal((await fetch(`${cloud.baseUrl}/identity/v3`)).status, 200, `${key}: Keystone untouched`);
        await cloud.setFaults(key, null);
        assert.equal((await versions()).status, 300, `${key} cleared`);
      }
    } finally {
      await cloud.close();
    }
  });
});
