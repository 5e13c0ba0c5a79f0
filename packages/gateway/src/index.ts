// @ocx/gateway: the gRPC gateway (see docs/gateway.md).
export * from './gen/ocx/cloud/v1/cloud_service_pb.ts';
