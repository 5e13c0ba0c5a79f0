/** Headers OpenStack services use for their request id, most specific first. */
export const REQUEST_ID_HEADERS = [
  'x-openstack-request-id',
  'x-compute-request-id',
  'x-trans-id',
  'x-openstack-nova-api-version-request-id',
  'openstack-request-id',
  'x-request-id',
] as const;

export function requestIdFrom(headers: Headers): string | undefined {
  for (const name of REQUEST_ID_HEADERS) {
    const v = headers.get(name);
    if (v) return v.split(',')[0]?.trim();
  }
  return undefined;
}
