// Public exports of multicloud/ (owned by the engineer working on multicloud/).
export type * from './types.ts';
export { MultiCloud, allFailed } from './multicloud.ts';
export { CloudConnection } from './connection.ts';
export {
  fanOut,
  toOcxError,
  DEFAULT_CONCURRENCY,
  DEFAULT_DEADLINE_MS,
  type FanOutContext,
  type FanOutOptions,
  type Settled,
} from './fanout.ts';
export { defaultSessionFactory } from './session-factory.ts';
