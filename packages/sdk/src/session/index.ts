// Public exports of session/.
export type * from './types.ts';
export { CloudSession, createSession, k2kFromConfig } from './session.ts';
export {
  SERVICE_TYPE_ALIASES,
  serviceTypeCandidates,
  MICROVERSION_HEADER_NAME,
  DEFAULT_API_VERSION,
} from './service-types.ts';
export { selectEndpoint, expandEndpointTemplate, type EndpointQuery, type SelectedEndpoint } from './catalog.ts';
export { discoverEndpoint, splitVersionedUrl, versionEntries, pickVersion } from './discovery.ts';
export { negotiateMicroversion, microversionHeaders, parseVersion, compareVersions } from './microversion.ts';
export { paginate, nextLink, resolveNext } from './paginate.ts';
export { appendQuery, joinUrl } from './service-client.ts';
