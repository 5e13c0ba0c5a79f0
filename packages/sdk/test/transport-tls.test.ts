// TLS options from the cloud config: verify (default on), verify false, a CA bundle (cacert) and a client cert.
// Certificates are made at test time with the openssl CLI (skipped when it is missing).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import { createTransport } from '../src/transport/index.ts';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = haveOpenssl() ? false : 'openssl CLI not installed';
let dir = '';
let server: Server | undefined;
let url = '';
let clientCertSeen: string | undefined;

function selfSigned(name: string, cn: string, san?: string): void {
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`];
  if (san) args.push('-addext', `subjectAltName=${san}`);
  args.push('-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`));
  execFileSync('openssl', args, { stdio: 'ignore' });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ocx-tls-'));
  selfSigned('server', '127.0.0.1', 'IP:127.0.0.1');
  selfSigned('client', 'ocx-test-client');
  server = createServer(
    {
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.crt')),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      clientCertSeen = peer?.subject?.CN === undefined ? undefined : String(peer.subject.CN);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    },
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  writeFileSync(join(dir, 'bundle.pem'), readFileSync(join(dir, 'server.crt')));
});

after(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('transport: TLS options', { skip }, () => {
  it('verifies certificates by default: a self-signed server is UNREACHABLE (TLS), and not retried', async () => {
    const t = createTransport({ retry: { baseDelayMs: 1 } });
    try {
      await t.request({ method: 'GET', url });
      assert.fail('expected a TLS failure');
    } catch (err) {
      assert.ok(err instanceof OcxError);
      assert.equal(err.code, ErrorCode.UNREACHABLE);
      assert.match(err.message, /TLS/);
      assert.equal(err.retryable, false);
    }
    await t.close();
  });

  it('verify: false accepts it', async () => {
    const t = createTransport({ tls: { verify: false } });
    assert.deepEqual(await (await t.request({ method: 'GET', url })).json(), { ok: true });
    await t.close();
  });

  it('a CA bundle path (cacert) makes it trusted; a client cert/key is presented', async () => {
    const t = createTransport({
      tls: { verify: join(dir, 'bundle.pem'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') },
    });
    assert.equal((await t.request({ method: 'GET', url })).status, 200);
    assert.equal(clientCertSeen, 'ocx-test-client');
    await t.close();
  });

  it('an unreadable CA file is CONFIG_INVALID naming the file', () => {
    assert.throws(
      () => createTransport({ tls: { verify: join(dir, 'missing.pem') } }),
      (e: unknown) =>
        e instanceof OcxError && e.code === ErrorCode.CONFIG_INVALID && e.file === join(dir, 'missing.pem'),
    );
  });
});
