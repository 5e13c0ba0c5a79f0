/**
 * Start-up: `ocx` loads only the module of the command it runs. A resolve hook in the child process records every
 * module URL it loads; a command must not pull in devcloud, the proxy or fastify, nor the other command modules.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloudsYaml, type MiniCloud, spawnOcx, startMiniCloud, writeClouds } from './minicloud.ts';

const HOOK = `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    if (!r.url.startsWith('node:')) process.stderr.write('LOADED ' + r.url + '\\n');
    return r;
  },
});
`;

let cloud: MiniCloud;
let files: ReturnType<typeof writeClouds>;
let hook: string;

before(async () => {
  cloud = await startMiniCloud('st', { servers: [{ id: 's1', name: 'vm', status: 'ACTIVE', addresses: {} }] });
  files = writeClouds(cloudsYaml([{ name: 'st', url: cloud.url }]));
  hook = join(files.dir, 'hook.mjs');
  writeFileSync(hook, HOOK);
});
after(async () => {
  await cloud.close();
  files.cleanup();
});

async function loaded(args: string[]) {
  // spawnOcx runs `node <script> args...`: here the "script" is the --import of the hook, then main.ts.
  const main = new URL('../src/main.ts', import.meta.url).pathname;
  const r = await spawnOcx([main, ...args], files.env, `--import=${hook}`);
  const urls = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => l.slice(7));
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('LOADED '))
    .join('\n');
  return { ...r, urls, stderr };
}

const HEAVY = [/\/packages\/devcloud\//, /\/packages\/proxy\//, /\/node_modules\/fastify\//, /\/src\/up\.ts$/];

describe('ocx start-up', () => {
  it('server list (global options before the command) loads its own command module and nothing heavy', async () => {
    const r = await loaded(['--timeout', '30', '--os-cloud', 'st', 'server', 'list', '-f', 'value', '-c', 'Name']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'vm\n');
    assert.ok(r.urls.some((u) => u.endsWith('/commands/server.ts')));
    for (const other of ['cloud', 'image', 'flavor', 'network', 'volume', 'token', 'devcloud', 'proxy', 'completion'])
      assert.ok(!r.urls.some((u) => u.endsWith(`/commands/${other}.ts`)), `commands/${other}.ts not loaded`);
    for (const heavy of HEAVY) assert.ok(!r.urls.some((u) => heavy.test(u)), `nothing matching ${heavy}`);
  });

  it('help lists every command without loading devcloud, the proxy or fastify', async () => {
    const r = await loaded(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['cloud', 'server', 'volume', 'devcloud', 'up', 'proxy', 'completion'])
      assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    for (const heavy of HEAVY) assert.ok(!r.urls.some((u) => heavy.test(u)), `nothing matching ${heavy}`);
  });

  it('ocx devcloud --help does load devcloud (the hook sees what is loaded)', async () => {
    const r = await loaded(['devcloud', '--help']);
    assert.equal(r.code, 0);
    assert.ok(r.urls.some((u) => /\/packages\/devcloud\//.test(u)));
  });
});
