/**
 * The server around the RPCs: health, reflection good enough for `buf curl` without a schema (the buf binary from
 * node_modules), loopback-only cleartext, one TLS port for gRPC and Connect with mTLS, and application-credential
 * exchange for scripts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { createSession, isOcxError } from '@ocx/sdk';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@ocx/sdk/gen/grpc/health/v1/health_pb';
import { AuthService } from '@ocx/sdk/gen/ocx/auth/v1/auth_service_pb';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { startGateway } from '../src/server.ts';
import { type Env, startEnv } from './helpers.ts';

const run = promisify(execFile);
const BUF = resolve(import.meta.dirname, '../../../node_modules/.bin/buf');
const PROTO = resolve(import.meta.dirname, '../../../proto');

async function bufCurl(args: string[]): Promise<string> {
  const { stdout } = await run(BUF, ['curl', ...args], { timeout: 30_000 });
  return stdout;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl. */
async function makeCerts(dir: string): Promise<Record<string, Buffer>> {
  const ssl = (...a: string[]) => run('openssl', a, { cwd: dir, timeout: 30_000 });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=ocx-test-ca',
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    await ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      '/dev/stdin',
    ).catch(async () => {
      // openssl without /dev/stdin support: write the extension to a file
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
      await ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '1',
        '-extfile',
        `${name}.ext`,
      );
    });
  }
  const read = (f: string) => readFileSync(join(dir, f));
  return {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
  };
}

describe('gateway: server, health, reflection, TLS, app credentials', { timeout: 120_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv({}, ['idp', 'sp1']);
  });
  after(async () => {
    await env?.stop();
  });

  it('grpc.health.v1: SERVING for the server and its services, NOT_FOUND for others', async () => {
    const health = createClient(Health, env.grpc);
    assert.equal((await health.check({})).status, Status.SERVING);
    assert.equal((await health.check({ service: 'ocx.cloud.v1.CloudService' })).status, Status.SERVING);
    await assert.rejects(health.check({ service: 'nope.v1.Nope' }), (e) => ConnectError.from(e).code === Code.NotFound);
  });

  it('buf curl works through reflection alone: list services, call over gRPC (h2c) and Connect (HTTP/1.1)', async () => {
    const services = await bufCurl([
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '--list-services',
      env.gw.grpcUrl,
    ]);
    for (const s of ['ocx.cloud.v1.CloudService', 'ocx.auth.v1.AuthService', 'grpc.health.v1.Health']) {
      assert.ok(services.split('\n').includes(s), `${s} listed in:\n${services}`);
    }
    const body = JSON.stringify({ filter: { location: { clouds: ['sp1'] }, nameOrId: 'm1.tiny' } });
    const auth = `authorization: Bearer ${env.token}`;
    const viaGrpc = JSON.parse(
      await bufCurl([
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '-H',
        auth,
        '-d',
        body,
        `${env.gw.grpcUrl}/ocx.cloud.v1.CloudService/ListFlavors`,
      ]),
    );
    assert.deepEqual(
      viaGrpc.flavors.map((f: { name: string; location: { cloud: string } }) => [f.location.cloud, f.name]),
      [['sp1', 'm1.tiny']],
    );
    // Connect on the h2c port (reflection is a bidi stream: it needs HTTP/2) ...
    const viaConnect = JSON.parse(
      await bufCurl([
        '--http2-prior-knowledge',
        '-H',
        auth,
        '-d',
        body,
        `${env.gw.grpcUrl}/ocx.cloud.v1.CloudService/ListFlavors`,
      ]),
    );
    assert.deepEqual(viaConnect.flavors, viaGrpc.flavors);
    // ... and on the HTTP/1.1 port with the schema from the protos instead of reflection.
    const viaHttp1 = JSON.parse(
      await bufCurl([
        '--schema',
        PROTO,
        '-H',
        auth,
        '-d',
        body,
        `${env.gw.httpUrl}/ocx.cloud.v1.CloudService/ListFlavors`,
      ]),
    );
    assert.deepEqual(viaHttp1.flavors, viaGrpc.flavors);
  });

  it('refuses a non-loopback address without TLS or --insecure', async () => {
    await assert.rejects(
      startGateway({ home: env.config.getCloud('idp-admin'), host: '0.0.0.0' }),
      (e) => isOcxError(e, 'CONFIG_INVALID') && /TLS/.test((e as Error).message),
    );
  });

  it('TLS: one port for gRPC and Connect; with a client CA only clients with a certificate get in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-gw-tls-'));
    try {
      const c = await makeCerts(dir);
      const gw = await startGateway({
        home: env.config.getCloud('idp-admin'),
        tls: { cert: c.serverCert as Buffer, key: c.serverKey as Buffer, clientCa: c.ca },
      });
      try {
        assert.match(gw.grpcUrl, /^https:/);
        assert.equal(gw.httpUrl, gw.grpcUrl);
        const withCert = { ca: c.ca, cert: c.clientCert, key: c.clientKey };
        const grpc = createClient(Health, createGrpcTransport({ baseUrl: gw.grpcUrl, nodeOptions: withCert }));
        assert.equal((await grpc.check({})).status, Status.SERVING);
        const h1 = createClient(
          Health,
          createConnectTransport({ baseUrl: gw.httpUrl, httpVersion: '1.1', nodeOptions: withCert }),
        );
        assert.equal((await h1.check({})).status, Status.SERVING);
        const noCert = createClient(Health, createGrpcTransport({ baseUrl: gw.grpcUrl, nodeOptions: { ca: c.ca } }));
        await assert.rejects(noCert.check({}, { timeoutMs: 5000 }));
      } finally {
        await gw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an application credential is exchanged for a token that works; a wrong secret is UNAUTHENTICATED', async () => {
    const session = createSession(env.config.getCloud('idp'));
    const access = await session.getAccess();
    const res = await session.client('identity').post(`/users/${access.user.id}/application_credentials`, {
      json: { application_credential: { name: `gw-ac-${process.pid}` } },
    });
    const ac = (await res.json<{ application_credential: { id: string; secret: string } }>()).application_credential;
    await session.close();
    const auth = createClient(AuthService, env.grpc);
    const got = await auth.exchangeApplicationCredential({ id: ac.id, secret: ac.secret });
    assert.ok(got.token);
    assert.ok(got.expiresAt > BigInt(Date.now()));
    assert.equal(got.projectName, 'demo');
    const cloud = createClient(CloudService, env.grpc);
    const r = await cloud.listKeypairs({}, { headers: { authorization: `Bearer ${got.token}` } });
    assert.deepEqual(r.failures, []);
    await assert.rejects(
      auth.exchangeApplicationCredential({ id: ac.id, secret: 'wrong' }),
      (e) => ConnectError.from(e).code === Code.Unauthenticated && !ConnectError.from(e).message.includes('wrong'),
    );
  });
});
