// Public exports of services/: thin typed clients, one per OpenStack service.

export * from './block-storage.ts';
export {
  type ApiObject,
  type CallOptions as ServiceCallOptions,
  collect,
  type ListOptions as ServiceListOptions,
} from './common.ts';
export * from './compute.ts';
export * from './identity.ts';
export * from './image.ts';
export * from './network.ts';
export * from './object-store.ts';
