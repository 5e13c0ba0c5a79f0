// Public exports of services/: thin typed clients, one per OpenStack service.
export {
  type ApiObject,
  type CallOptions as ServiceCallOptions,
  type ListOptions as ServiceListOptions,
  collect,
} from './common.ts';
export * from './identity.ts';
export * from './compute.ts';
export * from './block-storage.ts';
export * from './image.ts';
export * from './network.ts';
export * from './object-store.ts';
