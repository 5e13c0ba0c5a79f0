// A caller waiting on work shared with other callers (version discovery, a login in flight) is bounded by its own
// deadline: a service that hangs during the first discovery must not hold later callers past their timeoutMs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryTokenCache } from '../src/auth/index.ts';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import { createSession } from '../src/session/index.ts';
import { type Cloud, startCloud } from './session-fixtures.ts';
import { startServer, type TestServer } from './transport-helpers.ts';

let cloud: Cloud;
let hanging: TestServer;
before(async () => {
  cloud = await startCloud();
  // Accepts every request and never answers.
  hanging = await startServer(() => new Promise(() => {}));
});
after(async () => {
  await hanging.close();
  await cloud.close();
});

describe('session: shared waits honour each caller deadline', () => {
  it('a second caller of a hanging discovery gets TIMEOUT at its own timeoutMs', async () => {
    const s = createSession(
      { ...cloud.config, services: { ...cloud.config.services, compute: { endpointOverride: hanging.url } } },
      { tokenCache: new MemoryTokenCache() },
    );
    const nova = s.client('compute');
    // The first caller starts discovery with a long budget; the second joins it with a short one.
    const first = nova.version({ timeoutMs: 30_000 }).catch((e: unknown) => e);
    const started = Date.now();
    const err = await nova.version({ timeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const waited = Date.now() - started;
    assert.ok(err instanceof OcxError, `expected an OcxError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.TIMEOUT);
    assert.equal(err.service, 'compute');
    // Bounded by its own 300 ms budget, not the first caller's 30 s (generous slack for a loaded machine).
    assert.ok(waited < 10_000, `waited ${waited} ms`);
    await s.close();
    void first;
  });
});
