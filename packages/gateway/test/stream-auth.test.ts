/**
 * A server stream outlives the token check made when it opened: the gateway keeps checking, and a watch whose
 * token Keystone revokes ends with UNAUTHENTICATED instead of pushing the project's servers to a caller who lost
 * access.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { createSession, MemoryTokenCache } from '@ocx/sdk';
import { WatchServersResponse_EventType as EventType } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { type Env, startEnv } from './helpers.ts';

describe('gateway: stream credentials', { timeout: 60_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ streamRecheckMs: 200, tokenCacheTtlMs: 0 }, ['idp']);
  });
  after(async () => {
    await env?.stop();
  });

  it('a watch streams while its token is valid and ends with UNAUTHENTICATED once Keystone revokes it', async () => {
    // A token of its own: revoking it leaves the other tests' token alone.
    const session = createSession(env.config.getCloud('idp'), { tokenCache: new MemoryTokenCache() });
    const token = await session.getToken();
    const ac = new AbortController();
    try {
      const stream = env.client.watchServers(
        { filter: { location: { clouds: ['idp'] } } },
        { headers: { authorization: `Bearer ${token}` }, signal: ac.signal },
      );
      const events = stream[Symbol.asyncIterator]();
      const first = await events.next();
      assert.equal(first.done, false);
      assert.equal(first.value?.type, EventType.SYNCED, 'the watch is open and synced');
      // Still open a few re-checks later: a valid token is not cut off. The read stays pending and is the loop's
      // first below (a second read beside it would miss the error this one gets: CI once saw that race).
      let pending = events.next();
      const early = await Promise.race([
        pending.then(
          () => 'event',
          () => 'error',
        ),
        new Promise((resolve) => setTimeout(() => resolve('quiet'), 1_000)),
      ]);
      assert.equal(early, 'quiet', 'nothing ends the stream while the token is valid');
      await session.client('identity').delete('/auth/tokens', { headers: { 'x-subject-token': token } });
      await assert.rejects(
        (async () => {
          for (;;) {
            const r = await pending;
            if (r.done) assert.fail('the stream ended without an error');
            pending = events.next();
          }
        })(),
        (err: unknown) => {
          assert.ok(err instanceof ConnectError, String(err));
          assert.equal(err.code, Code.Unauthenticated);
          assert.ok(!err.message.includes(token), 'no token in the error');
          return true;
        },
      );
    } finally {
      ac.abort();
      await session.close();
    }
  });
});
