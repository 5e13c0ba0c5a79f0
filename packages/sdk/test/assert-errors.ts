import assert from 'node:assert/strict';
import { OcxError } from '../src/errors/index.ts';

/** Await `p` and assert it rejects with an OcxError of `code`; returns the error for further checks. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<OcxError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OcxError, `expected OcxError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected rejection with ${code}`);
}
