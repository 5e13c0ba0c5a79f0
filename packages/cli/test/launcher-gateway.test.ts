/**
 * `ocx gateway` through bin/ocx.js runs in a child process (it needs a V8 flag given at start), so the launcher must
 * not leave it behind: SIGKILL the launcher and the gateway ends too (its IPC pipe to the launcher closes), and
 * SIGTERM reaches it as before.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';

const bin = new URL('../bin/ocx.js', import.meta.url).pathname;

/** The pid of the process whose command line runs main.ts `gateway` with this clouds file (the launcher's child). */
function gatewayChild(cloudsYaml: string, launcher: number): number | undefined {
  for (const pid of readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(/\s+/)) {
    if (!pid) continue;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmd.some((a) => a.endsWith('src/main.ts')) && cmd.includes(cloudsYaml)) return Number(pid);
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

describe('the launcher and its `ocx gateway` child', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let cloudsYaml: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-launcher-'));
    cloudsYaml = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp'], cloudsYamlPath: cloudsYaml, logLevel: 'silent' });
  });
  after(async () => {
    await dc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal} to the launcher ends the gateway it started`, async () => {
      const launcher = spawn(
        process.execPath,
        [bin, 'gateway', '--home-cloud', 'idp-admin', '--clouds-file', cloudsYaml, '--listen', '127.0.0.1:0'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      launcher.stderr.on('data', (c: Buffer) => {
        out += c.toString();
      });
      await new Promise<void>((resolve, reject) => {
        launcher.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (/gRPC http:\/\/[\d.]+:\d+/.test(out)) resolve();
        });
        launcher.once('exit', (code) => reject(new Error(`the launcher exited early (${code}): ${out}`)));
      });
      const child = gatewayChild(cloudsYaml, launcher.pid!);
      assert.ok(child, `the gateway runs in a child of the launcher: ${out}`);
      assert.ok(alive(child));
      launcher.kill(signal);
      assert.ok(
        await gone(child, 10_000),
        `the gateway (pid ${child}) still runs 10 s after ${signal} to its launcher`,
      );
    });
  }
});
