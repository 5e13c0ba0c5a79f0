// Public exports of gateway-backend/: the cloud layer over an OCX gateway (clouds.yaml `gateway:`).
export { type CallBounds, GatewayClient, type GatewayClientOptions } from './client.ts';
export { GatewayCloud } from './gateway-cloud.ts';
export type { WatchEvent } from './gateway-compute.ts';
export type { GatewayCloudInit } from './gateway-core.ts';
export { openCloud } from './open.ts';
export { releaseStreamedMessages } from './release.ts';
export {
  chunkFrameHeader,
  FramingSessionManager,
  framedChunk,
  parkChunk,
  type UploadFrames,
  uploadFrames,
} from './upload-frames.ts';
