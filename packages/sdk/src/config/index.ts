// Public exports of config/ (owned by the engineer working on config/).
export type * from './types.ts';
export {
  type CloudsConfig,
  type GetCloudOptions,
  type LoadCloudsConfigOptions,
  cloudFromEnv,
  k2kCloudConfig,
  loadCloudsConfig,
} from './loader.ts';
export { overridesFromEnv } from './env.ts';
export { canonicalServiceType, isKnownServiceType, serviceTypeAliases } from './service-types.ts';
