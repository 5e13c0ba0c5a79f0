// Public exports of wire/: what OpenStack puts on the wire (service types, fault bodies, header names).

export {
  type DecodedFault,
  decodeFault,
  type EncodedFault,
  encodeFault,
  type FaultDialect,
  faultDialect,
  NEUTRON_FAULT_TYPES,
  NOVA_FAULT_NAMES,
  parseFaultMessage,
  reasonPhrase,
} from './faults.ts';
export {
  LEGACY_MICROVERSION_HEADER,
  MICROVERSION_HEADER,
  MICROVERSION_HEADER_NAME,
  microversionHeaders,
  REQUEST_ID_HEADERS,
  requestIdFrom,
} from './headers.ts';
export {
  canonicalServiceType,
  DEFAULT_API_VERSION,
  isKnownServiceType,
  SERVICE_TYPE_ALIASES,
  serviceTypeAliases,
  serviceTypeCandidates,
} from './service-types.ts';
