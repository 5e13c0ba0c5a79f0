// @ocx/gateway: the gRPC gateway (nodepool's surface over many clouds; see docs/gateway.md).

export * from '@ocx/sdk/gen/ocx/auth/v1/auth_service_pb';
export * from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
export * from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
export * from '@ocx/sdk/gen/ocx/cloud/v1/resources_pb';
export * from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
export { type ProjectRef, UserClouds } from './auth/user-clouds.ts';
export { GATEWAY_USAGE, gatewayBanner, runGatewayCommand } from './cli.ts';
export { GRPC_CODE_OF, toConnectError } from './errors.ts';
export { type Gateway, type GatewayOptions, type GatewayTls, isLoopback, startGateway } from './server.ts';
export { MAX_CHUNK, SEND_CHUNK } from './services/transfers.ts';
export { type ServerEvent, ServerWatchHub } from './watch/hub.ts';
export { SESSION_WINDOW, STREAM_WINDOW, WideWindowSessionManager } from './windows.ts';
