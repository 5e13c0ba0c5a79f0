/**
 * The contract suite's target: the same tests run against devcloud (default: one started in-process per file)
 * or against real OpenStack (`OCX_TEST_TARGET=real`, clouds from the clouds.yaml named by OS_CLIENT_CONFIG_FILE).
 * Cloud names are the same on both: idp, sp1, sp2 (user demo, project demo) and idp-admin, sp1-admin, sp2-admin.
 * K2K goes from idp to sp1 and sp2. On real OpenStack, idp has only Keystone; services live in sp1 and sp2.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cloud, type CloudsConfig, createSession, k2kCloudConfig, loadCloudsConfig, type Session } from '@ocx/sdk';

export type TargetKind = 'devcloud' | 'real';

export interface Target {
  kind: TargetKind;
  config: CloudsConfig;
  /** A fresh session for a clouds.yaml cloud. */
  session(name: string): Session;
  /** A K2K session: home cloud's Keystone → service provider `sp`, project demo in domain Default. */
  k2kSession(home: string, sp: string): Session;
  cloud(name: string, opts?: ConstructorParameters<typeof Cloud>[1]): Cloud;
  /** Names of resources this run creates start with this, so a failed run's leftovers are recognisable. */
  prefix: string;
  /** How long a resource may take to settle on this target (real Nova: ~15 s to ACTIVE). */
  settleMs: number;
  stop(): Promise<void>;
}

export function targetKind(): TargetKind {
  const kind = process.env.OCX_TEST_TARGET ?? 'devcloud';
  if (kind !== 'devcloud' && kind !== 'real') throw new Error(`OCX_TEST_TARGET must be devcloud or real, not ${kind}`);
  return kind;
}

export async function startTarget(): Promise<Target> {
  const kind = targetKind();
  const prefix = `ocx-ct-${randomBytes(3).toString('hex')}`;
  const sessions: Session[] = [];
  let stopDevcloud: (() => Promise<void>) | undefined;
  let config: CloudsConfig;
  if (kind === 'real') {
    const file = process.env.OS_CLIENT_CONFIG_FILE;
    if (!file)
      throw new Error('OCX_TEST_TARGET=real needs OS_CLIENT_CONFIG_FILE (test/real/openstack.sh up writes it)');
    config = loadCloudsConfig({ files: { clouds: [file], secure: [], publicClouds: [] }, loadEnv: false });
  } else {
    const { startDevcloud } = await import('@ocx/devcloud');
    const dir = mkdtempSync(join(tmpdir(), 'ocx-contract-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    const dc = await startDevcloud({ cloudsYamlPath, transitionMs: 200 });
    stopDevcloud = async () => {
      await dc.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
  }
  const track = (s: Session) => {
    sessions.push(s);
    return s;
  };
  return {
    kind,
    config,
    prefix,
    settleMs: kind === 'real' ? 180_000 : 20_000,
    session: (name) => track(createSession(config.getCloud(name))),
    k2kSession: (home, sp) =>
      track(
        createSession(
          k2kCloudConfig(config.getCloud(home), {
            serviceProvider: sp,
            remoteProjectName: 'demo',
            remoteProjectDomainName: 'Default',
          }),
        ),
      ),
    cloud: (name, opts) => new Cloud(track(createSession(config.getCloud(name))), { serverListAgeMs: 0, ...opts }),
    async stop() {
      await Promise.allSettled(sessions.map((s) => s.close()));
      await stopDevcloud?.();
    },
  };
}

/** Poll `fn` until it returns a value other than undefined, or fail with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
