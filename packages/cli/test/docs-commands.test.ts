/**
 * docs/cli.md shows captured output for every command of `ocx --help`'s tree: each leaf command (`server add volume`,
 * `router unset`, ...) appears on at least one `$ ocx …` line of docs/cli.md or docs/quotas.md (global options such
 * as `--os-cloud sp1` may come first, as users type them). A command added without documenting it fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Command } from 'commander';
import type { CliContext } from '../src/context.ts';
import { buildProgram } from '../src/program.ts';

const DOCS = ['../../../docs/cli.md', '../../../docs/quotas.md'].map((p) => new URL(p, import.meta.url));

function leaves(cmd: Command, path: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [path];
  return subs.flatMap((c) => leaves(c, [...path, c.name()]));
}

/** The words of a `$ ocx …` line with the global options (and their values) taken out. */
function commandWords(program: Command, line: string): string[] {
  const words = line.replace(/#.*$/, '').trim().split(/\s+/).slice(2); // after '$ ocx'
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const opt = program.options.find((o) => o.long === w);
    if (opt) {
      if (opt.required || opt.optional) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

test('every command of ocx --help has captured output in docs/cli.md (or docs/quotas.md)', async () => {
  const ctx: CliContext = { env: {}, cwd: process.cwd(), out: () => {}, err: () => {}, exitCode: 0 };
  const program = await buildProgram(ctx);
  const all = leaves(program);
  assert.ok(all.length > 40, `only ${all.length} commands found: the walk is broken`);
  const lines = DOCS.flatMap((u) => readFileSync(u, 'utf8').split('\n')).filter((l) => l.startsWith('$ ocx '));
  const used = lines.map((l) => commandWords(program, l).join(' '));
  const missing = all.filter((path) => !used.some((u) => `${u} `.startsWith(`${path.join(' ')} `)));
  assert.deepEqual(
    missing.map((p) => p.join(' ')),
    [],
    'commands with no `$ ocx …` example in the docs',
  );
});
