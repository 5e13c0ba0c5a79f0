/**
 * The gateway's HTTP/2 receive windows, as a client sees them on the wire: every stream may take STREAM_WINDOW,
 * but a connection stays at HTTP/2's 64 KiB — what any client can make the gateway hold before it is authenticated —
 * until a caller on it starts an authenticated upload; then the connection opens to SESSION_WINDOW (windows.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { TransferService } from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
import { SESSION_WINDOW, STREAM_WINDOW } from '../src/windows.ts';
import { type Env, startEnv, uploadParts } from './helpers.ts';

const HTTP2_DEFAULT_WINDOW = 65_535;

/** A session manager that keeps the connection it made, to read its flow-control state. */
class Watched extends Http2SessionManager {
  session: http2.ClientHttp2Session | undefined;
  override async request(...args: Parameters<Http2SessionManager['request']>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    this.session = stream.session as http2.ClientHttp2Session;
    return stream;
  }
}

/** The connection window the gateway grants this client once its WINDOW_UPDATEs have arrived. */
async function grantedWindow(session: http2.ClientHttp2Session): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return session.state.remoteWindowSize ?? -1;
}

describe('gateway: HTTP/2 receive windows', { timeout: 120_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv({}, ['idp', 'sp1']);
  });
  after(async () => {
    await env?.stop();
  });

  function client() {
    const sessions = new Watched(env.gw.grpcUrl);
    return {
      sessions,
      transfer: createClient(
        TransferService,
        createGrpcTransport({ baseUrl: env.gw.grpcUrl, sessionManager: sessions }),
      ),
    };
  }

  it('an unauthenticated upload leaves the connection at 64 KiB, whatever it sends', async () => {
    const { sessions, transfer } = client();
    await assert.rejects(
      transfer.uploadImage(uploadParts('gw-window-anon', randomBytes(4 * 1024 * 1024), 512 * 1024)),
      (e: unknown) => e instanceof ConnectError && e.code === Code.Unauthenticated,
    );
    const session = sessions.session;
    assert.ok(session, 'the call went over HTTP/2');
    assert.equal(session.remoteSettings.initialWindowSize, STREAM_WINDOW, 'each stream may take STREAM_WINDOW');
    assert.ok(
      (await grantedWindow(session)) <= HTTP2_DEFAULT_WINDOW,
      `connection window ${session.state.remoteWindowSize} for a caller never authenticated`,
    );
    sessions.abort();
  });

  it('an authenticated upload opens its connection to SESSION_WINDOW, and the bytes arrive whole', async () => {
    const { sessions, transfer } = client();
    const data = randomBytes(3 * 1024 * 1024 + 777);
    const up = await transfer.uploadImage(uploadParts('gw-window-auth', data, 512 * 1024), env.auth);
    assert.equal(up.bytes, BigInt(data.byteLength));
    const session = sessions.session;
    assert.ok(session, 'the call went over HTTP/2');
    const window = await grantedWindow(session);
    assert.ok(window > HTTP2_DEFAULT_WINDOW && window <= SESSION_WINDOW, `connection window ${window}`);
    sessions.abort();
  });
});
