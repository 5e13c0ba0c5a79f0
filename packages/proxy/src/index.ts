// Public surface of @ocx/proxy.
export { startProxy, type StartProxyOptions, type RunningProxy } from './start.ts';
export type {
  Extension,
  ExtensionContext,
  ExtensionResponse,
  RouteSpec,
  CallSpec,
  FanoutResult,
  UpstreamResult,
} from './extensions/types.ts';
export { listAggregation, MISSING_HEADER, encodeMarker, decodeMarker, mergePages } from './extensions/aggregate.ts';
export { volumeCreateOnBoot, volumeAttach, placement } from './extensions/builtin.ts';
export type { RemoteTokenSource, RemoteToken, RemoteTokenRequest } from './k2k.ts';
export { K2KTokenSource } from './k2k.ts';
export { openDatabase, type OpenedDatabase } from './db/open.ts';
export { sealRemoteToken, openRemoteToken, tokenHash } from './crypto.ts';
export { runProxyCommand } from './cli.ts';
export { SdkK2KTokenSource } from './sdk-k2k.ts';
export { registerProxyRegion, unregisterProxyRegion } from './catalog-region.ts';
