// Public exports of auth/.
export type * from './types.ts';
