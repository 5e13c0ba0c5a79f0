/**
 * `CloudLayer`: what callers of the cloud layer rely on — every public member of `Cloud` — with two backends behind
 * it: `Cloud` (REST to the cloud's own APIs through a Session) and `GatewayCloud` (gRPC to an OCX gateway, for a
 * clouds.yaml cloud with `gateway:`; gateway-backend/). Code that takes a cloud layer takes a `CloudLayer`, so it
 * works on either; only what needs the REST internals (the core) takes `Cloud`.
 */
import type { Cloud } from './cloud.ts';

export type CloudLayer = { [K in keyof Cloud]: Cloud[K] };
