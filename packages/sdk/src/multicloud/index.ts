// Public exports of multicloud/ (owned by the engineer working on multicloud/).

export { CloudConnection } from './connection.ts';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_DEADLINE_MS,
  type FanOutContext,
  type FanOutOptions,
  fanOut,
  type Settled,
} from './fanout.ts';
export { GatewayConnection } from './gateway-connection.ts';
export { allFailed, MultiCloud } from './multicloud.ts';
export { defaultSessionFactory } from './session-factory.ts';
export type * from './types.ts';
