/**
 * What the fan-out and quotas benches share: their simulated clouds run in a worker thread (so the figure is the
 * client's), the password CloudConfig pointing at one of them, and a median.
 */
import type { Server } from 'node:http';
import { parentPort, Worker } from 'node:worker_threads';
import type { CloudConfig } from '@ocx/sdk';

export interface MiniCloud {
  name: string;
  base: string;
  server: Server;
}

/** Worker side: start `count` clouds, report their base URLs, keep serving until told to stop. */
export async function serveClouds(count: number, start: (name: string) => Promise<MiniCloud>): Promise<void> {
  const clouds = await Promise.all(Array.from({ length: count }, (_, i) => start(`cloud${i}`)));
  parentPort?.postMessage(clouds.map((c) => ({ name: c.name, base: c.base })));
  parentPort?.once('message', () => {
    for (const c of clouds) {
      c.server.closeAllConnections();
      c.server.close();
    }
    parentPort?.close();
  });
}

/** Main side: run `script` (the bench itself) as the clouds' worker and wait for their addresses. */
export async function startCloudsWorker(
  script: URL,
): Promise<{ worker: Worker; clouds: Array<{ name: string; base: string }> }> {
  const worker = new Worker(script, { env: process.env });
  const clouds = await new Promise<Array<{ name: string; base: string }>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, clouds };
}

/** A password cloud on a mini cloud's Keystone (user bench, domain default). */
export function configFor(c: { name: string; base: string }, projectName: string): CloudConfig {
  return {
    name: c.name,
    regionName: 'RegionOne',
    regions: ['RegionOne'],
    authType: 'password',
    auth: {
      auth_url: `${c.base}/identity/v3`,
      username: 'bench',
      password: 'bench-secret',
      project_name: projectName,
      user_domain_id: 'default',
      project_domain_id: 'default',
    },
    interface: 'public',
    identityApiVersion: '3',
    services: {},
    verify: true,
    extra: {},
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
