// Public exports of config/ (owned by the engineer working on config/).

export { canonicalServiceType, isKnownServiceType, serviceTypeAliases } from '../wire/service-types.ts';
export { overridesFromEnv } from './env.ts';
export {
  type CloudsConfig,
  cloudFromEnv,
  type GetCloudOptions,
  k2kCloudConfig,
  type LoadCloudsConfigOptions,
  loadCloudsConfig,
} from './loader.ts';
export type * from './types.ts';
