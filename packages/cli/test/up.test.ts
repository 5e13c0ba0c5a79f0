// `ocx up` (npm start): devcloud + the federation proxy in front of idp, registered in idp's catalog as region
// ocx-proxy, with a clouds.yaml cloud `idp-proxy` through which one list reaches every cloud.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { CloudService } from '@ocx/gateway';
import { collect, createSession, ImageClient, loadCloudsConfig, openCloud } from '@ocx/sdk';
import { parse } from 'yaml';
import { runUp } from '../src/up.ts';

describe('ocx up', () => {
  let dir: string;
  let stop: () => void;
  let done: Promise<number>;
  let out = '';
  let err = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-up-test-'));
    const stopped = new Promise<void>((res) => {
      stop = res;
    });
    done = runUp(['--proxy-listen', '127.0.0.1:0', '--gateway-listen', '127.0.0.1:0', '--transition-ms', '50'], {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      cwd: dir,
      untilStopped: stopped,
    });
    // Up is ready once it has printed how to stop it.
    for (let i = 0; i < 600 && !out.includes('Ctrl-C stops it.') && !err; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(err, '', 'up started without errors');
  });
  after(async () => {
    stop();
    assert.equal(await done, 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the clouds and the proxy, and writes idp-proxy into clouds.yaml', () => {
    assert.match(out, /devcloud is running: 3 cloud\(s\), K2K federation idp -> sp1, sp2/);
    assert.match(out, /federation proxy: http:\/\/127\.0\.0\.1:\d+ \(home cloud idp/);
    const doc = parse(readFileSync(join(dir, 'clouds.yaml'), 'utf8')) as {
      clouds: Record<string, { region_name?: string }>;
    };
    assert.equal(doc.clouds['idp-proxy']?.region_name, 'ocx-proxy');
    assert.ok(doc.clouds.idp && doc.clouds.sp1 && doc.clouds['sp2-admin'], 'devcloud clouds are still there');
  });

  it("one image list through idp-proxy holds every cloud's images", async () => {
    const config = loadCloudsConfig({
      files: { clouds: [join(dir, 'clouds.yaml')], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const viaProxy = createSession(config.getCloud('idp-proxy'));
    const proxied = (await collect(new ImageClient(viaProxy.client('image')).listImages())).map((i) => i.id).sort();
    const direct: string[] = [];
    for (const name of ['idp', 'sp1', 'sp2']) {
      const s = createSession(config.getCloud(name));
      for (const i of await collect(new ImageClient(s.client('image')).listImages())) direct.push(i.id);
      await s.close();
    }
    assert.deepEqual(proxied, direct.sort());
    assert.ok(proxied.length >= 3, 'each cloud seeds an image');
    assert.match(await viaProxy.endpointFor('image'), /^http:\/\/127\.0\.0\.1:\d+\/image$/);
    await viaProxy.close();
  });

  it('starts the gRPC gateway and prints a buf curl example; one call lists every cloud', async () => {
    const url = /gRPC gateway: gRPC (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(url, `gateway address printed in:\n${out}`);
    assert.ok(
      out.includes(`buf curl --protocol grpc --http2-prior-knowledge`) &&
        out.includes(`${url}/ocx.cloud.v1.CloudService/ListFlavors`),
    );
    const config = loadCloudsConfig({
      files: { clouds: [join(dir, 'clouds.yaml')], secure: [], publicClouds: [] },
      loadEnv: false,
    });
    const session = createSession(config.getCloud('idp'));
    const token = await session.getToken();
    await session.close();
    const client = createClient(CloudService, createGrpcTransport({ baseUrl: url }));
    const r = await client.listFlavors(
      { filter: { nameOrId: 'm1.tiny' } },
      { headers: { authorization: `Bearer ${token}` } },
    );
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.flavors.map((f) => f.location?.cloud).sort(), ['idp', 'sp1', 'sp2']);
    // The SDK through the gateway: clouds.yaml has sp1-gw & co. with `gateway:`.
    assert.equal(config.getCloud('sp1-gw').gateway?.url, url);
    const sp1 = openCloud({ cloud: 'sp1-gw', config });
    try {
      const tiny = await sp1.getFlavor('m1.tiny');
      assert.equal(tiny?.location.cloud, 'sp1-gw');
    } finally {
      await sp1.close();
    }
  });
});
