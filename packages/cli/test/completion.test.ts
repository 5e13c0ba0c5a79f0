/**
 * `ocx completion bash|zsh`: the scripts are generated from the program, so what a user gets on <Tab> is checked
 * by sourcing the bash script in a real bash and calling its completion function the way bash does.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloudsYaml, runOcx, writeClouds } from './minicloud.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
let files: ReturnType<typeof writeClouds>;
let bashFile: string;
let zshFile: string;
let ocxBin: string;

before(async () => {
  files = writeClouds(
    cloudsYaml([
      { name: 'east', url: 'http://127.0.0.1:9' },
      { name: 'west', url: 'http://127.0.0.1:9' },
    ]),
  );
  const bash = await runOcx(['completion', 'bash'], files.env);
  assert.equal(bash.code, 0);
  assert.equal(bash.stderr, '');
  bashFile = join(files.dir, 'ocx.bash');
  writeFileSync(bashFile, bash.stdout);
  const zsh = await runOcx(['completion', 'zsh'], files.env);
  assert.equal(zsh.code, 0);
  zshFile = join(files.dir, '_ocx');
  writeFileSync(zshFile, zsh.stdout);
  // What the script runs to list clouds: an `ocx` on this test's clouds.yaml.
  ocxBin = join(files.dir, 'ocx');
  writeFileSync(
    ocxBin,
    `#!/bin/sh\nOS_CLIENT_CONFIG_FILE='${files.env.OS_CLIENT_CONFIG_FILE}' HOME='${files.dir}' exec '${process.execPath}' '${MAIN}' "$@"\n`,
  );
  chmodSync(ocxBin, 0o755);
});
after(() => files.cleanup());

/** The completions bash offers for the command line `words` (the last word is the one being completed). */
function complete(words: string[]): string[] {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ocx; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', script, 'bash', bashFile, ...words], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

describe('ocx completion bash', () => {
  it('registers the function for ocx', () => {
    const out = execFileSync('bash', ['-c', 'source "$1"; complete -p ocx', 'bash', bashFile], { encoding: 'utf8' });
    assert.equal(out.trim(), 'complete -F _ocx ocx');
  });

  it('completes commands and subcommands', () => {
    assert.deepEqual(complete(['ocx', 'ser']), ['server']);
    const top = complete(['ocx', '']);
    for (const c of ['cloud', 'server', 'image', 'flavor', 'network', 'volume', 'token', 'completion'])
      assert.ok(top.includes(c), `${c} is offered`);
    assert.deepEqual(complete(['ocx', 'server', '']), [
      'list',
      'create',
      'show',
      'delete',
      'reboot',
      'stop',
      'start',
      'console',
      'address',
      'add',
      'remove',
      'reassign',
    ]);
    assert.deepEqual(complete(['ocx', 'token', 'i']), ['issue']);
  });

  it('skips global options and their values to find the command', () => {
    assert.deepEqual(complete(['ocx', '--os-cloud', 'east', '--timeout', '5', 'server', 'l']), ['list']);
    assert.deepEqual(complete(['ocx', '--insecure', 'cl']), ['cloud']);
  });

  it("completes a command's own options and the global ones", () => {
    assert.deepEqual(complete(['ocx', 'server', 'list', '--no-n']), ['--no-name-lookup']);
    assert.deepEqual(complete(['ocx', 'server', 'list', '--os-c']).sort(), ['--os-cacert', '--os-cloud']);
    assert.deepEqual(complete(['ocx', 'server', 'list', '--form']), ['--format']);
    assert.deepEqual(complete(['ocx', 'cloud', 'list', '--no-n']), [], 'not another command option');
  });

  it('completes the values of -f and the configured clouds for --os-cloud', () => {
    assert.deepEqual(complete(['ocx', 'server', 'list', '-f', '']), ['table', 'json', 'yaml', 'value', 'csv']);
    assert.deepEqual(complete(['ocx', 'image', 'list', '--format', 'y']), ['yaml']);
    assert.deepEqual(complete([ocxBin, '--os-cloud', '']), ['east', 'west']);
    assert.deepEqual(complete([ocxBin, 'server', 'list', '--os-cloud', 'w']), ['west']);
  });

  it('rejects an unknown shell', async () => {
    const r = await runOcx(['completion', 'fish'], files.env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected one of bash, zsh/);
  });
});

/** zsh code (not a template): load the script, print the tree's type and one entry, and what _ocx is. */
const ZSH_CHECK = [
  'autoload -U compinit && compinit -u -D',
  'source "$1"',
  'print -r -- $' + '{(t)_ocx_subs} $' + '{_ocx_subs[ocx server]}',
  'whence -w _ocx',
].join('; ');

describe('ocx completion zsh', () => {
  const zsh = spawnSync('zsh', ['--version']);
  // CI installs zsh (test/real/lib/install.sh, group clients): there a missing zsh fails the test, never skips it.
  const skip = zsh.error && process.env.CI !== 'true' ? 'zsh is not installed on this machine' : false;

  it('is valid zsh that defines _ocx and the command tree', { skip }, () => {
    const out = execFileSync('zsh', ['-c', ZSH_CHECK, 'zsh', zshFile], { encoding: 'utf8' });
    assert.equal(
      out.trim(),
      'association list create show delete reboot stop start console address add remove reassign\n_ocx: function',
    );
  });
});
