/**
 * node:test reporter for the skip guard: writes one JSON line per skipped or todo test
 * ({file, name, kind, reason}) to its destination. Used beside the `tap` reporter on stdout, so the
 * runner's closing `# tests / # pass / # fail` lines stay where CI reads them. test/ci/skip-guard/check.ts
 * then compares the lines with allowed-skips.txt.
 */
import { relative } from 'node:path';

type TestEvent = {
  type: string;
  data: { name?: string; file?: string; skip?: string | boolean; todo?: string | boolean };
};

export default async function* skipGuardReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, file, skip, todo } = event.data;
    const kind = skip !== undefined && skip !== false ? 'skip' : todo !== undefined && todo !== false ? 'todo' : null;
    if (!kind) continue;
    const why = kind === 'skip' ? skip : todo;
    yield `${JSON.stringify({
      file: file ? relative(process.cwd(), file) : '?',
      name: name ?? '?',
      kind,
      reason: typeof why === 'string' ? why : '',
    })}\n`;
  }
}
