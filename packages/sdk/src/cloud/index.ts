// Public exports of cloud/: the shade-style cloud layer (nodepool's surface) and its normalized model.

export {
  type AddressOptions,
  isPrivateV4,
  type NetworkConfig,
  type NetworkFacts,
  networkFacts,
  type ResolvedAddresses,
  resolveAddresses,
} from './addresses.ts';
export { Cloud, type CloudOptions, type Ref } from './cloud.ts';
export { type ConnectCloudOptions, connectCloud } from './connect.ts';
export { filterList, globToRegExp, looksLikeId } from './filter.ts';
export type { ListFlavorsOptions } from './flavors.ts';
export type { CreateFloatingIpOptions } from './floating-attach.ts';
export { IMAGE_MD5_KEY, IMAGE_OBJECT_KEY, IMAGE_SHA256_KEY } from './image-hash.ts';
export type { CreateImageOptions, ListImagesOptions } from './images.ts';
export type { CloudLayer } from './layer.ts';
export { ListCache, type ListCacheOptions } from './list-cache.ts';
export type { CreateSubnetOptions } from './network-manage.ts';
export type { CreatePortOptions } from './network-update.ts';
export { isFolder, type ListObjectEntriesOptions, type PageOptions } from './objects.ts';
export type { CreateRuleOptions } from './security-groups.ts';
export type { CreateServerOptions } from './server-create.ts';
export { POWER_ACTION_TARGET, type PowerAction, type PowerOptions } from './server-power.ts';
export type { WaitForServerOptions } from './server-wait.ts';
export type { ListServersOptions } from './servers.ts';
export type * from './types.ts';
export type { AttachOptions, ServerVolumeAttachment } from './volume-attach.ts';
export type { CreateVolumeOptions } from './volumes.ts';
