// Public exports of cloud/: the shade-style cloud layer (nodepool's surface) and its normalized model.
export type * from './types.ts';
export {
  Cloud,
  type CloudOptions,
  type CreateImageOptions,
  type CreateServerOptions,
  type Ref,
  type WaitForServerOptions,
} from './cloud.ts';
export { connectCloud, type ConnectCloudOptions } from './connect.ts';
export { ListCache, type ListCacheOptions } from './list-cache.ts';
export { filterList, globToRegExp } from './filter.ts';
export {
  type AddressOptions,
  type NetworkConfig,
  type NetworkFacts,
  type ResolvedAddresses,
  isPrivateV4,
  networkFacts,
  resolveAddresses,
} from './addresses.ts';
export { IMAGE_MD5_KEY, IMAGE_SHA256_KEY, IMAGE_OBJECT_KEY } from './image-hash.ts';
