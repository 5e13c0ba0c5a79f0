/** Start storage-fake-server.ts as a child and read its peak resident memory from /proc. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  baseUrl: string;
  /** Peak resident set size of the server process so far, bytes (VmHWM). */
  peakRss(): number;
  stop(): Promise<void>;
}

export async function startChildServer(): Promise<ChildServer> {
  const script = fileURLToPath(new URL('./storage-fake-server.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('child server did not start in 20 s')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once('exit', (code) => reject(new Error(`child server exited with ${code}`)));
  });
  return {
    baseUrl,
    peakRss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
      if (!m) throw new Error('VmHWM not found');
      return Number(m[1]) * 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
