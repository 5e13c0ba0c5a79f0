/**
 * A young-generation collection after every 2 MiB of blob bytes the gateway moves (the SDK's youngGcEvery, which
 * says why). Through `ocx gateway` (`PARTS=transfers TRANSFER_MB=1024 npm run bench:gateway`, 1 GiB down): no hints
 * 98–109 MB of RSS growth and 6.3–8.7 CPU s per GiB in the gateway; every 8 MiB 74 MB; every 4 MiB 35–39 MB; every
 * 2 MiB 13–22 MB and 3.3–5.1 s. OCX_GATEWAY_GC_HINT_MB sets the interval (0: no hints).
 */
import { youngGcEvery } from '@ocx/sdk';

export const movedBytes = youngGcEvery(Number(process.env.OCX_GATEWAY_GC_HINT_MB ?? 2) * 1024 * 1024);
