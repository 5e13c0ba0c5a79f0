/**
 * Starting one of the benches' reference relays (bench/reference-relay.ts: raw TCP; bench/reference-relay-http.ts:
 * bare node:http + undici) in front of `upstream`, in a process of its own; the caller stops it with its children.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export async function startReferenceRelay(
  upstream: string,
  children: ChildProcess[],
  script = 'reference-relay.ts',
): Promise<string> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', script), upstream], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(m[1]!);
      else reject(new Error(`reference relay said: ${d}`));
    });
    child.once('exit', (code) => reject(new Error(`reference relay exited ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}
