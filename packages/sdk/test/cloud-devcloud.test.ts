// The cloud layer's nodepool tests (cloud-nodepool-cases.ts) on the REST backend: the SDK's `Cloud` over a
// Session to devcloud's sp1 (in-process Keystone, Nova, Neutron, Glance on loopback). The same cases run through
// an OCX gateway in packages/gateway/test/sdk-backend.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevcloud } from '@ocx/devcloud';
import { Cloud } from '../src/cloud/index.ts';
import { loadCloudsConfig } from '../src/config/index.ts';
import { NetworkClient } from '../src/services/index.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';
import { nodepoolCases } from './cloud-nodepool-cases.ts';

nodepoolCases('REST to devcloud', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cloud-dc-'));
  const cloudsYamlPath = join(dir, 'clouds.yaml');
  const dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
  const config = loadCloudsConfig({
    files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
    loadEnv: false,
  });
  const setup = createSession(config.getCloud('sp1'));
  const sessions: Session[] = [setup];
  return {
    cloudName: 'sp1',
    sp1Port: dc.clouds.find((c) => c.name === 'sp1')?.port ?? 0,
    setupNetwork: new NetworkClient(setup.client('network')),
    cloud(opts) {
      const s = createSession(config.getCloud('sp1'));
      sessions.push(s);
      return new Cloud(s, opts);
    },
    async stop() {
      for (const s of sessions) await s.close();
      await dc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
