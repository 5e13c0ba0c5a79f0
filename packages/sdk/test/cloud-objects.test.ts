// The cloud layer's object-store cases (cloud-objects-cases.ts) over REST to devcloud's Swift (in-process,
// loopback); the same cases run through an OCX gateway in packages/gateway/test/sdk-backend-writes.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevcloud } from '@ocx/devcloud';
import { Cloud } from '../src/cloud/index.ts';
import { loadCloudsConfig } from '../src/config/index.ts';
import { ObjectStoreClient } from '../src/services/object-store.ts';
import { createSession } from '../src/session/index.ts';
import { objectCases } from './cloud-objects-cases.ts';

objectCases('REST to devcloud', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cloud-obj-'));
  const cloudsYamlPath = join(dir, 'clouds.yaml');
  const dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
  const config = loadCloudsConfig({
    files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
    loadEnv: false,
  });
  const session = createSession(config.getCloud('sp1'));
  return {
    cloudName: 'sp1',
    setupObjects: new ObjectStoreClient(session.client('object-store')),
    cloud: () => new Cloud(session),
    async stop() {
      await session.close();
      await dc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
