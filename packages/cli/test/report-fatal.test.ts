/** `reportFatal`: whatever was thrown prints as one `Error: [CODE] message` line (OcxError.from), exit status 1. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, OcxError } from '@ocx/sdk';
import type { CliContext } from '../src/context.ts';
import { reportFatal } from '../src/run.ts';

function report(err: unknown): { stderr: string; exitCode: number } {
  let stderr = '';
  const ctx: CliContext = {
    env: {},
    cwd: '/',
    errIsTTY: false,
    out: () => {},
    err: (t) => {
      stderr += t;
    },
    exitCode: 0,
  };
  reportFatal(ctx, err);
  return { stderr, exitCode: ctx.exitCode };
}

describe('reportFatal', () => {
  it('an OcxError as it is, on one line', () => {
    assert.deepEqual(report(new OcxError(ErrorCode.NOT_FOUND, 'no such\nthing')), {
      stderr: 'Error: [NOT_FOUND] no such thing\n',
      exitCode: 1,
    });
  });

  it('anything else converted, so it has a code too, and no stack trace', () => {
    const bug = report(new TypeError('x is not a function'));
    assert.equal(bug.stderr, 'Error: [SERVICE_ERROR] unexpected error: x is not a function\n');
    assert.equal(bug.exitCode, 1);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    assert.match(report(refused).stderr, /^Error: \[UNREACHABLE\] .*\(ECONNREFUSED\)\n$/);
    assert.equal(report('plain text').stderr, 'Error: [SERVICE_ERROR] unexpected error: plain text\n');
  });
});
