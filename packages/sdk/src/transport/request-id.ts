// The request-id header names live with the rest of the OpenStack wire knowledge.
export { REQUEST_ID_HEADERS, requestIdFrom } from '../wire/headers.ts';
