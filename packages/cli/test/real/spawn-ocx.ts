/** `ocx` spawned as a user runs it (`packages/cli/bin/ocx.js` in a new process), for the real-OpenStack suites. */
import { type ChildProcess, spawn } from 'node:child_process';

const OCX = new URL('../../bin/ocx.js', import.meta.url).pathname;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Start `ocx ARGS` with only `env` (plus PATH): no OS_* variable or token cache of the test runner reaches it.
 * `done` resolves when it exits (killed after `timeoutMs`); `child` is there to interrupt it.
 */
export function spawnOcx(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 300_000,
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [OCX, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin', ...env },
    timeout: timeoutMs,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}
