// Public exports of session/.

export { MICROVERSION_HEADER_NAME } from '../wire/headers.ts';
export { DEFAULT_API_VERSION, SERVICE_TYPE_ALIASES, serviceTypeCandidates } from '../wire/service-types.ts';
export { type EndpointQuery, expandEndpointTemplate, type SelectedEndpoint, selectEndpoint } from './catalog.ts';
export { discoverEndpoint, pickVersion, splitVersionedUrl, versionEntries } from './discovery.ts';
export { compareVersions, microversionHeaders, negotiateMicroversion, parseVersion } from './microversion.ts';
export { nextLink, paginate, resolveNext } from './paginate.ts';
export { appendQuery, joinUrl } from './service-client.ts';
export { CloudSession, createSession, k2kFromConfig } from './session.ts';
export type * from './types.ts';
