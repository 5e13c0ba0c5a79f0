// Public surface of @ocx/proxy.

export { registerProxyRegion, unregisterProxyRegion } from './catalog-region.ts';
export { runProxyCommand } from './cli.ts';
export { openRemoteToken, sealRemoteToken, tokenHash } from './crypto.ts';
export { type OpenedDatabase, openDatabase } from './db/open.ts';
export { decodeMarker, encodeMarker, listAggregation, MISSING_HEADER, mergePages } from './extensions/aggregate.ts';
export { placement, volumeAttach, volumeCreateOnBoot } from './extensions/builtin.ts';
export type {
  CallSpec,
  Extension,
  ExtensionContext,
  ExtensionResponse,
  FanoutResult,
  RouteSpec,
  UpstreamResult,
} from './extensions/types.ts';
export type { RemoteToken, RemoteTokenRequest, RemoteTokenSource } from './k2k.ts';
export { findNginx, type LaneObservation, type LaneRoute, NativeLane } from './native/lane.ts';
export { SdkK2KTokenSource } from './sdk-k2k.ts';
export { type RunningProxy, type StartProxyOptions, startProxy } from './start.ts';
