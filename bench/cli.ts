/**
 * CLI start-up benchmark: wall time of a cold `ocx server list --os-cloud CLOUD` (a new process each time, as a
 * user types it) against python-openstackclient's `openstack server list` on the same cloud, in the same run.
 *
 * - Real mode (python-openstackclient installed and OS_CLIENT_CONFIG_FILE — default /tmp/ocx-real/clouds.yaml —
 *   names CLOUD, default sp1, whose Keystone answers): runs the two alternately RUNS times and prints medians; the
 *   LAST line is `cli ratio: X` = ocx median / openstack median (goal ≤ 0.25).
 * - Otherwise: starts devcloud in this process and compares `ocx` with the recorded devcloud baseline below (the
 *   CLI before lazy loading and the token cache, measured on the team machine); the last line is then
 *   `cli ratio vs recorded baseline: X`.
 *
 * The first ocx run starts with an empty token cache (a login, as openstack does every time); the median is over the
 * runs after it, with the token cache warm, which is what a user sees from the second command on. `ocx cloud list`
 * (no network) is timed too.
 *
 *   npm run bench:cli                       # RUNS=7 CLOUD=sp1
 *   BASELINE_OCX=/path/to/old/bin/ocx.js npm run bench:cli   # also time another build of ocx in the same run
 *   MODE=devcloud npm run bench:cli         # devcloud even when the real stack is up
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Number(process.env.RUNS ?? 7);
const CLOUD = process.env.CLOUD ?? 'sp1';
const OCX = new URL('../packages/cli/bin/ocx.js', import.meta.url).pathname;
const BASELINE_OCX = process.env.BASELINE_OCX;
/**
 * `ocx server list --os-cloud sp1` on devcloud with the CLI before lazy loading and the token cache (main at
 * 71759c0, BASELINE_OCX run of this bench: median of 5, 2026-12-06, machine loaded by other work, load ~12).
 */
const RECORDED_DEVCLOUD_BASELINE_MS = Number(process.env.RECORDED_BASELINE_MS ?? 1500) || undefined;

interface Timed {
  ms: number;
  code: number | null;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string | undefined>): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, stderr }));
  });
}

async function timed(label: string, cmd: string, args: string[], env: Record<string, string | undefined>) {
  const r = await run(cmd, args, env);
  if (r.code !== 0) throw new Error(`${label} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
  return r.ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function hasOpenstack(env: Record<string, string | undefined>): Promise<boolean> {
  try {
    return (await run('openstack', ['--version'], env)).code === 0;
  } catch {
    return false;
  }
}

/** The cloud's Keystone answers within 3 s (the real stack is up). */
async function reachable(cloudsFile: string, cloud: string): Promise<boolean> {
  if (!existsSync(cloudsFile)) return false;
  const { parse } = await import('yaml');
  const doc = parse(readFileSync(cloudsFile, 'utf8')) as { clouds?: Record<string, { auth?: { auth_url?: string } }> };
  const url = doc.clouds?.[cloud]?.auth?.auth_url;
  if (!url) return false;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const cacheHome = mkdtempSync(join(tmpdir(), 'ocx-bench-cli-'));
  const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
  const base = { ...process.env, XDG_CACHE_HOME: cacheHome, OS_CLIENT_CONFIG_FILE: cloudsFile };
  let stop: (() => Promise<void>) | undefined;
  let mode: 'real' | 'devcloud' = 'real';
  try {
    const forceDevcloud = process.env.MODE === 'devcloud';
    if (forceDevcloud || !((await hasOpenstack(base)) && (await reachable(cloudsFile, CLOUD)))) {
      mode = 'devcloud';
      const { startDevcloud } = await import('@ocx/devcloud');
      const devClouds = join(cacheHome, 'clouds.yaml');
      const dc = await startDevcloud({ clouds: ['idp', 'sp1', 'sp2'], cloudsYamlPath: devClouds, logLevel: 'silent' });
      stop = () => dc.stop();
      base.OS_CLIENT_CONFIG_FILE = devClouds;
    }
    const env = base;
    const list = ['server', 'list', '--os-cloud', CLOUD];
    console.log(`mode: ${mode} (${env.OS_CLIENT_CONFIG_FILE}), cloud ${CLOUD}, ${RUNS} runs`);
    const first = await timed('ocx', process.execPath, [OCX, ...list], env);
    const ocx: number[] = [];
    const osc: number[] = [];
    const old: number[] = [];
    const cloudList: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ocx.push(await timed('ocx', process.execPath, [OCX, ...list], env));
      cloudList.push(await timed('ocx cloud list', process.execPath, [OCX, 'cloud', 'list'], env));
      if (mode === 'real') osc.push(await timed('openstack', 'openstack', list, env));
      if (BASELINE_OCX) old.push(await timed('baseline ocx', process.execPath, [BASELINE_OCX, ...list], env));
    }
    console.log(`ocx server list, first run (empty token cache): ${fmt(first)}`);
    console.log(`ocx server list, median (token cache warm): ${fmt(median(ocx))}  [${ocx.map(fmt).join(', ')}]`);
    console.log(`ocx cloud list (no network), median: ${fmt(median(cloudList))}`);
    if (BASELINE_OCX) console.log(`baseline ocx (${BASELINE_OCX}), median: ${fmt(median(old))}`);
    if (mode === 'real') {
      console.log(`openstack server list, median: ${fmt(median(osc))}  [${osc.map(fmt).join(', ')}]`);
      console.log(`first ocx run / openstack median: ${(first / median(osc)).toFixed(2)}`);
      console.log(`cli ratio: ${(median(ocx) / median(osc)).toFixed(2)}`);
    } else {
      const baseline = BASELINE_OCX ? median(old) : RECORDED_DEVCLOUD_BASELINE_MS;
      if (baseline === undefined) console.log('cli ratio vs recorded baseline: n/a (no baseline recorded)');
      else console.log(`cli ratio vs recorded baseline (${fmt(baseline)}): ${(median(ocx) / baseline).toFixed(2)}`);
    }
  } finally {
    await stop?.();
    rmSync(cacheHome, { recursive: true, force: true });
  }
}

await main();
