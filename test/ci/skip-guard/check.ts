/**
 * The skip guard's verdict: reads the JSON lines test/ci/skip-guard/reporter.ts wrote (one file per
 * `node --test` run) and lists every skipped or todo test with its reason. In strict mode (CI=true or
 * OCX_STRICT_SKIPS=1) it exits 1 when a skipped test is not on allowed-skips.txt, so CI cannot pass
 * while quietly skipping; otherwise it only warns (a laptop without nginx or PostgreSQL).
 *
 *   node test/ci/skip-guard/check.ts SKIPS.jsonl... [--allow FILE]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Skip = { file: string; name: string; kind: 'skip' | 'todo'; reason: string };
type Allowed = { file: string; name: string; reason: string };

/** allowed-skips.txt: `file | test name | reason` per line, `#` comments; a reason is required. */
export function parseAllowList(text: string, source: string): Allowed[] {
  const out: Allowed[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split('|').map((p) => p.trim());
    if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) {
      throw new Error(`${source}:${i + 1}: expected "file | test name | reason" (a reason is required)`);
    }
    out.push({ file: parts[0], name: parts[1], reason: parts[2] });
  });
  return out;
}

export function parseSkips(text: string): Skip[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Skip);
}

export function judge(skips: Skip[], allowed: Allowed[]): { allowed: Skip[]; refused: Skip[] } {
  const ok = (s: Skip) => allowed.some((a) => a.file === s.file && a.name === s.name);
  return { allowed: skips.filter(ok), refused: skips.filter((s) => !ok(s)) };
}

function main(argv: string[]): number {
  const here = dirname(fileURLToPath(import.meta.url));
  let allowFile = join(here, 'allowed-skips.txt');
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--allow') allowFile = argv[++i] ?? allowFile;
    else files.push(argv[i]!);
  }
  const strict = process.env.CI === 'true' || process.env.OCX_STRICT_SKIPS === '1';
  const allowed = parseAllowList(existsSync(allowFile) ? readFileSync(allowFile, 'utf8') : '', allowFile);
  const skips = files.flatMap((f) => (existsSync(f) ? parseSkips(readFileSync(f, 'utf8')) : []));
  const verdict = judge(skips, allowed);
  const show = (s: Skip) => `  ${s.kind} ${s.file} › ${s.name}${s.reason ? ` (${s.reason})` : ''}`;
  for (const s of verdict.allowed) console.log(`${show(s)} [allowed]`);
  for (const s of verdict.refused) console.log(show(s));
  const summary = `skip guard: ${skips.length} skipped/todo, ${verdict.allowed.length} on ${allowFile.replace(`${process.cwd()}/`, '')}, ${verdict.refused.length} not allowed`;
  if (verdict.refused.length && strict) {
    console.log(
      `# ${summary}: FAIL (strict: CI=true or OCX_STRICT_SKIPS=1; install what they need or add them with a reason)`,
    );
    return 1;
  }
  console.log(`# ${summary}${verdict.refused.length ? ' (not strict: a warning only)' : ''}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
