/**
 * Prompt release of streamed buffers in the proxy: a young-generation collection every 8 MiB of streamed bodies
 * (the SDK's youngGcEvery, which says why; the proxy's RSS rose 75-90 MB during a 1 GiB transfer without it, +17 MB
 * with it).
 */
import { youngGcEvery } from '@ocx/sdk';

/** Count bytes of a streamed body that went through; collect young garbage every 8 MiB. */
export const noteStreamed = youngGcEvery(8 * 1024 * 1024);
