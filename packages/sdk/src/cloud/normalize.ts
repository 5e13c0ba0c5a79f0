/**
 * Raw API records → normalized resources. Known keys become model fields; the rest go to `properties`.
 * One module per service under normalize/; this file gathers them.
 */
export { normalizeComputeLimits, normalizeFlavor, normalizeKeypair, normalizeServer } from './normalize/compute.ts';
export { normalizeImage } from './normalize/image.ts';
export { type LocationBase, makeLocation } from './normalize/location.ts';
export {
  normalizeFloatingIp,
  normalizeNetwork,
  normalizePort,
  normalizeSecurityGroup,
  normalizeSecurityGroupRule,
} from './normalize/network.ts';
export {
  containerFromStat,
  normalizeContainer,
  normalizeObject,
  objectFromStat,
} from './normalize/object-store.ts';
export { normalizeVolume } from './normalize/volume.ts';
