/**
 * A young-generation collection after every 2 MiB of blob bytes the gateway moves, when `ocx gateway` runs with
 * `--expose-gc` (bin/ocx.js starts it so; elsewhere this does nothing).
 *
 * Why: the bytes move in fresh 1 MiB buffers (ours, connect-es's envelopes, protobuf-es's writer), which V8 keeps
 * outside its heap. Their few on-heap bytes never fill even a 1 MiB young generation, so no scavenge comes, and the
 * buffers are freed only when external memory passes V8's ~64 MiB mark and a full mark-compact runs: a download
 * through the gateway grew its RSS by 78–105 MB. Measured on a loop allocating 1 MiB buffers with 8 alive (1024 of
 * them, Node 24): RSS growth 96–125 MB and 835 ms without hints; with a minor GC every 8 MiB 24 MB and 277 ms (the
 * freed pages are reused instead of faulted in fresh); a major GC every 8 MiB 31 MB but 1.8 s. Through `ocx gateway`
 * (`PARTS=transfers TRANSFER_MB=1024 npm run bench:gateway`, 1 GiB down): no hints 98–109 MB of RSS growth and
 * 6.3–8.7 CPU s per GiB in the gateway; every 8 MiB 74 MB; every 4 MiB 35–39 MB; every 2 MiB 13–22 MB and 3.3–5.1 s.
 */
/** OCX_GATEWAY_GC_HINT_MB sets the interval (0: no hints). */
const EVERY_BYTES = Number(process.env.OCX_GATEWAY_GC_HINT_MB ?? 2) * 1024 * 1024;
const gc = (globalThis as { gc?: (options?: { type?: 'minor' | 'major' }) => void }).gc;
let moved = 0;

/** Count `n` bytes moved; collect the young generation after each EVERY_BYTES. */
export function movedBytes(n: number): void {
  if (!gc || EVERY_BYTES <= 0) return;
  moved += n;
  if (moved < EVERY_BYTES) return;
  moved = 0;
  gc({ type: 'minor' });
}
