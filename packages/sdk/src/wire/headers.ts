/** Header names of the OpenStack wire protocol: request ids and microversions. */

/** Headers OpenStack services use for their request id, most specific first. */
export const REQUEST_ID_HEADERS = [
  'x-openstack-request-id',
  'x-compute-request-id',
  'x-trans-id',
  'x-openstack-nova-api-version-request-id',
  'openstack-request-id',
  'x-request-id',
] as const;

/** Response headers as undici gives them: lower-case names, a repeated header as an array. */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** The request id of a response, from the first of REQUEST_ID_HEADERS it carries. */
export function requestIdFrom(headers: Headers | RawHeaders): string | undefined {
  const whatwg = headers instanceof Headers;
  for (const name of REQUEST_ID_HEADERS) {
    const raw = whatwg ? headers.get(name) : headers[name];
    const v = Array.isArray(raw) ? raw.join(', ') : raw;
    if (v) return v.split(',')[0]?.trim();
  }
  return undefined;
}

/** The generic microversion header: `OpenStack-API-Version: <service name> <version>`. */
export const MICROVERSION_HEADER = 'openstack-api-version';

/** The service name inside OpenStack-API-Version, for the services that have microversions. */
export const MICROVERSION_HEADER_NAME: Readonly<Record<string, string>> = {
  compute: 'compute',
  'block-storage': 'volume',
  placement: 'placement',
  'shared-file-system': 'sharev2',
  baremetal: 'baremetal',
  'container-infrastructure-management': 'container-infra',
  'key-manager': 'key-manager',
};

/** Per-service legacy microversion headers older clients and servers still use. */
export const LEGACY_MICROVERSION_HEADER: Readonly<Record<string, string>> = {
  compute: 'x-openstack-nova-api-version',
  'shared-file-system': 'x-openstack-manila-api-version',
};

/** Headers that carry a microversion: `OpenStack-API-Version: compute 2.79` (+ the legacy one where there is one). */
export function microversionHeaders(serviceType: string, version: string): Record<string, string> {
  const name = MICROVERSION_HEADER_NAME[serviceType] ?? serviceType;
  const headers: Record<string, string> = { [MICROVERSION_HEADER]: `${name} ${version}` };
  const legacy = LEGACY_MICROVERSION_HEADER[serviceType];
  if (legacy) headers[legacy] = version;
  return headers;
}
