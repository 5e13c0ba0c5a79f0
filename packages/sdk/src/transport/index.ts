// Public exports of transport/.
export type * from './types.ts';
