/**
 * Prompt release of the buffers a stream moves through a process. Every chunk of a streamed blob (socket reads,
 * gRPC messages, rechunked pieces) is a fresh Buffer, garbage as soon as it has been passed on; V8 keeps its bytes
 * outside the heap, and the few heap bytes of the Buffer objects never fill even a small young generation, so no
 * scavenge comes: the backing stores are freed only when external memory passes V8's ~64 MiB mark and a full
 * mark-compact runs. A process moving a 1 GiB image then grows its RSS by 75–110 MB. A young-generation collection
 * (well under a millisecond with a small heap) every few MiB moved frees them while they are young.
 *
 * Measured (Node 24): a loop allocating 1024 buffers of 1 MiB with 8 alive — no hints: RSS growth 96–125 MB and
 * 835 ms; a minor GC every 8 MiB: 24 MB and 277 ms (freed pages are reused instead of faulted in fresh); a major GC
 * every 8 MiB: 31 MB but 1.8 s. Through the proxy (1 GiB): 75–90 → 17 MB; through `ocx gateway` (1 GiB download):
 * 98–109 → 13–22 MB with a hint every 2 MiB (BENCHMARKS.md).
 *
 * `gc` is reached the way V8 offers it to a new context once `--expose-gc` is set at run time; where that is not
 * possible, the counters do nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: GcFn | undefined | null = null;

function collector(): GcFn | undefined {
  if (gc === null) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as GcFn;
    } catch {
      gc = undefined;
    }
  }
  return gc;
}

/**
 * A counter of streamed bytes that collects the young generation after every `everyBytes` (0 or less: never). One
 * counter per kind of stream in a process is enough; it counts all the streams that call it.
 */
export function youngGcEvery(everyBytes: number): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    if (everyBytes <= 0) return;
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    collector()?.({ type: 'minor' });
  };
}
