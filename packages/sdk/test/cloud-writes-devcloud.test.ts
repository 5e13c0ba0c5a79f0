// The cloud layer's write cases (cloud-writes-cases.ts) over REST to devcloud; the same cases run through an OCX
// gateway in packages/gateway/test/sdk-backend-writes.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevcloud } from '@ocx/devcloud';
import { Cloud } from '../src/cloud/index.ts';
import { loadCloudsConfig } from '../src/config/index.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';
import { writesCases } from './cloud-writes-cases.ts';

writesCases('REST to devcloud', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-cloud-writes-'));
  const cloudsYamlPath = join(dir, 'clouds.yaml');
  const dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
  const config = loadCloudsConfig({
    files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
    loadEnv: false,
  });
  const sessions: Session[] = [];
  const cloud = () => {
    const s = createSession(config.getCloud('sp1'));
    sessions.push(s);
    return new Cloud(s, { pollIntervalMs: 20 });
  };
  return {
    cloudName: 'sp1',
    cloud,
    rest: cloud,
    async stop() {
      for (const s of sessions) await s.close();
      await dc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
