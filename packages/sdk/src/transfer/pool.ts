import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';

/**
 * Run `work` over `count` parts with at most `threads` at once. The first failure aborts the others (through the
 * signal handed to `work`) and is what the pool rejects with; the caller's abort stops every part.
 */
export async function runParts(
  count: number,
  threads: number,
  signal: AbortSignal | undefined,
  work: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let next = 0;
  let firstError: unknown;
  let failed = false;
  const worker = async () => {
    while (!failed && !combined.aborted && next < count) {
      const index = next++;
      try {
        await work(index, combined);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
          stop.abort(err);
        }
      }
    }
  };
  const n = Math.max(1, Math.min(threads, count));
  await Promise.all(Array.from({ length: n }, worker));
  if (signal?.aborted) throw abortError(signal, firstError);
  if (failed) throw firstError;
}

/** The caller's abort as an OcxError: its reason when that is one (a fan-out deadline's TIMEOUT), else CANCELLED. */
export function abortError(signal: AbortSignal, cause?: unknown): OcxError {
  if (isOcxError(signal.reason)) return signal.reason;
  if (isOcxError(cause) && (cause.code === ErrorCode.CANCELLED || cause.code === ErrorCode.TIMEOUT)) return cause;
  return new OcxError(ErrorCode.CANCELLED, 'the transfer was cancelled by the caller', {}, { cause });
}
